// A persisted service whose state is not `Serialize`/`Deserialize`.
#[derive(Default)]
struct Room {
    count: u64,
}

#[stateroom::service(persist)]
impl Room {
    fn timer(&mut self) {
        self.count += 1;
    }
}
