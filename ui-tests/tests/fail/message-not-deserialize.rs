// A message type that does not implement `Deserialize`.
use stateroom::ClientId;

enum Command {
    Go,
}

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn message(&mut self, _client: ClientId, command: Command) {
        match command {
            Command::Go => {}
        }
    }
}
