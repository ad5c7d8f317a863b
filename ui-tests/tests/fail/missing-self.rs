// A hook written as an associated function.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn disconnect(_client: ClientId) {}
}
