// Every accepted hook signature compiles, with and without the context.
use serde::Deserialize;
use stateroom::{ClientId, SimpleStateroomService, StateroomContext};

#[derive(Deserialize)]
struct In {
    n: u32,
}

#[derive(Default)]
struct WithCtx;

#[stateroom::service(no_main)]
impl WithCtx {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_timer(10);
        WithCtx
    }
    fn connect(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}
    fn disconnect(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}
    fn message(&mut self, _client: ClientId, msg: In, _ctx: &impl StateroomContext) {
        let _ = msg.n;
    }
    fn binary(&mut self, _client: ClientId, _data: &[u8], _ctx: &impl StateroomContext) {}
    fn timer(&mut self, _ctx: &impl StateroomContext) {}
}

struct WithoutCtx;

#[stateroom::service(no_main)]
impl WithoutCtx {
    fn new(_room_id: &str) -> WithoutCtx {
        WithoutCtx
    }
    fn connect(&mut self, _client: ClientId) {}
    fn disconnect(&mut self, _client: ClientId) {}
    fn message(&mut self, _client: ClientId, _text: &str) {}
    fn binary(&mut self, _client: ClientId, _data: Vec<u8>) {}
    fn timer(&mut self) {}
}

struct NoArgsNew;

#[stateroom::service(no_main)]
impl NoArgsNew {
    fn new() -> Self {
        NoArgsNew
    }
    fn message(&mut self, _client: ClientId, _text: String) {}
    /// Ordinary methods stay ordinary, even near-miss names without `&mut self`.
    fn timers(&self) -> usize {
        0
    }
}

#[derive(Default)]
struct Empty;

#[stateroom::service(no_main)]
impl Empty {}

fn is_service<S: SimpleStateroomService>() {}

fn main() {
    is_service::<WithCtx>();
    is_service::<WithoutCtx>();
    is_service::<NoArgsNew>();
    is_service::<Empty>();
    assert_eq!(NoArgsNew.timers(), 0);
}
