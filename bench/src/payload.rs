//! The one JSON payload every benchmarked server handles the same way: parse
//! the inbound message once, add the sender, serialise once, send it on.

use serde::{Deserialize, Serialize};

/// What a load client sends: `{"c":CLIENT,"s":SEQ,"t":SENT_NS,"p":"…"}`, where
/// `t` is the intended send time in nanoseconds since the generator started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sent {
    /// The sending client's index in the generator.
    pub c: u32,
    /// The sender's sequence number, from 0.
    pub s: u64,
    /// Intended send time (ns since the generator's start).
    pub t: u64,
    /// Padding up to the configured payload size.
    pub p: String,
}

/// What the servers send on: the same fields plus `from`, the server's id for
/// the sender.
#[derive(Debug, Clone, Serialize)]
pub struct Relayed<'a> {
    /// The server's id of the sending connection.
    pub from: u64,
    /// See [`Sent::c`].
    pub c: u32,
    /// See [`Sent::s`].
    pub s: u64,
    /// See [`Sent::t`].
    pub t: u64,
    /// See [`Sent::p`].
    pub p: &'a str,
}

impl<'a> Relayed<'a> {
    /// `sent`, relayed from `from`.
    #[must_use]
    pub fn new(from: u64, sent: &'a Sent) -> Self {
        Relayed {
            from,
            c: sent.c,
            s: sent.s,
            t: sent.t,
            p: &sent.p,
        }
    }
}

/// The fields the generator reads back from a relayed message.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Received {
    /// See [`Sent::c`].
    pub c: u32,
    /// See [`Sent::s`].
    pub s: u64,
    /// See [`Sent::t`].
    pub t: u64,
}

impl Sent {
    /// A message whose JSON form is about `size` bytes.
    #[must_use]
    pub fn new(c: u32, s: u64, t: u64, size: usize) -> Self {
        let overhead = encode(c, s, t, 0).len();
        Sent {
            c,
            s,
            t,
            p: "x".repeat(size.saturating_sub(overhead)),
        }
    }
}

/// A JSON message of about `size` bytes.
#[must_use]
pub fn encode(c: u32, s: u64, t: u64, size: usize) -> String {
    let mut text = format!("{{\"c\":{c},\"s\":{s},\"t\":{t},\"p\":\"");
    let pad = size.saturating_sub(text.len() + 2);
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_parse_and_have_the_size_asked() {
        let text = encode(3, 9, 12345, 128);
        assert_eq!(text.len(), 128);
        let sent: Sent = serde_json::from_str(&text).unwrap();
        assert_eq!((sent.c, sent.s, sent.t), (3, 9, 12345));
        let relayed = serde_json::to_string(&Relayed::new(7, &sent)).unwrap();
        let back: Received = serde_json::from_str(&relayed).unwrap();
        assert_eq!((back.c, back.s, back.t), (3, 9, 12345));
    }
}
