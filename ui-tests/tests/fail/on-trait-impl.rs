// The attribute on a trait impl, which is already the hand-written form.
use stateroom::{SimpleStateroomService, StateroomContext};

struct Echo;

#[stateroom::service]
impl SimpleStateroomService for Echo {
    fn new(_room_id: &str, _ctx: &impl StateroomContext) -> Self {
        Echo
    }
}
