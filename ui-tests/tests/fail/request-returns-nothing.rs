// A `request` hook without a response.
use stateroom::RoomRequest;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn request(&mut self, _request: &RoomRequest) {}
}
