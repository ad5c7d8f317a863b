// A view whose type serde cannot write.
#[derive(Default)]
struct Board {
    turn: u32,
}

#[derive(Default)]
struct Room {
    board: Board,
}

#[stateroom::service]
impl Room {
    fn view(&self) -> &Board {
        &self.board
    }
}
