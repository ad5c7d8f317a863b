// A hook that takes `&self`.
use stateroom::StateroomContext;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn timer(&self, _ctx: &impl StateroomContext) {}
}
