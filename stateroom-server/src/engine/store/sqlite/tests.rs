//! The embedded store's own tests: saves, fences and the lock, and a
//! document's log.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::engine::store::{DocVersion, unix_ms};

fn room(id: &str, fence: u64, seq: u64) -> StoredRoom {
    StoredRoom {
        room_id: id.into(),
        fence,
        seq,
        state_version: 1,
        state: format!("{{\"seq\":{seq}}}"),
        meta: "{}".into(),
        updated_at_ms: unix_ms(),
        doc: StoredDoc::default(),
    }
}

#[tokio::test]
async fn a_document_log_appends_compacts_and_goes_with_its_room() {
    let dir = std::env::temp_dir().join(format!("stateroom-sqlite-doc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir).unwrap();
    let fence = store.acquire_fence().await.unwrap();
    let with = |seq, doc: StoredDoc| StoredRoom {
        doc,
        ..room("d", fence, seq)
    };
    let append = |updates: &[&[u8]]| StoredDoc {
        updates: updates.iter().map(|u| u.to_vec()).collect(),
        ..StoredDoc::default()
    };
    store
        .save_batch("svc", vec![with(1, append(&[b"a", b"b"]))])
        .await
        .unwrap();
    store
        .save_batch("svc", vec![with(2, append(&[b"c"]))])
        .await
        .unwrap();
    let doc = store.load("svc", "d").await.unwrap().unwrap().doc;
    assert_eq!(doc.base, None);
    assert_eq!(doc.updates, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(doc.versions, Some(vec![]));
    // A compaction replaces the log; a version list replaces the list.
    let version = DocVersion {
        name: "v1".into(),
        at_ms: 7,
        state: b"abc".to_vec(),
    };
    let compacted = StoredDoc {
        base: Some(b"abc".to_vec()),
        updates: vec![b"d".to_vec()],
        versions: Some(vec![version.clone()]),
    };
    store
        .save_batch("svc", vec![with(3, compacted)])
        .await
        .unwrap();
    // A stale owner's save writes nothing of the document either.
    let stale = StoredRoom {
        fence: fence - 1,
        ..with(4, append(&[b"lost"]))
    };
    assert_eq!(
        store.save_batch("svc", vec![stale]).await.unwrap(),
        [SaveOutcome::StaleFence]
    );
    let doc = store.load("svc", "d").await.unwrap().unwrap().doc;
    assert_eq!(doc.base.as_deref(), Some(&b"abc"[..]));
    assert_eq!(doc.updates, [b"d".to_vec()]);
    assert_eq!(doc.versions, Some(vec![version]));
    assert_eq!(
        store.list("svc").await.unwrap()[0].doc,
        StoredDoc::default()
    );
    // Deleting the room deletes its document: a new room starts empty.
    store.delete("svc", "d", fence).await.unwrap();
    store
        .save_batch("svc", vec![with(1, StoredDoc::default())])
        .await
        .unwrap();
    let doc = store.load("svc", "d").await.unwrap().unwrap().doc;
    assert_eq!((doc.base, doc.updates.len()), (None, 0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn saves_load_fence_and_lock() {
    let dir = std::env::temp_dir().join(format!("stateroom-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir).unwrap();
    assert!(
        SqliteStore::open(&dir).is_err(),
        "one process per directory"
    );
    let (a, b) = (
        store.acquire_fence().await.unwrap(),
        store.acquire_fence().await.unwrap(),
    );
    assert!(b > a);
    let saved = store
        .save_batch("svc", vec![room("x", b, 1), room("y", b, 1)])
        .await
        .unwrap();
    assert_eq!(saved, [SaveOutcome::Saved, SaveOutcome::Saved]);
    // An older fence is refused, and the row stays as it was.
    let stale = store
        .save_batch("svc", vec![room("x", a, 9)])
        .await
        .unwrap();
    assert_eq!(stale, [SaveOutcome::StaleFence]);
    assert_eq!(store.load("svc", "x").await.unwrap().unwrap().seq, 1);
    assert_eq!(store.load("other", "x").await.unwrap(), None);
    assert_eq!(store.list("svc").await.unwrap().len(), 2);
    assert_eq!(
        store.delete("svc", "y", a).await.unwrap(),
        SaveOutcome::StaleFence
    );
    assert_eq!(
        store.delete("svc", "y", b).await.unwrap(),
        SaveOutcome::Saved
    );
    assert_eq!(store.expire("svc", unix_ms() + 1).await.unwrap(), 1);
    drop(store);
    // Unlocked once closed: and the fence keeps growing across opens.
    let again = SqliteStore::open(&dir).unwrap();
    assert!(again.acquire_fence().await.unwrap() > b);
    let _ = std::fs::remove_dir_all(&dir);
}
