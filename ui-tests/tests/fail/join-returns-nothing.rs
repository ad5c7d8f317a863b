// A `join` hook without a verdict.
use stateroom::JoinRequest;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn join(&self, _request: &JoinRequest) {}
}
