// `connect` with a parameter too many.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn connect(&mut self, _client: ClientId, _ctx: &impl StateroomContext, _extra: u32) {}
}
