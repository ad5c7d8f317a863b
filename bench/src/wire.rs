//! The generator's own WebSocket client for `/ws/{room}` servers: a plain
//! HTTP/1.1 upgrade, then frames read straight out of one buffer per
//! connection and relayed payloads read by a scanner that only looks at the
//! three fields it needs.
//!
//! A fan-out run makes the generator receive a hundred messages for each one
//! sent, so the receive path is what bounds how far it can drive a server.
//! Through `tokio-tungstenite` each message costs a frame object, a UTF-8
//! check, a wake-up and a full JSON parse (about 1 µs on these machines,
//! which capped the generator near a million deliveries a second); here each
//! wake-up is one read into one buffer, and every complete frame in it is
//! handled in one pass.
//!
//! It is a client for benchmarks, not a general one: no TLS, no extensions,
//! and it trusts the server to speak the protocol (a frame it cannot read
//! ends the connection as an error, which the report counts).

use crate::payload::Received;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Bytes a connection reads into before it parses; grows for a larger frame.
const READ_CHUNK: usize = 32 * 1024;
/// Largest handshake response accepted.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// One open WebSocket connection.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    /// Bytes read but not yet parsed are `buf[start..]`. Empty (no
    /// allocation) while the connection is idle.
    buf: Vec<u8>,
    start: usize,
    /// A message arriving in several frames.
    fragments: Option<Vec<u8>>,
    /// Control replies (pongs) not yet written.
    pending: Vec<u8>,
    /// Frame being written; reused.
    out: Vec<u8>,
    mask_state: u32,
}

/// Why a connection ended.
#[derive(Debug, thiserror::Error)]
pub enum Closed {
    /// The socket failed or reached end of file.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// The server sent a close frame.
    #[error("closed by the server")]
    ByServer,
    /// The server sent bytes that are not a WebSocket frame this client reads.
    #[error("unreadable frame")]
    Protocol,
}

