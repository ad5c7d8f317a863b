//! State sync's wire form: the diff between two views as an RFC 6902 JSON
//! Patch, and the frames that carry snapshots and patches
//! (`docs/protocol.md`, "State sync").
//!
//! A synced room has up to two documents per client: the **shared** view
//! (the same for every client; its patch is computed and written once per
//! room) and the client's **private** view. Each has a version; a snapshot
//! frame sets it, and each patch frame names the version it applies to (its
//! `base`) and moves the document to `base + 1`:
//!
//! ```json
//! {"stateroom":{"sync":"shared","v":7,"state":{"turn":1,"units":{"3":{"hp":9}}}}}
//! {"stateroom":{"sync":"shared","base":7,"patch":[{"op":"replace","path":"/units/3/hp","value":8}]}}
//! ```
//!
//! ```
//! use serde_json::json;
//! use stateroom_core::sync::{Doc, diff};
//!
//! let old = json!({"turn": 1, "units": {"3": {"hp": 9}, "4": {"hp": 5}}});
//! let new = json!({"turn": 2, "units": {"3": {"hp": 8}, "4": {"hp": 5}}});
//! let patch = diff(&old, &new);
//! assert_eq!(patch.len(), 2);
//! assert_eq!(
//!     patch.frame(Doc::Shared, 7),
//!     r#"{"stateroom":{"sync":"shared","base":7,"patch":[{"op":"replace","path":"/turn","value":2},{"op":"replace","path":"/units/3/hp","value":8}]}}"#
//! );
//! ```

use serde_json::Value;
use std::fmt::Write as _;

/// Which of a client's synced documents a frame is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Doc {
    /// The room's shared view (`view`): the same for every client.
    Shared,
    /// This client's own view (`private_view`).
    Private,
    /// Who is in the room ([`Presence`](crate::Presence)).
    Presence,
    /// The room directory's live lobby (`GET /rooms` upgraded to a
    /// WebSocket): the listed rooms of a kind, by id.
    Rooms,
}

impl Doc {
    /// The document's name on the wire: `"shared"` or `"private"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Doc::Shared => "shared",
            Doc::Private => "private",
            Doc::Presence => "presence",
            Doc::Rooms => "rooms",
        }
    }

    fn from_wire(name: &str) -> Option<Doc> {
        match name {
            "shared" => Some(Doc::Shared),
            "private" => Some(Doc::Private),
            "presence" => Some(Doc::Presence),
            "rooms" => Some(Doc::Rooms),
            _ => None,
        }
    }
}

/// The difference between two JSON values, as the operations of an RFC 6902
/// JSON Patch, already written as a JSON array.
///
/// Objects are compared key by key and arrays element by element, after
/// their common first and last elements are set aside: a field that changed
/// deep inside is one `replace` at its path, and one element inserted or
/// removed anywhere in an array is one `add` or `remove`. Elements that
/// change places in an array are not recognised as moved; keep entities in
/// a map keyed by id (`BTreeMap<u32, Unit>`, a JSON object) so that each
/// one has a path of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    json: String,
    len: usize,
}

impl Patch {
    /// How many operations the patch has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the two values were equal.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The operations as a JSON array (`[{"op":"replace",…},…]`).
    #[must_use]
    pub fn as_json(&self) -> &str {
        &self.json
    }

    /// The patch frame for document `doc` at version `base`.
    #[must_use]
    pub fn frame(&self, doc: Doc, base: u64) -> String {
        let mut frame = String::with_capacity(self.json.len() + 64);
        let _ = write!(
            frame,
            r#"{{"stateroom":{{"sync":"{}","base":{base},"patch":{}}}}}"#,
            doc.as_str(),
            self.json
        );
        frame
    }
}

/// The snapshot frame of document `doc` at version `version`.
#[must_use]
pub fn snapshot_frame(doc: Doc, version: u64, state: &Value) -> String {
    format!(
        r#"{{"stateroom":{{"sync":"{}","v":{version},"state":{state}}}}}"#,
        doc.as_str()
    )
}

/// The frame a client sends to ask for fresh snapshots of its documents
/// (it received a patch whose base is not the version it holds).
pub const RESYNC_REQUEST: &str = r#"{"stateroom":{"resync":true}}"#;

