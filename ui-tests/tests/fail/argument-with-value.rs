// `no_main` given a value.
#[derive(Default)]
struct Room;

#[stateroom::service(no_main = true)]
impl Room {}

fn main() {}
