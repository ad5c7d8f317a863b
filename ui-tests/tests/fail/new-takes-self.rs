// A `new` hook with a receiver.
#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn new(&self, _room_id: &str) -> Self {
        Room
    }
}
