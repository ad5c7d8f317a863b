//! One spelling for durations, in flags, environment variables and the
//! defaults alike.

use std::time::Duration;

/// A duration on the command line or in the environment, one spelling for
/// every flag: a number and a unit (`500ms`, `30s`, `2m`, `1h`, `30d`); a
/// bare number is milliseconds, which is what the older `--…-ms` names
/// (kept as aliases) took.
///
/// # Errors
/// When `text` is not such a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let number: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 30s, 2m, 1h or 30d"))?;
    let seconds = |n: u64| Duration::from_secs(number.saturating_mul(n));
    match &text[digits.len()..] {
        "" | "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(seconds(1)),
        "m" => Ok(seconds(60)),
        "h" => Ok(seconds(3_600)),
        "d" => Ok(seconds(86_400)),
        _ => Err(format!(
            "`{text}` is not a duration such as 500ms, 30s, 2m, 1h or 30d"
        )),
    }
}
