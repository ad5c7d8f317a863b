use stateroom::yjs::DocUpdate;
use stateroom::ClientId;

#[derive(Default)]
struct Notes;

#[stateroom::service(doc, no_main)]
impl Notes {
    fn update(&mut self, client: ClientId, update: &DocUpdate) {
        let _ = (client, update);
    }
}

fn main() {}
