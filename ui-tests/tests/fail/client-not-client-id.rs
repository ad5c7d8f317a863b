// A client parameter that is not a `ClientId`.
#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn connect(&mut self, _client: u32) {}
}
