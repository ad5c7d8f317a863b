//! The link's frames: a 9-byte head (kind, stream, payload length, big
//! endian) and the payload.

use bytes::{Buf, Bytes, BytesMut};
use std::ops::Deref;

/// Bytes in a frame's head.
pub(crate) const HEAD: usize = 9;
/// Longest payload a node sends in one frame (a longer write is split).
pub(crate) const MAX_PAYLOAD: usize = 64 * 1024;

/// What a frame says about its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A new stream, opened by the forwarding node: a connection to the
    /// owner's internal port, whose bytes follow as [`Data`](Kind::Data).
    Open,
    /// The stream's next bytes.
    Data,
    /// The sender writes nothing more on the stream (its side's shutdown);
    /// it still reads.
    End,
    /// The sender's end of the stream is gone: it reads and writes nothing
    /// more (a closed connection).
    Close,
    /// The sender has taken this many more of the stream's bytes (payload:
    /// a `u32`): the receiver may send that many more.
    Credit,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Open => 1,
            Kind::Data => 2,
            Kind::End => 3,
            Kind::Close => 4,
            Kind::Credit => 5,
        }
    }

    fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            1 => Kind::Open,
            2 => Kind::Data,
            3 => Kind::End,
            4 => Kind::Close,
            5 => Kind::Credit,
            _ => return None,
        })
    }
}

/// One frame read off the link.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) kind: Kind,
    pub(crate) stream: u32,
    pub(crate) payload: Bytes,
}

/// The peer sent what no node sends: the link is dropped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// A kind byte no node sends.
    #[error("unknown link frame kind {0}")]
    Kind(u8),
    /// A payload longer than [`MAX_PAYLOAD`].
    #[error("link frame of {0} bytes is too long")]
    TooLong(usize),
    /// A credit frame whose payload is not four bytes.
    #[error("credit frame of {0} bytes")]
    Credit(usize),
}

/// Appends a frame whose payload is the first `len` bytes of `parts`, one
/// after the other (`len` at most [`MAX_PAYLOAD`] and their total).
pub(crate) fn put<B: Deref<Target = [u8]>>(
    out: &mut Vec<u8>,
    kind: Kind,
    stream: u32,
    len: usize,
    parts: &[B],
) {
    debug_assert!(len <= MAX_PAYLOAD);
    out.reserve(HEAD + len);
    out.push(kind.byte());
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(&(len as u32).to_be_bytes());
    let mut left = len;
    for part in parts {
        let take = part.len().min(left);
        out.extend_from_slice(&part[..take]);
        left -= take;
        if left == 0 {
            break;
        }
    }
    debug_assert_eq!(left, 0);
}

/// Takes the next whole frame off the front of `buffer`, if one has
/// arrived.
pub(crate) fn next(buffer: &mut BytesMut) -> Result<Option<Frame>, Malformed> {
    if buffer.len() < HEAD {
        return Ok(None);
    }
    let kind = Kind::from_byte(buffer[0]).ok_or(Malformed::Kind(buffer[0]))?;
    let stream = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]);
    let len = u32::from_be_bytes([buffer[5], buffer[6], buffer[7], buffer[8]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(Malformed::TooLong(len));
    }
    if kind == Kind::Credit && len != 4 {
        return Err(Malformed::Credit(len));
    }
    if buffer.len() < HEAD + len {
        return Ok(None);
    }
    buffer.advance(HEAD);
    let payload = buffer.split_to(len).freeze();
    Ok(Some(Frame {
        kind,
        stream,
        payload,
    }))
}

/// A credit frame's count.
pub(crate) fn credit(payload: &[u8]) -> usize {
    payload
        .try_into()
        .map(u32::from_be_bytes)
        .map_or(0, |n| n as usize)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_read_back_whole_in_order_whatever_the_cut() {
        let mut wire = Vec::new();
        let none: [&[u8]; 0] = [];
        put(&mut wire, Kind::Open, 7, 0, &none);
        put(
            &mut wire,
            Kind::Data,
            7,
            11,
            &[&b"hello "[..], b"world and more"],
        );
        put(&mut wire, Kind::Credit, 9, 4, &[&1234u32.to_be_bytes()[..]]);
        put(&mut wire, Kind::Close, 7, 0, &none);
        for cut in 0..wire.len() {
            let mut buffer = BytesMut::from(&wire[..cut]);
            let mut got = Vec::new();
            while let Some(frame) = next(&mut buffer).unwrap() {
                got.push(frame);
            }
            buffer.extend_from_slice(&wire[cut..]);
            while let Some(frame) = next(&mut buffer).unwrap() {
                got.push(frame);
            }
            assert!(buffer.is_empty());
            let kinds: Vec<_> = got.iter().map(|f| (f.kind, f.stream)).collect();
            assert_eq!(
                kinds,
                [
                    (Kind::Open, 7),
                    (Kind::Data, 7),
                    (Kind::Credit, 9),
                    (Kind::Close, 7)
                ]
            );
            assert_eq!(&got[1].payload[..], b"hello world");
            assert_eq!(credit(&got[2].payload), 1234);
        }
    }

    #[test]
    fn what_no_node_sends_is_refused() {
        let mut buffer = BytesMut::from(&[9u8, 0, 0, 0, 1, 0, 0, 0, 0][..]);
        assert_eq!(next(&mut buffer).unwrap_err(), Malformed::Kind(9));
        let mut long = vec![2u8, 0, 0, 0, 1];
        long.extend_from_slice(&(MAX_PAYLOAD as u32 + 1).to_be_bytes());
        assert_eq!(
            next(&mut BytesMut::from(&long[..])).unwrap_err(),
            Malformed::TooLong(MAX_PAYLOAD + 1)
        );
        let mut credit = Vec::new();
        put(&mut credit, Kind::Credit, 1, 2, &[&b"12"[..]]);
        assert_eq!(
            next(&mut BytesMut::from(&credit[..])).unwrap_err(),
            Malformed::Credit(2)
        );
    }
}
