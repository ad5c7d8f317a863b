//! Doc rooms (`#[stateroom::service(doc)]`) in the test kit: the
//! y-websocket protocol as a provider speaks it, validation, awareness,
//! malformed frames, text messages beside, and a restart.

use serde::{Deserialize, Serialize};
use stateroom::testing::{Received, Replica, TestRoom};
use stateroom::yjs::yrs::sync::{Awareness, Message};
use stateroom::yjs::yrs::updates::encoder::Encode;
use stateroom::yjs::{Doc, DocUpdate, Text, Transact};
use stateroom::{ClientId, JoinRequest, Reject, StateroomContext};

#[derive(Default, Serialize, Deserialize)]
struct Notes {
    seeded: u32,
    changes: u32,
    left: Vec<u32>,
}

#[stateroom::service(doc, persist, no_main)]
impl Notes {
    fn join(&self, request: &JoinRequest) -> Result<bool, Reject> {
        Ok(request.query_param("mode").as_deref() != Some("read"))
    }

    fn seed(&mut self, doc: &Doc) {
        self.seeded += 1;
        doc.get_or_insert_text("title")
            .push(&mut doc.transact_mut(), "Untitled");
    }

    fn update(
        &mut self,
        client: ClientId,
        update: &DocUpdate,
        ctx: &impl StateroomContext,
    ) -> Result<(), Reject> {
        if ctx.client_data::<bool>(client) != Some(&true) {
            return Err(Reject::forbidden("this document is read-only for you"));
        }
        if update.len() > 4096 {
            return Err(Reject::forbidden("an update is at most 4 KiB"));
        }
        Ok(())
    }

    fn changed(&mut self, _doc: &Doc) {
        self.changes += 1;
    }

    fn message(&mut self, client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(client, &format!("echo {text}"));
    }

    fn disconnect(&mut self, client: ClientId) {
        self.left.push(u32::from(client));
    }
}

fn type_into(replica: &mut Replica, room: &mut TestRoom<Notes>, client: ClientId, text: &str) {
    replica.edit(room, client, |doc| {
        doc.get_or_insert_text("body")
            .push(&mut doc.transact_mut(), text);
    });
}

#[test]
fn providers_sync_the_seeded_document_and_converge_on_concurrent_edits() {
    let mut room = TestRoom::<Notes>::new("n");
    let (a, b) = (room.connect(), room.connect());
    let (mut ra, mut rb) = (Replica::new(), Replica::new());
    ra.open(&mut room, a);
    rb.open(&mut room, b);
    assert_eq!(ra.text("title"), "Untitled");
    assert_eq!(room.service().seeded, 1);
    // Both type before either hears of the other's change.
    type_into(&mut ra, &mut room, a, "alpha ");
    type_into(&mut rb, &mut room, b, "beta ");
    ra.sync(&mut room, a);
    rb.sync(&mut room, b);
    let body = ra.text("body");
    assert_eq!(body, rb.text("body"));
    assert!(body.contains("alpha ") && body.contains("beta "), "{body}");
    // The room's own copy agrees, and `changed` ran once per batch.
    let txn_text = {
        use stateroom::yjs::GetString;
        let doc = room.doc();
        doc.get_or_insert_text("body").get_string(&doc.transact())
    };
    assert_eq!(txn_text, body);
    assert_eq!(room.service().changes, 3, "the seed, then one per edit");
    // A change is not sent back to the client it came from.
    type_into(&mut ra, &mut room, a, "!");
    assert!(room.take(a).is_empty());
    // A late joiner gets everything in its sync reply.
    let c = room.connect();
    let mut rc = Replica::new();
    rc.open(&mut room, c);
    assert_eq!(rc.text("body"), format!("{body}!"));
    assert_eq!(rc.text("title"), "Untitled");
}

