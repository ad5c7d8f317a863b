//! The `data` commands' own tests: dates, and documents through export
//! and import.

#![allow(clippy::unwrap_used)]

use super::doc::unhex;
use super::*;
use crate::engine::store::{DocVersion, StoredDoc};

/// A doc room's document goes through `export` and `import` whole, and
/// an import replaces the log a room had.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn export_and_import_carry_documents() {
    use crate::engine::store::SqliteStore;
    let root = std::env::temp_dir().join(format!("stateroom-data-doc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (from, to) = (
        SqliteStore::open(root.join("a")).unwrap(),
        SqliteStore::open(root.join("b")).unwrap(),
    );
    let room = |doc| StoredRoom {
        room_id: "n".into(),
        fence: 1,
        seq: 1,
        state_version: 1,
        state: "null".into(),
        meta: "{}".into(),
        updated_at_ms: 0,
        doc,
    };
    let doc = StoredDoc {
        base: Some(vec![1, 2, 255]),
        updates: vec![vec![7], vec![8, 9]],
        versions: Some(vec![DocVersion {
            name: "v".into(),
            at_ms: 5,
            state: vec![0, 0],
        }]),
    };
    from.save_batch("S", vec![room(doc.clone())]).await.unwrap();
    // The target holds a longer log that the import must replace.
    let stale = StoredDoc {
        updates: vec![vec![1]; 3],
        ..StoredDoc::default()
    };
    to.save_batch("S", vec![room(stale)]).await.unwrap();
    let file = root.join("export.json");
    let export = DataCommand::Export {
        file: Some(file.clone()),
    };
    let ok: StateCheck = |_, _| Ok(());
    run_data(&from, "S", &export, ok, &mut Vec::new())
        .await
        .unwrap();
    let import = DataCommand::Import { file };
    run_data(&to, "S", &import, ok, &mut Vec::new())
        .await
        .unwrap();
    let loaded = to.load("S", "n").await.unwrap().unwrap().doc;
    assert_eq!(loaded, doc);
    assert!(unhex("abc").is_err() && unhex("zz").is_err());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn dates_are_utc() {
    assert_eq!(utc(0), "1970-01-01T00:00:00Z");
    assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
    assert_eq!(utc(1_796_282_862_000), "2026-12-03T07:27:42Z");
}
