// The generated code uses absolute paths only: shadowing prelude names changes nothing.
#![allow(dead_code, non_camel_case_types)]

use stateroom::{ClientId, StateroomContext};

struct Result;
struct Option;
struct Some;
struct None;
struct Ok;
struct Err;
struct String;
struct Vec;
struct Default;
struct str;
struct u8;
mod serde {}
mod serde_json {}

mod types {
    // serde's own derive needs the real primitives, so the message type lives here.
    #[derive(::serde::Deserialize)]
    pub struct In {
        pub n: u32,
    }
}
use types::In;

struct Room;

#[stateroom::service(no_main)]
impl Room {
    fn new() -> Self {
        Room
    }
    fn message(&mut self, client: ClientId, msg: In, ctx: &impl StateroomContext) {
        ctx.send(client, &msg.n);
    }
    fn binary(&mut self, _client: ClientId, _data: &[::core::primitive::u8]) {}
}

fn main() {}
