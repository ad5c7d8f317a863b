// An `invalid` hook without the error parameter.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn invalid(&mut self, _client: ClientId) {}
}