#[test]
fn a_refused_update_is_dropped_and_its_client_told_why() {
    let mut room = TestRoom::<Notes>::new("n");
    let writer = room.connect();
    let reader = room
        .join(JoinRequest::new("n").with_query("mode=read"))
        .unwrap();
    let (mut rw, mut rr) = (Replica::new(), Replica::new());
    rw.open(&mut room, writer);
    rr.open(&mut room, reader);
    type_into(&mut rr, &mut room, reader, "vandalism");
    rr.sync(&mut room, reader);
    assert_eq!(rr.denied(), ["this document is read-only for you"]);
    rw.sync(&mut room, writer);
    assert_eq!(rw.text("body"), "", "nothing reached the others");
    // The reader still receives what writers do (its own refused edit
    // stays in its local copy only: the page should not let it type).
    type_into(&mut rw, &mut room, writer, "ok");
    rr.sync(&mut room, reader);
    assert!(rr.text("body").contains("ok"));
    rw.sync(&mut room, writer);
    assert_eq!(rw.text("body"), "ok");
    // Too big is refused too, for a writer.
    type_into(&mut rw, &mut room, writer, &"x".repeat(5000));
    rw.sync(&mut room, writer);
    assert_eq!(rw.denied(), ["an update is at most 4 KiB"]);
    use stateroom::yjs::GetString;
    let doc = room.doc();
    assert_eq!(
        doc.get_or_insert_text("body").get_string(&doc.transact()),
        "ok"
    );
}

#[test]
fn awareness_is_passed_on_and_a_leaving_client_disappears_once() {
    let mut room = TestRoom::<Notes>::new("n");
    let (a, b) = (room.connect(), room.connect());
    let (mut ra, mut rb) = (Replica::new(), Replica::new());
    ra.open(&mut room, a);
    rb.open(&mut room, b);
    let mut awareness = Awareness::new(Doc::new());
    awareness.set_local_state_raw(r#"{"user":"ann"}"#);
    let mine = awareness.client_id();
    let update = awareness.update().unwrap();
    room.send_binary(a, &Message::Awareness(update).encode_v1());
    rb.sync(&mut room, b);
    let seen = rb.awareness();
    assert_eq!(seen.len(), 1);
    assert_eq!(&*seen[0].clients[&mine].json, r#"{"user":"ann"}"#);
    // A newcomer is told who is here.
    let c = room.connect();
    let mut rc = Replica::new();
    rc.open(&mut room, c);
    assert!(rc.awareness()[0].clients.contains_key(&mine));
    room.disconnect(a);
    rb.sync(&mut room, b);
    let removals: Vec<_> = rb.awareness()[1..]
        .iter()
        .filter(|update| {
            update
                .clients
                .get(&mine)
                .is_some_and(|e| &*e.json == "null")
        })
        .collect();
    assert_eq!(removals.len(), 1);
    room.advance(std::time::Duration::from_secs(60));
    rb.sync(&mut room, b);
    assert_eq!(rb.awareness().len(), 2, "removed exactly once");
    assert_eq!(room.service().left, [u32::from(a)]);
}

#[test]
fn a_malformed_frame_closes_its_client_with_1007_and_text_works_beside() {
    let mut room = TestRoom::<Notes>::new("n");
    let (a, b) = (room.connect(), room.connect());
    room.send_text(b, "hi");
    assert!(room.take(b).contains(&Received::Text("echo hi".into())));
    room.send_binary(a, &[0x00, 0x02, 0xff]);
    let closed = room.take(a);
    assert!(
        closed
            .iter()
            .any(|frame| matches!(frame, Received::Closed { code: 1007, .. })),
        "{closed:?}"
    );
    assert_eq!(room.service().left, [u32::from(a)]);
    // An empty frame, and an unknown message type, neither crash the room.
    room.send_binary(b, &[]);
    let mut rb = Replica::new();
    let c = room.connect();
    room.send_binary(c, &[0x09, 0x00]);
    rb.open(&mut room, c);
    assert_eq!(rb.text("title"), "Untitled");
    assert_eq!(rb.closed(), None, "an unknown message type is ignored");
}

#[test]
fn a_restart_keeps_the_document_and_does_not_seed_it_again() {
    let mut room = TestRoom::<Notes>::new("n");
    let a = room.connect();
    let mut ra = Replica::new();
    ra.open(&mut room, a);
    type_into(&mut ra, &mut room, a, "kept");
    room.restart();
    let b = room.connect();
    let mut rb = Replica::new();
    rb.open(&mut room, b);
    assert_eq!(rb.text("body"), "kept");
    assert_eq!(rb.text("title"), "Untitled", "seeded once, not twice");
    assert_eq!(room.service().seeded, 1);
}
