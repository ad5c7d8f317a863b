//! A client's frames as they arrive: the common one is parsed here, straight
//! from the bytes one socket read brought; every other frame goes whole to
//! tungstenite's state machine.
//!
//! The common frame is a whole, final, masked text, binary, ping or pong
//! frame within the limits, outside a fragmented message, while the
//! WebSocket is open (the reader queues a ping's pong itself).
//! Its payload is unmasked into one allocation of its exact length (for a
//! text frame, the UTF-8 check is the only other pass), which becomes the
//! message's shared bytes. tungstenite would take three or four allocations
//! for the same frame (its read buffer is split off with the payload and
//! grown again for the next), and read the socket a few dozen bytes at a
//! time through a buffer of its own.
//!
//! Everything else (a close, fragments and the control frames between them,
//! whatever breaks a rule, and any frame once the close handshake has
//! begun) is handed to tungstenite as the whole frame and nothing more,
//! through [`Feeding`], so that its buffer never keeps bytes between calls
//! and the two readers cannot disagree about where a frame starts. It keeps
//! fragments, runs the close handshake and says which rule a frame broke, as
//! before. Its state is made only then (`wire::context`): a connection that
//! never sends it such a frame never has one. A frame longer than the
//! limits is refused at its header, with the error tungstenite gives, before
//! anything of it is buffered.

use hyper_tungstenite::tungstenite::error::{CapacityError, ProtocolError};
use hyper_tungstenite::tungstenite::protocol::WebSocketConfig;
use hyper_tungstenite::tungstenite::{Error as WsError, Message};
use std::io::{self, Read, Write};

/// A control frame's payload is at most this long (RFC 6455, 5.5).
const CONTROL_MAX: usize = 125;

/// The longest frame and message a client may send.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    frame: usize,
    message: usize,
}

impl Limits {
    pub(super) fn of(config: &WebSocketConfig) -> Self {
        Limits {
            frame: config.max_frame_size.unwrap_or(usize::MAX),
            message: config.max_message_size.unwrap_or(usize::MAX),
        }
    }
}

/// What the bytes at the front of a buffer hold.
#[derive(Debug)]
pub(super) enum Parsed {
    /// A message parsed here, and how many bytes its frame took.
    Message(Message, usize),
    /// A frame for tungstenite, `len` bytes long; `fin` is `Some` for a data
    /// frame (text, binary or continuation).
    Frame { len: usize, fin: Option<bool> },
    /// Not a whole frame yet: at least this many bytes in all.
    More(usize),
    /// A frame longer than any the client may send.
    Refused(WsError),
}

/// Parses the frame at the front of `bytes`; `plain` says whether this
/// reader may take a data frame itself (the WebSocket is open and no
/// fragmented message is under way).
pub(super) fn parse(bytes: &[u8], limits: Limits, plain: bool) -> Parsed {
    let [first, second, ..] = *bytes else {
        return Parsed::More(2);
    };
    let (len, mut head) = match second & 0x7f {
        126 => match bytes.get(2..4) {
            Some(&[high, low]) => (u64::from(u16::from_be_bytes([high, low])), 4),
            _ => return Parsed::More(4),
        },
        127 => match bytes.get(2..10) {
            Some(ext) => {
                let mut word = [0u8; 8];
                word.copy_from_slice(ext);
                (u64::from_be_bytes(word), 10)
            }
            None => return Parsed::More(10),
        },
        short => (u64::from(short), 2),
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let opcode = first & 0x0f;
    let control = opcode & 0x08 != 0;
    // The order tungstenite checks in: the frame's size at its header, then
    // a control frame's, then the message's.
    let too_long = |max_size| {
        WsError::Capacity(CapacityError::MessageTooLong {
            size: len,
            max_size,
        })
    };
    if len > limits.frame {
        return Parsed::Refused(too_long(limits.frame));
    }
    if control && len > CONTROL_MAX {
        return Parsed::Refused(WsError::Protocol(ProtocolError::ControlFrameTooBig));
    }
    if !control && len > limits.message {
        return Parsed::Refused(too_long(limits.message));
    }
    let mask = if second & 0x80 != 0 {
        match bytes.get(head..head + 4) {
            Some(&[a, b, c, d]) => {
                head += 4;
                Some([a, b, c, d])
            }
            _ => return Parsed::More(head + 4),
        }
    } else {
        None
    };
    let Some(total) = head.checked_add(len) else {
        return Parsed::Refused(too_long(usize::MAX));
    };
    let Some(frame) = bytes.get(..total) else {
        return Parsed::More(total);
    };
    let fin = first & 0x80 != 0;
    let reserved = first & 0x70 != 0;
    if plain
        && fin
        && !reserved
        && let (1 | 2 | 9 | 10, Some(mask)) = (opcode, mask)
    {
        let payload = unmask(&frame[head..], mask);
        match opcode {
            2 => return Parsed::Message(Message::Binary(payload.into()), total),
            // The reader answers a ping itself (`Wire::take`).
            9 => return Parsed::Message(Message::Ping(payload.into()), total),
            10 => return Parsed::Message(Message::Pong(payload.into()), total),
            _ => {}
        }
        // Invalid UTF-8 goes to tungstenite, which says so.
        if let Ok(text) = String::from_utf8(payload) {
            return Parsed::Message(Message::Text(text.into()), total);
        }
    }
    Parsed::Frame {
        len: total,
        fin: (opcode <= 2).then_some(fin),
    }
}

/// `payload` unmasked, in a vector of its exact length (a word at a time).
fn unmask(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = payload.to_vec();
    let [a, b, c, d] = mask;
    let wide = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut words = out.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
    }
    // The rest starts at a multiple of 8, so at the mask's first byte.
    for (byte, key) in words.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
    out
}

/// One whole frame (or nothing) as tungstenite's blocking-style stream:
/// reads give the frame's bytes, then `WouldBlock` (or, at the stream's
/// end, `0`); what tungstenite writes (a pong, a close's answer) queues in
/// `out`.
pub(super) struct Feeding<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) end: bool,
    pub(super) out: &'a mut Vec<u8>,
}

impl<'a> Feeding<'a> {
    /// No frame: tungstenite's writer outside a read (a message, a close,
    /// a flush), whose reads would block and whose writes queue in `out`.
    pub(super) fn nothing(out: &'a mut Vec<u8>) -> Self {
        Feeding {
            bytes: &[],
            end: false,
            out,
        }
    }
}

impl Read for Feeding<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return if self.end {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

impl Write for Feeding<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
