// Independent mistakes are reported together, in one compile.
use stateroom::{ClientId, StateroomContext};

#[derive(Default)]
struct Room;

#[stateroom::service(port = 80)]
impl Room {
    async fn connect(&mut self, _client: ClientId) {}

    fn on_disconnect(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}

    fn timer(&self) {}
}
