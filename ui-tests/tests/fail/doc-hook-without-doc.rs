use stateroom::yjs::DocUpdate;
use stateroom::{ClientId, Reject};

#[derive(Default)]
struct Notes;

#[stateroom::service(no_main)]
impl Notes {
    fn update(&mut self, client: ClientId, update: &DocUpdate) -> Result<(), Reject> {
        let _ = (client, update);
        Ok(())
    }
}

fn main() {}