/// Opens `ws://{target}{path}` with `TCP_NODELAY` (as browsers set it).
///
/// # Errors
/// When the connection fails or the server does not answer `101`.
pub async fn connect(target: &str, path: &str, seed: u32) -> Result<Conn, String> {
    let stream = TcpStream::connect(target)
        .await
        .map_err(|e| format!("connect {target}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        start: 0,
        fragments: None,
        pending: Vec::new(),
        out: Vec::new(),
        mask_state: seed | 1,
    };
    // The key only has to be 16 bytes in base64; the answer is not checked
    // against it (the generator talks to servers it started).
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {target}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    conn.stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let head_end = loop {
        if let Some(at) = find(&conn.buf, b"\r\n\r\n") {
            break at + 4;
        }
        if conn.buf.len() > MAX_RESPONSE_HEAD {
            return Err("handshake response too long".to_owned());
        }
        conn.stream.readable().await.map_err(|e| e.to_string())?;
        match conn.fill() {
            Ok(0) => return Err("closed during the handshake".to_owned()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e.to_string()),
        }
    };
    let status = conn.buf[..head_end].split(|&b| b == b'\n').next();
    if !status.is_some_and(|line| line.starts_with(b"HTTP/1.1 101")) {
        let line = String::from_utf8_lossy(status.unwrap_or_default());
        return Err(format!("no upgrade: {}", line.trim_end()));
    }
    // Frames sent right after the 101 stay in the buffer.
    conn.start = head_end;
    Ok(conn)
}

impl Conn {
    /// Waits until the server has sent something, then pushes every relayed
    /// payload that has fully arrived onto `into` (frames that are not one,
    /// such as a service's own greeting, are skipped). Cancel-safe: its only
    /// wait is for readiness.
    ///
    /// # Errors
    /// When the connection ended; payloads read before the end are in `into`.
    pub async fn recv(&mut self, into: &mut Vec<Received>) -> Result<(), Closed> {
        // Frames read along with the handshake's answer.
        let before = into.len();
        self.parse(into)?;
        if into.len() > before {
            return Ok(());
        }
        // One read per wake-up: a short read tells tokio the socket is
        // drained (it clears the readiness), so no second read just to hear
        // `WouldBlock`: at low rates that halves the generator's syscalls.
        self.make_room();
        let read = self.stream.read_buf(&mut self.buf).await?;
        self.parse(into)?;
        if read == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
        }
        Ok(())
    }

    /// Sends one masked text frame.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.write_frame(0x1, text.as_bytes()).await
    }

    /// Sends a close frame (1000) and waits for it to be written.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn close(&mut self) -> io::Result<()> {
        self.write_frame(0x8, &1000u16.to_be_bytes()).await
    }

    /// Writes one masked frame, after whatever of a pong the socket has not
    /// taken yet: a frame never starts inside another.
    async fn write_frame(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        let mask = self.next_mask();
        self.out.clear();
        self.out.append(&mut self.pending);
        frame(&mut self.out, opcode, payload, mask);
        self.stream.write_all(&self.out).await
    }

    /// One non-blocking read onto the end of the buffer.
    fn fill(&mut self) -> io::Result<usize> {
        self.make_room();
        self.stream.try_read_buf(&mut self.buf)
    }

    /// Makes sure a read has at least a quarter of [`READ_CHUNK`] to fill.
    fn make_room(&mut self) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            self.buf.reserve(READ_CHUNK);
        }
    }

    /// Handles every complete frame in the buffer.
    fn parse(&mut self, into: &mut Vec<Received>) -> Result<(), Closed> {
        while let Some(header) = Header::read(&self.buf[self.start..])? {
            let begin = self.start + header.len;
            let end = begin + header.payload;
            if end > self.buf.len() {
                // Wait for the rest; make sure it fits.
                self.buf.reserve(end - self.buf.len());
                break;
            }
            if let Some(key) = header.mask {
                for (i, byte) in self.buf[begin..end].iter_mut().enumerate() {
                    *byte ^= key[i % 4];
                }
            }
            self.start = end;
            let payload = begin..end;
            match header.opcode {
                0x1 | 0x2 if header.fin => {
                    if self.fragments.is_some() {
                        return Err(Closed::Protocol);
                    }
                    into.extend(scan(&self.buf[payload]));
                }
                0x1 | 0x2 => {
                    if self.fragments.is_some() {
                        return Err(Closed::Protocol);
                    }
                    self.fragments = Some(self.buf[payload].to_vec());
                }
                0x0 => {
                    let Some(mut message) = self.fragments.take() else {
                        return Err(Closed::Protocol);
                    };
                    message.extend_from_slice(&self.buf[payload]);
                    if header.fin {
                        into.extend(scan(&message));
                    } else {
                        self.fragments = Some(message);
                    }
                }
                0x8 => return Err(Closed::ByServer),
                0x9 => {
                    let mask = self.next_mask();
                    let ping = self.buf[payload].to_vec();
                    frame(&mut self.pending, 0xA, &ping, mask);
                }
                0xA => {}
                _ => return Err(Closed::Protocol),
            }
        }
        self.flush_pending()?;
        Ok(())
    }

    /// Writes queued pongs as far as the socket takes them without waiting.
    fn flush_pending(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            match self.stream.try_write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A fresh masking key (xorshift; RFC 6455 asks for unpredictability
    /// against proxies caching, which a loopback benchmark does not have).
    fn next_mask(&mut self) -> [u8; 4] {
        let mut x = self.mask_state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask_state = x;
        x.to_ne_bytes()
    }
}

/// A frame's header, as far as this client needs it.
struct Header {
    fin: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    /// Bytes of header.
    len: usize,
    /// Bytes of payload.
    payload: usize,
}

impl Header {
    /// The header at the start of `bytes`, or `None` if it has not all arrived.
    fn read(bytes: &[u8]) -> Result<Option<Header>, Closed> {
        let [first, second, ..] = *bytes else {
            return Ok(None);
        };
        if first & 0x70 != 0 {
            return Err(Closed::Protocol);
        }
        let (payload, mut len) = match second & 0x7F {
            126 if bytes.len() >= 4 => (usize::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 if bytes.len() >= 10 => {
                let mut size = [0; 8];
                size.copy_from_slice(&bytes[2..10]);
                let size =
                    usize::try_from(u64::from_be_bytes(size)).map_err(|_| Closed::Protocol)?;
                (size, 10)
            }
            126 | 127 => return Ok(None),
            small => (usize::from(small), 2),
        };
        let mask = if second & 0x80 != 0 {
            let Some(key) = bytes.get(len..len + 4) else {
                return Ok(None);
            };
            len += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        Ok(Some(Header {
            fin: first & 0x80 != 0,
            opcode: first & 0x0F,
            mask,
            len,
            payload,
        }))
    }
}

/// Appends a masked client frame.
fn frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `c`, `s` and `t` fields of a relayed JSON object, in any order and
/// among any other fields, or `None` if it is not one. A top-level scan that
/// stops once all three are read, so the padding after them is never looked
/// at; anything it does not expect (escapes in keys, nesting before the
/// fields) falls back to `serde_json`.
#[must_use]
pub fn scan(json: &[u8]) -> Option<Received> {
    let mut fields = [None::<u64>; 3];
    let mut at = skip_space(json, 0);
    if json.get(at) != Some(&b'{') {
        return None;
    }
    at += 1;
    loop {
        at = skip_space(json, at);
        if json.get(at) != Some(&b'"') {
            break;
        }
        let key_start = at + 1;
        let key_end = key_start + json.get(key_start..)?.iter().position(|&b| b == b'"')?;
        let key = &json[key_start..key_end];
        if key.contains(&b'\\') {
            break;
        }
        at = skip_space(json, key_end + 1);
        if json.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(json, at + 1);
        match json.get(at)? {
            b'0'..=b'9' => {
                let slot = match key {
                    b"c" => 0,
                    b"s" => 1,
                    b"t" => 2,
                    // Another number (the server's `from`): skipped, not read.
                    _ => {
                        at += json[at..].iter().take_while(|b| b.is_ascii_digit()).count();
                        at = skip_space(json, at);
                        match json.get(at) {
                            Some(b',') => {
                                at += 1;
                                continue;
                            }
                            _ => break,
                        }
                    }
                };
                let (value, past) = number(json, at)?;
                fields[slot] = Some(value);
                if let [Some(c), Some(s), Some(t)] = fields {
                    return Some(Received {
                        c: u32::try_from(c).ok()?,
                        s,
                        t,
                    });
                }
                at = past;
            }
            b'"' => at = skip_string(json, at)?,
            _ => break,
        }
        at = skip_space(json, at);
        match json.get(at) {
            Some(b',') => at += 1,
            _ => break,
        }
    }
    serde_json::from_slice(json).ok()
}

/// The unsigned integer at `at` and the index past it; `None` past `u64`.
/// One pass without a check per digit: any 19 digits fit a `u64`, longer
/// numbers go the slow way.
fn number(json: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    let mut end = at;
    while let Some(digit) = json.get(end).map(|b| b.wrapping_sub(b'0')) {
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        end += 1;
    }
    match end - at {
        0 => None,
        1..=19 => Some((value, end)),
        _ => Some((std::str::from_utf8(&json[at..end]).ok()?.parse().ok()?, end)),
    }
}

fn skip_space(json: &[u8], mut at: usize) -> usize {
    while json.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The index just past the string starting at `at` (a `"`).
fn skip_string(json: &[u8], mut at: usize) -> Option<usize> {
    at += 1;
    loop {
        match json.get(at)? {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{self, Relayed, Sent};

    #[test]
    fn the_scanner_reads_relayed_payloads_in_any_field_order() {
        let sent: Sent = serde_json::from_str(&payload::encode(7, 41, 123_456_789, 200)).unwrap();
        let relayed = serde_json::to_string(&Relayed::new(99, &sent)).unwrap();
        let got = scan(relayed.as_bytes()).unwrap();
        assert_eq!((got.c, got.s, got.t), (7, 41, 123_456_789));
        let reordered = r#" { "p" : "a \" b", "t":3 , "from":1,"s":2,"c":1 } "#;
        let got = scan(reordered.as_bytes()).unwrap();
        assert_eq!((got.c, got.s, got.t), (1, 2, 3));
    }

    #[test]
    fn the_scanner_falls_back_or_refuses() {
        // A nested value before the fields: serde_json reads it.
        let nested = br#"{"meta":{"x":1},"c":4,"s":5,"t":6}"#;
        let got = scan(nested).unwrap();
        assert_eq!((got.c, got.s, got.t), (4, 5, 6));
        assert!(scan(br#"{"type":"session","id":3}"#).is_none());
        assert!(scan(b"not json").is_none());
        assert!(scan(br#"{"c":1,"s":2"#).is_none());
        assert!(scan(br#"{"c":99999999999,"s":2,"t":3}"#).is_none());
    }

    /// An unmasked server frame.
    fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first, payload.len() as u8];
        out.extend_from_slice(payload);
        out
    }

    fn relayed(c: u32, s: u64) -> Vec<u8> {
        payload::encode(c, s, 1000 + s, 60).into_bytes()
    }

    /// A scripted server: frames in the same write as the 101, a ping, a
    /// message in two fragments split across writes, then a close.
    #[tokio::test]
    async fn the_client_reads_what_a_server_may_send() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 1024];
            let n = socket.read(&mut request).await.unwrap();
            assert!(request[..n].starts_with(b"GET /ws/r HTTP/1.1\r\n"));
            let mut first =
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
            first.extend(server_frame(0x81, &relayed(1, 0)));
            first.extend(server_frame(0x81, br#"{"type":"hello"}"#));
            socket.write_all(&first).await.unwrap();
            socket.write_all(&server_frame(0x89, b"hb")).await.unwrap();
            // The pong comes back masked, with the ping's payload.
            let mut pong = [0; 8];
            socket.read_exact(&mut pong).await.unwrap();
            assert_eq!(pong[..2], [0x8A, 0x82]);
            let key = [pong[2], pong[3], pong[4], pong[5]];
            assert_eq!([pong[6] ^ key[0], pong[7] ^ key[1]], *b"hb");
            let message = relayed(2, 0);
            let (head, tail) = message.split_at(20);
            socket.write_all(&server_frame(0x01, head)).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            socket.write_all(&server_frame(0x80, tail)).await.unwrap();
            socket
                .write_all(&server_frame(0x88, &1000u16.to_be_bytes()))
                .await
                .unwrap();
            socket
        });
        let mut conn = connect(&target, "/ws/r", 7).await.unwrap();
        let mut got = Vec::new();
        let closed = loop {
            if let Err(closed) = conn.recv(&mut got).await {
                break closed;
            }
        };
        assert!(matches!(closed, Closed::ByServer), "{closed:?}");
        let got: Vec<_> = got.iter().map(|r| (r.c, r.s, r.t)).collect();
        assert_eq!(got, [(1, 0, 1000), (2, 0, 1000)], "the greeting is skipped");
        drop(server.await.unwrap());
    }

    /// A pong the socket took only part of goes out whole, before the next
    /// frame.
    #[tokio::test]
    async fn a_frame_never_starts_inside_a_pending_pong() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 1024];
            let _ = socket.read(&mut request).await.unwrap();
            socket
                .write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
                .await
                .unwrap();
            // The pong's last 3 bytes (the first 5 "were written"), then a
            // text frame of 2.
            let mut got = [0; 3 + 8];
            socket.read_exact(&mut got).await.unwrap();
            got
        });
        let mut conn = connect(&target, "/ws/r", 3).await.unwrap();
        let mut pong = Vec::new();
        frame(&mut pong, 0xA, b"hb", [9, 9, 9, 9]);
        conn.pending = pong[5..].to_vec();
        conn.send_text("hi").await.unwrap();
        let got = server.await.unwrap();
        assert_eq!(got[..3], pong[5..]);
        assert_eq!(got[3..5], [0x81, 0x82]);
        let key = [got[5], got[6], got[7], got[8]];
        assert_eq!([got[9] ^ key[0], got[10] ^ key[1]], *b"hi");
        assert!(conn.pending.is_empty());
    }

    #[tokio::test]
    async fn a_refused_upgrade_is_an_error() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let _ = socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        });
        let error = connect(&target, "/ws/r", 1).await.unwrap_err();
        assert!(error.contains("503"), "{error}");
    }

    #[test]
    fn headers_of_every_length_parse_and_partial_ones_wait() {
        let mut out = Vec::new();
        for size in [0, 125, 126, 65_535, 65_536] {
            out.clear();
            frame(&mut out, 0x1, &vec![b'x'; size], [1, 2, 3, 4]);
            let header = Header::read(&out).unwrap().unwrap();
            assert_eq!(header.payload, size);
            assert_eq!(header.len + size, out.len());
            assert_eq!(header.mask, Some([1, 2, 3, 4]));
            assert!(Header::read(&out[..header.len - 1]).unwrap().is_none());
        }
        assert!(matches!(Header::read(&[0xC1, 0]), Err(Closed::Protocol)));
    }
}
