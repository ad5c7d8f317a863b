// A `message` hook whose message parameter is missing: the context sits in its place.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn message(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}
}
