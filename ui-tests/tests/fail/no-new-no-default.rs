// A state with neither a `new` hook nor `Default`.
use stateroom::ClientId;

struct Room {
    count: u32,
}

#[stateroom::service]
impl Room {
    fn connect(&mut self, _client: ClientId) {
        self.count += 1;
    }
}
