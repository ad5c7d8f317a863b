// A `restore` hook on a service that is not persisted.
#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn restore(&mut self) {}
}
