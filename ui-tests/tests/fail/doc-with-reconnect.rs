// A doc room's clients are stock y-websocket providers: no session frames.
#[derive(Default)]
struct Notes;

#[stateroom::service(doc, reconnect = "30s", no_main)]
impl Notes {}

fn main() {}
