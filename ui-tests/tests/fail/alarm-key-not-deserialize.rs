// An `alarm` key type that does not implement `Deserialize`.
enum Alarm {
    Turn,
}

#[derive(Default)]
struct Room;

#[stateroom::service]
impl Room {
    fn alarm(&mut self, key: Alarm) {
        match key {
            Alarm::Turn => {}
        }
    }
}
