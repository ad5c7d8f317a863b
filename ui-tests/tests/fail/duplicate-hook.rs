// The same hook twice.
use stateroom::StateroomContext;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn timer(&mut self) {}

    fn timer(&mut self, _ctx: &impl StateroomContext) {}
}
