// A `view` hook that takes `&mut self`.
#[derive(Default, serde::Serialize)]
struct Room {
    score: u32,
}

#[stateroom::service]
impl Room {
    fn view(&mut self) -> u32 {
        self.score
    }
}

