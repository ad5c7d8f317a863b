// `#[stateroom::message]` on something that is not a type.
#[stateroom::message]
fn handle() {}

fn main() {}
