// A `view` hook without a return type.
#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn view(&self) {}
}
