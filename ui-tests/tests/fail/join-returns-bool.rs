// A `join` hook that returns a `bool` instead of `Result<T, Reject>`.
use stateroom::JoinRequest;

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn join(&self, request: &JoinRequest) -> bool {
        request.bearer_token().is_some()
    }
}
