// A service type that borrows.
use stateroom::ClientId;

#[derive(Default)]
struct Room<'a> {
    name: &'a str,
}

#[stateroom::service]
impl Room<'_> {
    fn connect(&mut self, _client: ClientId) {
        let _ = self.name;
    }
}
