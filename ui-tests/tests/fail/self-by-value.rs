// A hook that takes `self` by value.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn connect(self, _client: ClientId) {}
}
