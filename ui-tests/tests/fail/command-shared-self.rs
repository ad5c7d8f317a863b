// A `command` hook that takes `&self`.
#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn command(&self, n: u32) -> u32 {
        n
    }
}
