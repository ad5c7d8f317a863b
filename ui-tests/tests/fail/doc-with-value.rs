#[derive(Default)]
struct Notes;

#[stateroom::service(doc = true, no_main)]
impl Notes {}

fn main() {}
