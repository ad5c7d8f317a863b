// `message` without the message.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn message(&mut self, _client: ClientId) {}
}
