// `patch_rate` on a service that syncs nothing.
#[derive(Default)]
struct Room;

#[stateroom::service(patch_rate = "50ms")]
impl Room {
    fn connect(&mut self, _client: stateroom::ClientId) {}
}
