use stateroom::yjs::{Doc, DocUpdate, Text, Transact};
use stateroom::{ClientId, Reject, StateroomContext};

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Notes {
    changes: u64,
}

#[stateroom::service(doc, persist, no_main)]
impl Notes {
    fn seed(&mut self, doc: &Doc, ctx: &impl StateroomContext) {
        let _ = ctx.room_id();
        doc.get_or_insert_text("body").push(&mut doc.transact_mut(), "hi");
    }

    fn update(&mut self, client: ClientId, update: &DocUpdate) -> Result<(), Reject> {
        let _ = client;
        if update.len() > 1024 {
            return Err(Reject::forbidden("too big"));
        }
        Ok(())
    }

    fn changed(&mut self, _doc: &Doc) {
        self.changes += 1;
    }

    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(client, text);
    }
}

fn main() {}
