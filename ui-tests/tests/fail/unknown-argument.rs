// A misspelt attribute argument.
use stateroom::ClientId;

#[derive(Default)]
struct Room;

#[stateroom::service(no_mian)]
impl Room {
    fn connect(&mut self, _client: ClientId) {}
}
