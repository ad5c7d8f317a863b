//! `inbound`'s parser against frames built by hand: every length field,
//! every cut, what goes to tungstenite, the limits, and the unmasking.

#![allow(clippy::unwrap_used, clippy::panic)]

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
    let Parsed::Message(Message::Text(text), _) = parse(&frame(0x81, b"hello", KEY), LIMITS, true)
    else {
        panic!("not a text message");
    };
    let bytes = bytes::Bytes::from(text);
    assert_eq!(&bytes[..], b"hello");
}

/// A whole, masked, final ping or pong is read here, as data frames are
/// (no tungstenite state is made for it); the reader queues a ping's pong.
#[test]
fn pings_and_pongs_are_read_here() {
    let ping = frame(0x89, b"are you there", KEY);
    match parse(&ping, LIMITS, true) {
        Parsed::Message(Message::Ping(payload), used) => {
            assert_eq!(&payload[..], b"are you there");
            assert_eq!(used, ping.len());
        }
        other => panic!("{other:?}"),
    }
    match parse(&frame(0x8a, b"", KEY), LIMITS, true) {
        Parsed::Message(Message::Pong(payload), 6) => assert!(payload.is_empty()),
        other => panic!("{other:?}"),
    }
    // Inside a fragmented message, or once closing: tungstenite's.
    assert!(matches!(
        parse(&ping, LIMITS, false),
        Parsed::Frame { fin: None, .. }
    ));
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
    // A close, and pings and pongs that break a rule: unmasked, a reserved
    // bit, not final (a control frame may not be fragmented).
    whole(&frame(0x88, &[0x03, 0xe8], KEY), None);
    whole(&frame(0x89, b"ping", None), None);
    whole(&frame(0xa9, b"rsv2", KEY), None);
    whole(&frame(0x09, b"part", KEY), None);
    whole(&frame(0x0a, b"part", KEY), None);
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
