// A reconnection window without a unit.
#[derive(Default)]
struct Room;

#[stateroom::service(reconnect = "30")]
impl Room {}
