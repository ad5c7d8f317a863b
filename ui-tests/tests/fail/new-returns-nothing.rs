// A `new` hook without a return type.
struct Room;

#[stateroom::service]
impl Room {
    fn new(_room_id: &str) {}
}
