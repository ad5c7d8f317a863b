//! JSON log lines with the fields of the spans an event happened in lifted
//! to the top level, so a collector filters on `room` (or `client`, `peer`)
//! without digging through `spans[]`:
//!
//! ```json
//! {"timestamp":"…","level":"INFO","target":"…","room":"lobby","client":"3",
//!  "fields":{"message":"client joined","client":"3"},"spans":[{"name":"room","room":"lobby"}]}
//! ```
//!
//! An event's own fields stay under `fields` (and win over a span's field
//! of the same name at the top level); inner spans win over outer ones.

use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON event format (`--log-format json`).
pub(crate) struct FlatJson;

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

impl<S> FormatEvent<S, JsonFields> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), timestamp.into());
        let metadata = event.metadata();
        line.insert("level".into(), metadata.level().as_str().into());
        line.insert("target".into(), metadata.target().into());
        let mut spans = Vec::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let mut fields = extensions
                    .get::<FormattedFields<JsonFields>>()
                    .and_then(|formatted| {
                        serde_json::from_str::<Map<String, Value>>(formatted).ok()
                    })
                    .unwrap_or_default();
                for (name, value) in &fields {
                    line.insert(name.clone(), value.clone());
                }
                fields.insert("name".into(), span.name().into());
                spans.push(Value::Object(fields));
            }
        }
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        for (name, value) in &fields {
            if name != "message" {
                line.insert(name.clone(), value.clone());
            }
        }
        line.insert("fields".into(), Value::Object(fields));
        line.insert("spans".into(), Value::Array(spans));
        writeln!(writer, "{}", Value::Object(line))
    }
}