/// Whether `text` is the client's resync request.
#[must_use]
pub fn is_resync_request(text: &str) -> bool {
    text.starts_with(r#"{"stateroom":"#)
        && serde_json::from_str::<Value>(text).is_ok_and(|value| {
            value
                .get("stateroom")
                .and_then(|inner| inner.get("resync"))
                .is_some_and(|resync| resync == &Value::Bool(true))
        })
}

/// Computes the patch that turns `old` into `new`.
#[must_use]
pub fn diff(old: &Value, new: &Value) -> Patch {
    let mut writer = Writer {
        out: String::from("["),
        path: String::new(),
        len: 0,
    };
    writer.diff(old, new);
    writer.out.push(']');
    Patch {
        json: writer.out,
        len: writer.len,
    }
}

struct Writer {
    out: String,
    /// The JSON Pointer of the value being compared, escaped.
    path: String,
    len: usize,
}

impl Writer {
    fn diff(&mut self, old: &Value, new: &Value) {
        match (old, new) {
            (Value::Object(old), Value::Object(new)) => {
                for (key, before) in old {
                    let mark = self.push_key(key);
                    match new.get(key) {
                        Some(after) => self.diff(before, after),
                        None => self.op("remove", None),
                    }
                    self.path.truncate(mark);
                }
                for (key, after) in new {
                    if !old.contains_key(key) {
                        let mark = self.push_key(key);
                        self.op("add", Some(after));
                        self.path.truncate(mark);
                    }
                }
            }
            (Value::Array(old), Value::Array(new)) => self.diff_array(old, new),
            (old, new) if old == new => {}
            (_, new) => self.op("replace", Some(new)),
        }
    }

    fn diff_array(&mut self, old: &[Value], new: &[Value]) {
        let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let suffix = old[prefix..]
            .iter()
            .rev()
            .zip(new[prefix..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let old_mid = &old[prefix..old.len() - suffix];
        let new_mid = &new[prefix..new.len() - suffix];
        let common = old_mid.len().min(new_mid.len());
        for (offset, (before, after)) in old_mid.iter().zip(new_mid).enumerate() {
            let mark = self.push_index(prefix + offset);
            self.diff(before, after);
            self.path.truncate(mark);
        }
        // Removed from the same index, one after another; added in order.
        for _ in common..old_mid.len() {
            let mark = self.push_index(prefix + common);
            self.op("remove", None);
            self.path.truncate(mark);
        }
        for (offset, after) in new_mid.iter().enumerate().skip(common) {
            let mark = self.push_index(prefix + offset);
            self.op("add", Some(after));
            self.path.truncate(mark);
        }
    }

    /// Appends `/key` (escaped as RFC 6901 says) and returns the length to
    /// truncate back to.
    fn push_key(&mut self, key: &str) -> usize {
        let mark = self.path.len();
        self.path.push('/');
        for c in key.chars() {
            match c {
                '~' => self.path.push_str("~0"),
                '/' => self.path.push_str("~1"),
                c => self.path.push(c),
            }
        }
        mark
    }

    fn push_index(&mut self, index: usize) -> usize {
        let mark = self.path.len();
        let _ = write!(self.path, "/{index}");
        mark
    }

    fn op(&mut self, op: &str, value: Option<&Value>) {
        if self.len > 0 {
            self.out.push(',');
        }
        self.len += 1;
        let _ = write!(
            self.out,
            r#"{{"op":"{op}","path":{}"#,
            Value::String(self.path.clone())
        );
        if let Some(value) = value {
            let _ = write!(self.out, r#","value":{value}"#);
        }
        self.out.push('}');
    }
}

/// A sync frame, read back (clients and the test kit).
#[derive(Debug, Clone, PartialEq)]
pub enum SyncFrame {
    /// The whole document at version `v`.
    Snapshot {
        /// Which document.
        doc: Doc,
        /// Its version.
        v: u64,
        /// The document.
        state: Value,
    },
    /// The operations that move the document from `base` to `base + 1`.
    Patch {
        /// Which document.
        doc: Doc,
        /// The version the operations apply to.
        base: u64,
        /// The RFC 6902 operations.
        ops: Vec<Value>,
    },
}

impl SyncFrame {
    /// Reads `text` as a sync frame; `None` for any other frame.
    #[must_use]
    pub fn from_json(text: &str) -> Option<SyncFrame> {
        if !text.starts_with(r#"{"stateroom":"#) {
            return None;
        }
        let value: Value = serde_json::from_str(text).ok()?;
        let inner = value.get("stateroom")?;
        let doc = Doc::from_wire(inner.get("sync")?.as_str()?)?;
        if let Some(v) = inner.get("v") {
            return Some(SyncFrame::Snapshot {
                doc,
                v: v.as_u64()?,
                state: inner.get("state")?.clone(),
            });
        }
        Some(SyncFrame::Patch {
            doc,
            base: inner.get("base")?.as_u64()?,
            ops: inner.get("patch")?.as_array()?.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops(old: &Value, new: &Value) -> Value {
        serde_json::from_str(diff(old, new).as_json()).unwrap()
    }

    #[test]
    fn equal_values_give_an_empty_patch() {
        let value = json!({"a": [1, 2, {"b": null}], "c": "d"});
        let patch = diff(&value, &value.clone());
        assert!(patch.is_empty());
        assert_eq!(patch.as_json(), "[]");
    }

    #[test]
    fn one_changed_field_of_a_thousand_units_is_one_operation() {
        let units: Vec<Value> = (0..1000)
            .map(|i| json!({"id": i, "x": i, "y": 0}))
            .collect();
        let old = json!({ "units": units });
        let mut new = old.clone();
        new["units"][500]["x"] = json!(-1);
        assert_eq!(
            ops(&old, &new),
            json!([{"op": "replace", "path": "/units/500/x", "value": -1}])
        );
    }

    #[test]
    fn one_element_removed_or_inserted_is_one_operation() {
        let old = json!([1, 2, 3, 4, 5]);
        assert_eq!(
            ops(&old, &json!([1, 2, 4, 5])),
            json!([{"op": "remove", "path": "/2"}])
        );
        assert_eq!(
            ops(&old, &json!([1, 2, 9, 3, 4, 5])),
            json!([{"op": "add", "path": "/2", "value": 9}])
        );
        assert_eq!(
            ops(&old, &json!([1, 2])),
            json!([
                {"op": "remove", "path": "/2"},
                {"op": "remove", "path": "/2"},
                {"op": "remove", "path": "/2"}
            ])
        );
    }

    #[test]
    fn keys_are_escaped_as_json_pointers() {
        let old = json!({});
        let new = json!({"a/b": 1, "c~d": 2, "q\"": 3});
        assert_eq!(
            ops(&old, &new),
            json!([
                {"op": "add", "path": "/a~1b", "value": 1},
                {"op": "add", "path": "/c~0d", "value": 2},
                {"op": "add", "path": "/q\"", "value": 3}
            ])
        );
    }

    #[test]
    fn a_changed_type_is_replaced_whole() {
        assert_eq!(
            ops(&json!({"a": [1]}), &json!({"a": {"0": 1}})),
            json!([{"op": "replace", "path": "/a", "value": {"0": 1}}])
        );
        assert_eq!(
            ops(&json!(1), &json!("x")),
            json!([{"op": "replace", "path": "", "value": "x"}])
        );
    }

    #[test]
    fn frames_read_back() {
        let snapshot = snapshot_frame(Doc::Private, 3, &json!({"hand": [1]}));
        assert_eq!(
            SyncFrame::from_json(&snapshot),
            Some(SyncFrame::Snapshot {
                doc: Doc::Private,
                v: 3,
                state: json!({"hand": [1]})
            })
        );
        let patch = diff(&json!({"a": 1}), &json!({"a": 2})).frame(Doc::Shared, 9);
        assert_eq!(
            SyncFrame::from_json(&patch),
            Some(SyncFrame::Patch {
                doc: Doc::Shared,
                base: 9,
                ops: vec![json!({"op": "replace", "path": "/a", "value": 2})]
            })
        );
        assert_eq!(SyncFrame::from_json(r#"{"stateroom":{"applied":1}}"#), None);
        assert_eq!(SyncFrame::from_json(r#"{"say":"hi"}"#), None);
        assert!(is_resync_request(RESYNC_REQUEST));
        assert!(is_resync_request(r#"{"stateroom": {"resync": true}}"#));
        assert!(!is_resync_request(r#"{"stateroom":{"resync":false}}"#));
        assert!(!is_resync_request(r#"{"resync":true}"#));
    }
}
