// A doc room's clients are stock y-websocket providers: no sync frames.
#[derive(Default)]
struct Notes {
    count: u32,
}

#[stateroom::service(doc, no_main)]
impl Notes {
    fn view(&self) -> u32 {
        self.count
    }
}

fn main() {}
