// An `alarm` hook without the key parameter.
use stateroom::StateroomContext;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn alarm(&mut self, _ctx: &impl StateroomContext) {}
}
