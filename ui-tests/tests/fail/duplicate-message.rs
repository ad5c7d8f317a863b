// Two `message` hooks: our error only, not rustc's "duplicate definitions" too.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn message(&mut self, _client: ClientId, _text: &str) {}

    fn message(&mut self, _client: ClientId, _text: String) {}
}
