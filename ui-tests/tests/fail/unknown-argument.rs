// A misspelt `no_main`, with the user's own `main`: only the hint, no clash with that `main`.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service(no_mian)]
impl Room {
    fn connect(&mut self, _client: ClientId) {}
}

fn main() {}
