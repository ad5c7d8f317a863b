//! Doc rooms on a real server, in-process, against a store the test slows
//! down: a change reaches other clients only once it is durable, a room
//! handle's versions and edits (their answers durable too), and the update
//! log compacted into a base that a new server loads.

use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use stateroom::Server;
use stateroom::store::StoredDoc;
use stateroom::yjs::yrs::sync::{Message, SyncMessage};
use stateroom::yjs::yrs::updates::decoder::Decode;
use stateroom::yjs::yrs::updates::encoder::Encode;
use stateroom::yjs::{Doc, GetString, ReadTxn, Text, Transact, Update};
use stateroom_test_support as support;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::memstore::MemStore;
use tokio_tungstenite::tungstenite::Message as Frame;

#[derive(Default, Serialize, Deserialize)]
struct Pad;

#[stateroom::service(doc, persist, no_main)]
impl Pad {}

/// A y-websocket client: its own document, kept in sync over one socket.
struct Peer {
    ws: support::Ws,
    doc: Doc,
}

impl Peer {
    async fn open(addr: SocketAddr, room: &str) -> Peer {
        let mut peer = Peer {
            ws: support::join(addr, room).await,
            doc: Doc::new(),
        };
        let step1 = Message::Sync(SyncMessage::SyncStep1(peer.doc.transact().state_vector()));
        peer.send(&step1).await;
        // The room's step 1 and its reply to ours.
        peer.read_until(|_| true).await;
        peer
    }

    async fn send(&mut self, message: &Message) {
        self.ws
            .send(Frame::Binary(message.encode_v1().into()))
            .await
            .expect("send");
    }

    fn body(&self) -> String {
        self.doc
            .get_or_insert_text("body")
            .get_string(&self.doc.transact())
    }

    async fn type_text(&mut self, text: &str) {
        let before = self.doc.transact().state_vector();
        let body = self.doc.get_or_insert_text("body");
        body.push(&mut self.doc.transact_mut(), text);
        let update = self.doc.transact().encode_diff_v1(&before);
        self.send(&Message::Sync(SyncMessage::Update(update))).await;
    }

    /// Reads and applies frames until `done` holds after one.
    async fn read_until(&mut self, done: impl Fn(&Peer) -> bool) {
        loop {
            let Frame::Binary(data) = support::next(&mut self.ws).await else {
                continue;
            };
            match Message::decode_v1(&data).expect("y-protocols") {
                Message::Sync(SyncMessage::SyncStep1(vector)) => {
                    let diff = self.doc.transact().encode_diff_v1(&vector);
                    self.send(&Message::Sync(SyncMessage::SyncStep2(diff)))
                        .await;
                }
                Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                    self.doc
                        .transact_mut()
                        .apply_update(Update::decode_v1(&update).expect("an update"))
                        .expect("applies");
                    if done(self) {
                        return;
                    }
                }
                _ => {}
            }
        }
    }
}

/// The body of the document `store` holds for `room`: its base and log.
fn stored_body(store: &MemStore, room: &str) -> String {
    let doc = Doc::new();
    let stored: StoredDoc = store.get("Pad", room).map(|r| r.doc).unwrap_or_default();
    for bytes in stored.base.iter().chain(&stored.updates) {
        doc.transact_mut()
            .apply_update(Update::decode_v1(bytes).unwrap())
            .unwrap();
    }
    doc.get_or_insert_text("body").get_string(&doc.transact())
}

async fn serve(store: &Arc<MemStore>) -> stateroom::ServerHandle {
    support::start::<Pad>(
        Server::new()
            .store(store.clone())
            .room_grace(Duration::from_secs(60)),
    )
    .await
}

#[tokio::test]
async fn a_change_reaches_other_clients_only_once_it_is_durable() {
    let store = Arc::new(MemStore::default());
    let server = serve(&store).await;
    let mut a = Peer::open(server.local_addr(), "gate").await;
    let mut b = Peer::open(server.local_addr(), "gate").await;
    store.delay_ms.store(300, Ordering::SeqCst);
    for word in ["one ", "two ", "three "] {
        a.type_text(word).await;
        b.read_until(|peer| peer.body().ends_with(word)).await;
        let durable = stored_body(&store, "gate");
        assert_eq!(
            durable,
            b.body(),
            "b received a change the store did not hold yet"
        );
    }
    drop((a, b));
    server.shutdown().await;
}

#[tokio::test]
async fn a_handle_keeps_versions_restores_one_and_edits_durably() {
    let store = Arc::new(MemStore::default());
    let server = serve(&store).await;
    let mut a = Peer::open(server.local_addr(), "v").await;
    // b witnesses that the room applied a's changes before the handle acts.
    let mut b = Peer::open(server.local_addr(), "v").await;
    a.type_text("first draft").await;
    b.read_until(|peer| peer.body() == "first draft").await;
    let room = server.rooms().get("v").expect("the room is open");
    let info = room.save_doc_version("draft").await.expect("saved");
    assert_eq!(info.name, "draft");
    a.type_text(", then a mess").await;
    b.read_until(|peer| peer.body().ends_with("mess")).await;
    store.delay_ms.store(200, Ordering::SeqCst);
    room.restore_doc_version("draft").await.expect("restored");
    assert_eq!(
        stored_body(&store, "v"),
        "first draft",
        "durable when answered"
    );
    a.read_until(|peer| peer.body() == "first draft").await;
    // An agent edits through the handle; its answer is durable too.
    let len = room
        .with_doc(|doc| {
            let body = doc.get_or_insert_text("body");
            body.push(&mut doc.transact_mut(), " (checked)");
            body.len(&doc.transact())
        })
        .await
        .expect("edited");
    assert_eq!(len, "first draft (checked)".len() as u32);
    assert_eq!(stored_body(&store, "v"), "first draft (checked)");
    a.read_until(|peer| peer.body() == "first draft (checked)")
        .await;
    let missing = room.restore_doc_version("nope").await.unwrap_err();
    assert!(
        missing.to_string().contains("no version named `nope`"),
        "{missing}"
    );
    assert!(room.delete_doc_version("draft").await.unwrap());
    assert!(room.doc_versions().await.unwrap().is_empty());
    room.save_doc_version("final").await.unwrap();
    store.delay_ms.store(0, Ordering::SeqCst);
    drop((a, b));
    server.shutdown().await;
    // A new server loads the document and its versions.
    let again = serve(&store).await;
    let b = Peer::open(again.local_addr(), "v").await;
    assert_eq!(b.body(), "first draft (checked)");
    let room = again.rooms().get("v").expect("open");
    let names: Vec<String> = room
        .doc_versions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["final"]);
    drop(b);
    again.shutdown().await;
}

#[tokio::test]
async fn the_update_log_is_compacted_and_a_new_server_loads_it() {
    let store = Arc::new(MemStore::default());
    let server = serve(&store).await;
    let mut a = Peer::open(server.local_addr(), "log").await;
    let mut b = Peer::open(server.local_addr(), "log").await;
    for i in 0..700 {
        a.type_text(&(i % 10).to_string()).await;
    }
    b.read_until(|peer| peer.body().len() == 700).await;
    let stored = store.get("Pad", "log").expect("saved").doc;
    assert!(stored.base.is_some(), "compacted into a base");
    assert!(
        stored.updates.len() < 500,
        "{} updates after the base",
        stored.updates.len()
    );
    let text = b.body();
    drop((a, b));
    server.shutdown().await;
    let again = serve(&store).await;
    let c = Peer::open(again.local_addr(), "log").await;
    assert_eq!(c.body(), text);
    drop(c);
    again.shutdown().await;
}
