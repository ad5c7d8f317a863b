use stateroom::ClientId;

#[derive(Default)]
struct Notes;

#[stateroom::service(doc, no_main)]
impl Notes {
    fn binary(&mut self, client: ClientId, data: &[u8]) {
        let _ = (client, data);
    }
}

fn main() {}
