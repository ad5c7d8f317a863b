// `presence` with a mode it does not have, and `listed` with a value.
#[derive(Default)]
struct Room;

#[stateroom::service(presence = "everyone", listed = true)]
impl Room {
    fn message(&mut self, client: stateroom::ClientId, text: &str, ctx: &impl stateroom::StateroomContext) {
        let _ = (client, text, ctx);
    }
}

