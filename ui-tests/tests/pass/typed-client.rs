// Message types marked for TypeScript, an outbound type with a lifetime, the
// marker on either side of the derive, and `ServiceTypes` for the service.
use serde::{Deserialize, Serialize};
use stateroom::{ClientId, MessageRecipient, ServiceTypes, StateroomContext};

#[derive(Deserialize)]
#[stateroom::message]
#[serde(tag = "kind", rename_all = "camelCase")]
enum In {
    SetName { name: String },
    Ping,
}

#[stateroom::message]
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Out<'a> {
    NameSet { who: ClientId, name: &'a str, at: Option<u64> },
}

#[derive(Default)]
struct Room;

#[stateroom::service(no_main, outbound = Out)]
impl Room {
    fn message(&mut self, client: ClientId, msg: In, ctx: &impl StateroomContext) {
        if let In::SetName { name } = msg {
            let out = Out::NameSet { who: client, name: &name, at: None };
            ctx.send(MessageRecipient::Broadcast, &out);
        }
    }
}

fn main() {
    let ts = Room::typescript().unwrap();
    assert!(ts.contains(r#"{ "kind": "setName", name: string, }"#), "{ts}");
    assert!(ts.contains(r#"{ "kind": "nameSet", who: number, name: string, at: number | null, }"#), "{ts}");
    assert!(ts.contains(r#"readonly tag: "kind";"#), "{ts}");
}
