// A `join` hook that takes `&mut self`.
use stateroom::{JoinRequest, Reject};

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn join(&mut self, _request: &JoinRequest) -> Result<(), Reject> {
        Ok(())
    }
}
