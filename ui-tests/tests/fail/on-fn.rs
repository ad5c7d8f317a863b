// The attribute on a function.
use stateroom::{ClientId, StateroomContext};

#[stateroom::service]
fn message(client: ClientId, text: &str, ctx: &impl StateroomContext) {
    ctx.send_message(client, text);
}
