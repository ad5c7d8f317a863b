// `mesage` instead of `message`.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Echo;

#[stateroom::service]
impl Echo {
    fn mesage(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(client, text);
    }
}
