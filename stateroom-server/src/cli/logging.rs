//! Log output: `tracing` to stderr, as text or JSON lines.

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the room and client ids as fields.
    Json,
}

/// Sets up `tracing` output to stderr, filtered by `RUST_LOG` (default
/// `info`), as text or as JSON per `STATEROOM_LOG_FORMAT` (`text`, the
/// default, or `json`). Does nothing if a global subscriber is already set.
pub fn init_logging() {
    let json = std::env::var("STATEROOM_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    init_logging_as(if json {
        LogFormat::Json
    } else {
        LogFormat::Text
    });
}

/// Sets up `tracing` output to stderr in `format`, filtered by `RUST_LOG`
/// (default `info`). Text is coloured only when stderr is a terminal and
/// `NO_COLOR` is not set, so log files and collectors get plain lines. In JSON, each line is an object with `timestamp`,
/// `level`, `target`, the fields of the spans it happened in at the top
/// level (`room` on a room's lines, `client` on a connection's), `fields`
/// (the message and the event's own fields) and `spans` (each span's name
/// and fields). Does nothing if a global subscriber is already set.
pub fn init_logging_as(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal as _;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(super::json_log::FlatJson)
            .try_init(),
    };
}
