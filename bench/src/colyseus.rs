//! Just enough of the Colyseus 0.17 and 0.18 client protocol to load-test a Colyseus
//! room like any other server: matchmaking over HTTP, the join handshake, and
//! its room-message framing (`[13]` + msgpack string type + msgpack payload).

use crate::payload::{Received, Sent};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Colyseus's protocol codes used here.
const JOIN_ROOM: u8 = 10;
const ROOM_DATA: u8 = 13;
/// The room type defined by `bench/node/colyseus-server.js`.
const ROOM_TYPE: &str = "bench";
/// The message type every payload travels under: msgpack fixstr "m".
const MESSAGE_TYPE: [u8; 2] = [0xa1, b'm'];

/// A Colyseus client connection.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What `POST /matchmake/joinOrCreate/{type}` answers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeatReservation {
    session_id: String,
    room_id: String,
    process_id: String,
}

/// Reserves a seat in the room whose `room` option is `room`, connects, and
/// acknowledges the join.
///
/// # Errors
/// A description of the step that failed.
pub async fn join(target: &str, room: &str) -> Result<Ws, String> {
    let seat = reserve(target, room).await?;
    let url = format!(
        "ws://{target}/{}/{}?sessionId={}",
        seat.process_id, seat.room_id, seat.session_id
    );
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .map_err(|e| e.to_string())?;
    // The server sends JOIN_ROOM first; messages wait until we acknowledge it.
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(data))) if data.first() == Some(&JOIN_ROOM) => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed during the join".to_owned()),
        }
    }
    ws.send(Message::binary(vec![JOIN_ROOM]))
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

async fn reserve(target: &str, room: &str) -> Result<SeatReservation, String> {
    let tcp = TcpStream::connect(target)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    let body = serde_json::json!({ "room": room }).to_string();
    let request = hyper::Request::post(format!("/matchmake/joinOrCreate/{ROOM_TYPE}"))
        .header(hyper::header::HOST, target)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "matchmaking answered {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))
}

/// A payload as a Colyseus room message.
#[must_use]
pub fn encode(sent: &Sent) -> Message {
    let mut frame = vec![ROOM_DATA];
    frame.extend_from_slice(&MESSAGE_TYPE);
    // Serialising a struct of numbers and a string into a Vec cannot fail.
    frame.extend(rmp_serde::to_vec_named(sent).unwrap_or_default());
    Message::binary(frame)
}

/// The payload of a Colyseus room message, if `message` is one.
#[must_use]
pub fn decode(message: &Message) -> Option<Received> {
    let Message::Binary(data) = message else {
        return None;
    };
    let (&code, rest) = data.split_first()?;
    if code != ROOM_DATA {
        return None;
    }
    // Skip the message type: a msgpack string or positive number.
    let (&prefix, rest) = rest.split_first()?;
    let rest = match prefix {
        0x00..=0x7f => rest,
        0xa0..=0xbf => rest.get(usize::from(prefix & 0x1f)..)?,
        0xd9 => {
            let (&len, rest) = rest.split_first()?;
            rest.get(usize::from(len)..)?
        }
        _ => return None,
    };
    rmp_serde::from_slice(rest).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_messages_round_trip() {
        let sent = Sent {
            c: 4,
            s: 8,
            t: 1 << 40,
            p: "xyz".to_owned(),
        };
        let received = decode(&encode(&sent)).expect("decodes");
        assert_eq!((received.c, received.s, received.t), (4, 8, 1 << 40));
        assert!(decode(&Message::binary(vec![JOIN_ROOM])).is_none());
    }
}
