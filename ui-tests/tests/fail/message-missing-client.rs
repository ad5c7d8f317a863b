// A `message` hook without its client parameter.
use serde::Deserialize;
use stateroom::StateroomContext;

#[derive(Deserialize)]
struct In;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn message(&mut self, _msg: In, _ctx: &impl StateroomContext) {}
}
