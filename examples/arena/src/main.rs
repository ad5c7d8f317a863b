//! The arena's server: a lobby, races and a ranked queue in one process
//! (`src/lib.rs` has the services and the message types, which
//! `src/bin/arena-bots.rs` shares).

fn main() {
    stateroom::run_rooms(example_arena::rooms);
}
