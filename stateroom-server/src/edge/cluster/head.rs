//! A peer node's answer to one of ours (a forwarded join, a link's upgrade,
//! a call to its internal port): its head, read and parsed, and the bytes
//! that came after it. Each caller bounds the wait with its own timeout.

use hyper::StatusCode;
use hyper::header::{HeaderName, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest response head accepted from a peer.
const MAX_HEAD: usize = 16 * 1024;

/// Headers a peer's answer may carry.
const MAX_HEADERS: usize = 64;

/// Why a peer's answer has no head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// The stream ended, or failed, before the head did.
    Ended,
    /// Not an HTTP response head, or one longer than [`MAX_HEAD`].
    Nonsense,
}

/// A peer's answer head.
#[derive(Debug)]
pub(crate) struct Head {
    /// Its status (`502` for a code HTTP has no meaning for).
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// What was read past the head: a body's start, or a link's first
    /// frames.
    pub(crate) rest: Vec<u8>,
}

/// Reads `io` until a whole response head has come.
pub(crate) async fn read_head(io: &mut (impl AsyncRead + Unpin)) -> Result<Head, HeadError> {
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        match io.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(HeadError::Ended),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        if let Some(head) = parse(&mut buffer)? {
            return Ok(head);
        }
    }
}

/// The head at the front of `buffer`, once it is whole.
fn parse(buffer: &mut Vec<u8>) -> Result<Option<Head>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let len = match parsed.parse(buffer) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buffer.len() <= MAX_HEAD => return Ok(None),
        _ => return Err(HeadError::Nonsense),
    };
    let status = parsed
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = parsed
        .headers
        .iter()
        .map(|header| {
            let name = HeaderName::from_bytes(header.name.as_bytes());
            let value = HeaderValue::from_bytes(header.value);
            name.ok().zip(value.ok()).ok_or(HeadError::Nonsense)
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Head {
        status,
        headers,
        rest: buffer.split_off(len),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// `bytes` written in pieces of `piece`, then the stream ends.
    async fn read_in_pieces(bytes: &[u8], piece: usize) -> Result<Head, HeadError> {
        let (mut writer, mut reader) = tokio::io::duplex(64 * 1024);
        let bytes = bytes.to_vec();
        let writing = tokio::spawn(async move {
            for chunk in bytes.chunks(piece.max(1)) {
                writer.write_all(chunk).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let head = read_head(&mut reader).await;
        writing.await.unwrap();
        head
    }

    #[tokio::test]
    async fn a_head_is_read_whatever_the_cuts_and_what_follows_is_kept() {
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: stateroom-link\r\nX-Two: 2\r\n\r\n\x01\x02early";
        for piece in [1, 3, 17, answer.len()] {
            let head = read_in_pieces(answer, piece).await.unwrap();
            assert_eq!(head.status, StatusCode::SWITCHING_PROTOCOLS);
            assert_eq!(head.headers.len(), 2);
            assert_eq!(head.headers[0].0, "upgrade");
            assert_eq!(head.headers[0].1, "stateroom-link");
            // Only bytes that came with the head's last read are kept.
            assert!(b"\x01\x02early".starts_with(&head.rest), "{piece}");
        }
        let whole = read_in_pieces(answer, answer.len()).await.unwrap();
        assert_eq!(whole.rest, b"\x01\x02early");
    }

    #[tokio::test]
    async fn an_answer_that_ends_early_is_too_long_or_is_not_http_has_no_head() {
        assert_eq!(
            read_in_pieces(b"HTTP/1.1 200 OK\r\nContent-", 5)
                .await
                .unwrap_err(),
            HeadError::Ended
        );
        let mut long = b"HTTP/1.1 200 OK\r\n".to_vec();
        while long.len() <= MAX_HEAD {
            long.extend_from_slice(b"X-Filler: 0123456789012345678901234567890123456789\r\n");
        }
        assert_eq!(
            read_in_pieces(&long, 4096).await.unwrap_err(),
            HeadError::Nonsense
        );
        assert_eq!(
            read_in_pieces(b"SSH-2.0-OpenSSH\r\n\r\n", 64)
                .await
                .unwrap_err(),
            HeadError::Nonsense
        );
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: 1\r\n")).collect();
        let many = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
        assert_eq!(
            read_in_pieces(many.as_bytes(), 4096).await.unwrap_err(),
            HeadError::Nonsense
        );
    }
}
