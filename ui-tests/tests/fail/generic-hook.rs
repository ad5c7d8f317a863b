// A hook with its own generic parameter.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn connect<C: StateroomContext>(&mut self, client: ClientId, ctx: &C) {
        ctx.send_message(client, "hi");
    }
}
