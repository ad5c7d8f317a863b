// An `async` hook.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    async fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(client, text);
    }
}
