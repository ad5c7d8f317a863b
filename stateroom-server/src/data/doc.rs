//! A doc room's Yjs document in an export: its base, updates and versions
//! as hexadecimal, read back as a save that replaces the stored document.

use super::DataError;
use crate::engine::store::{DocVersion, StoredDoc};
use serde_json::{Value, json};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(text: &str) -> Result<Vec<u8>, DataError> {
    let bad = || DataError::NotAnExport("a document's bytes are not hexadecimal".into());
    if !text.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)
}

/// A doc room's document as an export holds it (hexadecimal Yjs updates),
/// or `None` for a room without one.
pub(super) fn doc_json(doc: &StoredDoc) -> Option<Value> {
    let versions = doc.versions.as_deref().unwrap_or_default();
    if doc.base.is_none() && doc.updates.is_empty() && versions.is_empty() {
        return None;
    }
    Some(json!({
        "base": doc.base.as_deref().map(hex),
        "updates": doc.updates.iter().map(|u| hex(u)).collect::<Vec<_>>(),
        "versions": versions.iter().map(|v| json!({
            "name": v.name, "at_ms": v.at_ms, "state": hex(&v.state),
        })).collect::<Vec<_>>(),
    }))
}

/// Reads [`doc_json`] back as a save that replaces the stored document.
pub(super) fn doc_from_json(value: Option<&Value>) -> Result<StoredDoc, DataError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(StoredDoc::default());
    };
    let text = |v: &Value| {
        v.as_str()
            .ok_or_else(|| DataError::NotAnExport("a document's bytes are not a string".into()))
            .and_then(unhex)
    };
    let updates = value["updates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect::<Result<Vec<_>, _>>()?;
    let versions = value["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            Ok(DocVersion {
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                at_ms: v["at_ms"].as_u64().unwrap_or_default(),
                state: text(&v["state"])?,
            })
        })
        .collect::<Result<Vec<_>, DataError>>()?;
    // A base (an empty update if none) replaces whatever the room held.
    let base = match &value["base"] {
        Value::Null => vec![0, 0],
        base => text(base)?,
    };
    Ok(StoredDoc {
        base: Some(base),
        updates,
        versions: Some(versions),
    })
}
