// The context taken as a trait object.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn connect(&mut self, _client: ClientId, _ctx: &dyn StateroomContext) {}
}
