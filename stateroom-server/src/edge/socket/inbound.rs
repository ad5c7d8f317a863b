//! A client's frames as they arrive: the common one is parsed here, straight
//! from the bytes one socket read brought; every other frame goes whole to
//! tungstenite's state machine.
//!
//! The common frame is a whole, final, masked text or binary frame within
//! the limits, outside a fragmented message, while the WebSocket is open.
//! Its payload is unmasked into one allocation of its exact length (for a
//! text frame, the UTF-8 check is the only other pass), which becomes the
//! message's shared bytes. tungstenite would take three or four allocations
//! for the same frame (its read buffer is split off with the payload and
//! grown again for the next), and read the socket a few dozen bytes at a
//! time through a buffer of its own.
//!
//! Everything else (control frames, fragments, whatever breaks a rule, and
//! any frame once the close handshake has begun) is handed to tungstenite
//! as the whole frame and nothing more, through [`Feeding`], so that its
//! buffer never keeps bytes between calls and the two readers cannot
//! disagree about where a frame starts. It answers pings, keeps fragments
//! and says which rule a frame broke, as before. A frame longer than the
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
        && let (1 | 2, Some(mask)) = (opcode, mask)
    {
        let payload = unmask(&frame[head..], mask);
        if opcode == 2 {
            return Parsed::Message(Message::Binary(payload.into()), total);
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
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        frame: 1 << 20,
        message: 1 << 20,
    };

    /// A client's frame: `first` byte (FIN, RSV, opcode), masked with `mask`
    /// if any.
    fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = vec![first];
        let flag = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            len @ 0..=125 => out.push(flag | len as u8),
            len @ 126..=65_535 => {
                out.push(flag | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(flag | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        match mask {
            Some(key) => {
                out.extend_from_slice(&key);
                out.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
            }
            None => out.extend_from_slice(payload),
        }
        out
    }

    const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

    #[test]
    fn text_and_binary_of_every_length_field_parse_whole_wherever_a_read_cuts_them() {
        for len in [0, 1, 7, 8, 9, 125, 126, 127, 1000, 65_535, 65_536, 70_001] {
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let binary: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            for (bytes, want) in [
                (
                    frame(0x81, text.as_bytes(), KEY),
                    Message::text(text.clone()),
                ),
                (frame(0x82, &binary, KEY), Message::binary(binary.clone())),
            ] {
                for cut in [0, 1, 2, 3, 5, 9, 13, bytes.len() - 1] {
                    if cut >= bytes.len() {
                        continue;
                    }
                    match parse(&bytes[..cut], LIMITS, true) {
                        Parsed::More(need) => assert!(need > cut && need <= bytes.len()),
                        other => panic!("{len} bytes cut at {cut}: {other:?}"),
                    }
                }
                let mut two = bytes.clone();
                two.extend_from_slice(&bytes);
                match parse(&two, LIMITS, true) {
                    Parsed::Message(message, used) => {
                        assert_eq!(used, bytes.len());
                        assert_eq!(message, want);
                    }
                    other => panic!("{len} bytes: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_messages_bytes_are_exactly_its_own() {
        let Parsed::Message(Message::Text(text), _) =
            parse(&frame(0x81, b"hello", KEY), LIMITS, true)
        else {
            panic!("not a text message");
        };
        let bytes = bytes::Bytes::from(text);
        assert_eq!(&bytes[..], b"hello");
    }

    #[test]
    fn what_tungstenite_decides_goes_to_it_whole() {
        let whole = |bytes: &[u8], fin: Option<bool>| match parse(bytes, LIMITS, true) {
            Parsed::Frame { len, fin: got } => {
                assert_eq!(len, bytes.len());
                assert_eq!(got, fin);
            }
            other => panic!("{bytes:?}: {other:?}"),
        };
        // Control frames.
        whole(&frame(0x89, b"ping", KEY), None);
        whole(&frame(0x8a, b"", KEY), None);
        whole(&frame(0x88, &[0x03, 0xe8], KEY), None);
        // Fragments, and a continuation.
        whole(&frame(0x01, b"part", KEY), Some(false));
        whole(&frame(0x80, b"end", KEY), Some(true));
        // Broken rules: unmasked, reserved bits, reserved opcodes, bad UTF-8.
        whole(&frame(0x81, b"plain", None), Some(true));
        whole(&frame(0xc1, b"rsv1", KEY), Some(true));
        whole(&frame(0x83, b"op3", KEY), None);
        whole(&frame(0x8b, b"opb", KEY), None);
        whole(&frame(0x81, &[0xff, 0xfe], KEY), Some(true));
        // A frame this reader may not take: after the close handshake began,
        // or inside a fragmented message.
        match parse(&frame(0x81, b"late", KEY), LIMITS, false) {
            Parsed::Frame {
                fin: Some(true), ..
            } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_frame_past_the_limits_is_refused_at_its_header() {
        let limits = Limits {
            frame: 1000,
            message: 500,
        };
        let head = |first: u8, len: u16| {
            let mut bytes = vec![first, 0x80 | 126];
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes
        };
        let refused = |bytes: &[u8]| match parse(bytes, limits, true) {
            Parsed::Refused(error) => error,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            refused(&head(0x81, 1001)),
            WsError::Capacity(CapacityError::MessageTooLong {
                size: 1001,
                max_size: 1000
            })
        ));
        assert!(matches!(
            refused(&head(0x82, 501)),
            WsError::Capacity(CapacityError::MessageTooLong {
                size: 501,
                max_size: 500
            })
        ));
        assert!(matches!(
            refused(&head(0x89, 126)),
            WsError::Protocol(ProtocolError::ControlFrameTooBig)
        ));
        // A 64-bit length no machine could hold.
        assert!(matches!(
            refused(&[0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            WsError::Capacity(_)
        ));
        match parse(&head(0x82, 500), limits, true) {
            Parsed::More(need) => assert_eq!(need, 8),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unmasking_a_word_at_a_time_matches_byte_by_byte() {
        let mask = [1, 2, 4, 128];
        for len in 0..40 {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let slow: Vec<u8> = payload
                .iter()
                .zip(mask.iter().cycle())
                .map(|(b, k)| b ^ k)
                .collect();
            let fast = unmask(&payload, mask);
            assert_eq!(fast, slow);
            assert_eq!(fast.capacity(), len, "exact length");
        }
    }

    #[test]
    fn feeding_gives_the_frame_then_would_block_or_the_end() {
        let mut out = Vec::new();
        let mut feeding = Feeding {
            bytes: b"abcde",
            end: false,
            out: &mut out,
        };
        let mut buf = [0u8; 3];
        assert_eq!(feeding.read(&mut buf).unwrap(), 3);
        assert_eq!(feeding.read(&mut buf).unwrap(), 2);
        let error = feeding.read(&mut buf).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
        feeding.write_all(b"pong").unwrap();
        let mut ended = Feeding {
            bytes: b"",
            end: true,
            out: &mut out,
        };
        assert_eq!(ended.read(&mut buf).unwrap(), 0);
        assert_eq!(out, b"pong");
    }
}
