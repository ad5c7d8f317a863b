//! A server's data frames as bytes on the wire (RFC 6455: final, unmasked),
//! for the connection's writer and for the shard's flusher alike.

use hyper_tungstenite::tungstenite::Message;

/// The longest frame header a server writes (no mask).
pub(crate) const MAX_HEAD: usize = 10;

/// A data frame's opcode and bytes; `None` for what tungstenite writes
/// itself (pongs, closes, raw frames). A ping is ours only while it fits a
/// control frame.
pub(crate) fn data(message: &Message) -> Option<(u8, &[u8])> {
    match message {
        Message::Text(text) => Some((0x1, text.as_bytes())),
        Message::Binary(bytes) => Some((0x2, bytes)),
        Message::Ping(bytes) if bytes.len() <= 125 => Some((0x9, bytes)),
        _ => None,
    }
}

/// Writes a final, unmasked frame's header into `head`; returns its length.
pub(crate) fn encode_head(opcode: u8, len: usize, head: &mut [u8; MAX_HEAD]) -> usize {
    head[0] = 0x80 | opcode;
    if len < 126 {
        head[1] = len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        head[1] = 126;
        head[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        head[1] = 127;
        head[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    }
}

/// Appends a data frame (header and bytes) to `out`.
pub(crate) fn extend(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    let mut head = [0u8; MAX_HEAD];
    let len = encode_head(opcode, payload.len(), &mut head);
    out.extend_from_slice(&head[..len]);
    out.extend_from_slice(payload);
}
