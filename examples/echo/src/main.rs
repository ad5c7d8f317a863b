//! Echoes every text and binary frame back to the client that sent it, unchanged.
//! It is the target of the Autobahn conformance run.
//!
//! Run: `cargo run -p example-echo -- --port 9001`, then
//! `websocat ws://127.0.0.1:9001/ws/any-room` and type lines.

use stateroom::{ClientId, SimpleStateroomService, StateroomContext};

struct Echo;

impl SimpleStateroomService for Echo {
    fn new(_room_id: &str, _ctx: &impl StateroomContext) -> Self {
        Echo
    }

    fn message(&mut self, client: ClientId, message: &str, ctx: &impl StateroomContext) {
        ctx.send_message(client, message);
    }

    fn binary(&mut self, client: ClientId, message: &[u8], ctx: &impl StateroomContext) {
        ctx.send_binary(client, message);
    }
}

fn main() {
    stateroom::run::<Echo>();
}
