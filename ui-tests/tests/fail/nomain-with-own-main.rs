// `nomain` (no underscore) with the user's own `main`: one error, the hint.
#[derive(Default)]
struct Room;

#[stateroom::service(nomain)]
impl Room {}

fn main() {
    println!("my own main");
}
