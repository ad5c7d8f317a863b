// `outbound` given a string instead of a type.
#[derive(Default)]
struct Room;

#[stateroom::service(no_main, outbound = "Out")]
impl Room {}

fn main() {}
