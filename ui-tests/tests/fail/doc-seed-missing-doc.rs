#[derive(Default)]
struct Notes;

#[stateroom::service(doc, no_main)]
impl Notes {
    fn seed(&mut self) {}
}

fn main() {}
