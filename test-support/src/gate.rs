//! `Gate` (not in `support`: the examples share that module and lack its
//! dependencies): a typed service with a `join` hook, per-client data, kicks and
//! reconnection hooks, which records every hook call in a global log keyed by
//! room (tests use a room of their own and read its log).

use crate::{WAIT, Ws, next_json, next_text, send_text};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stateroom::{
    ClientId, ErrorFrame, JoinRequest, MessageRecipient, Reject, SessionFrame, StateroomContext,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Every hook call: (room, "hook:client").
static LOG: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn log(room: &str, event: String) {
    LOG.lock().unwrap().push((room.to_owned(), event));
}

/// The events logged for `room`, in order.
pub fn events(room: &str) -> Vec<String> {
    LOG.lock()
        .unwrap()
        .iter()
        .filter(|(r, _)| r == room)
        .map(|(_, e)| e.clone())
        .collect()
}

/// How many times `event` was logged for `room`.
pub fn count(room: &str, event: &str) -> usize {
    events(room).iter().filter(|e| *e == event).count()
}

/// Polls until `event` has been logged `n` times for `room`.
pub async fn wait_count(room: &str, event: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while count(room, event) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{event} logged {} times in {room}, not {n}: {:?}",
            count(room, event),
            events(room)
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Who a client is, from its verified token.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub admin: bool,
    /// The `X-Forwarded-For` header its join came with (behind a proxy).
    pub forwarded_for: Option<String>,
    /// `JoinRequest::client_ip`: the client's address behind trusted proxies.
    pub client_ip: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GateIn {
    Say {
        text: String,
    },
    Kick {
        target: ClientId,
    },
    Burst {
        n: u32,
    },
    Flood {
        target: ClientId,
        n: u32,
        size: usize,
    },
    Who,
    Oops,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum GateOut<'a> {
    Hello {
        name: &'a str,
        room: &'a str,
        you: ClientId,
        forwarded_for: Option<&'a str>,
        client_ip: Option<&'a str>,
    },
    Said {
        name: &'a str,
        text: &'a str,
    },
    Bye {
        by: &'a str,
    },
    Left {
        client: ClientId,
        name: &'a str,
    },
    Back {
        client: ClientId,
    },
    N {
        n: u32,
    },
    Who {
        clients: Vec<(ClientId, &'a str, bool)>,
    },
}

#[derive(Default)]
pub struct Gate {
    invalid: BTreeMap<ClientId, u32>,
}

fn name_of(ctx: &impl StateroomContext, client: ClientId) -> String {
    ctx.client_data::<User>(client)
        .map(|user| user.name.clone())
        .unwrap_or_else(|| "?".into())
}

/// Lets the `slow` token's join finish.
#[allow(dead_code)]
pub static SLOW_JOIN_RELEASED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[stateroom::service(no_main)]
impl Gate {
    fn join(&self, request: &JoinRequest, ctx: &impl StateroomContext) -> Result<User, Reject> {
        log(ctx.room_id(), "join".into());
        let token = request
            .query_param("token")
            .map(|t| t.into_owned())
            .or_else(|| request.bearer_token().map(str::to_owned));
        let forwarded_for = request.header("x-forwarded-for").map(str::to_owned);
        let client_ip = request.client_ip().map(|ip| ip.to_string());
        match token.as_deref() {
            Some("ada-token") => Ok(User {
                name: "ada".into(),
                admin: true,
                forwarded_for,
                client_ip,
            }),
            Some("bob-token") => Ok(User {
                name: "bob".into(),
                admin: false,
                forwarded_for,
                client_ip,
            }),
            Some("banned") => Err(Reject::forbidden("you are banned from this room")),
            Some("slow") => {
                // A room that takes its time deciding (blocking, on purpose),
                // until the test lets it go (or 10 s). `block_in_place` hands
                // this worker's other tasks to another thread first: a plainly
                // blocked tokio worker can hold a task it was about to run
                // (its LIFO slot cannot be stolen), and the test's own health
                // request once sat behind it for the whole 10 s.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                tokio::task::block_in_place(|| {
                    while !SLOW_JOIN_RELEASED.load(std::sync::atomic::Ordering::SeqCst)
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                });
                Err(Reject::forbidden("too slow"))
            }
            _ => Err(Reject::unauthorized("a token is required")),
        }
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        log(ctx.room_id(), format!("connect:{client}"));
        let name = name_of(ctx, client);
        let user = ctx.client_data::<User>(client);
        ctx.send(
            client,
            &GateOut::Hello {
                name: &name,
                room: ctx.room_id(),
                you: client,
                forwarded_for: user.and_then(|u| u.forwarded_for.as_deref()),
                client_ip: user.and_then(|u| u.client_ip.as_deref()),
            },
        );
    }

    fn reconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        log(ctx.room_id(), format!("reconnect:{client}"));
        ctx.send(
            MessageRecipient::EveryoneExcept(client),
            &GateOut::Back { client },
        );
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        log(ctx.room_id(), format!("disconnect:{client}"));
        let name = name_of(ctx, client);
        ctx.send(
            MessageRecipient::Broadcast,
            &GateOut::Left {
                client,
                name: &name,
            },
        );
    }

    fn message(&mut self, client: ClientId, msg: GateIn, ctx: &impl StateroomContext) {
        let name = name_of(ctx, client);
        match msg {
            GateIn::Say { text } => ctx.send(
                MessageRecipient::Broadcast,
                &GateOut::Said {
                    name: &name,
                    text: &text,
                },
            ),
            GateIn::Kick { target } => {
                let admin = ctx.client_data::<User>(client).is_some_and(|u| u.admin);
                if !admin {
                    return ctx.send_error(client, "not_admin", "only an admin may kick");
                }
                ctx.send(target, &GateOut::Bye { by: &name });
                ctx.close(target, 4001, &format!("kicked by {name}"));
                // Sent after the close: must not reach the kicked client.
                ctx.send(target, &GateOut::Bye { by: "nobody" });
            }
            GateIn::Burst { n } => {
                for n in 1..=n {
                    ctx.send(MessageRecipient::Broadcast, &GateOut::N { n });
                }
            }
            GateIn::Flood { target, n, size } => {
                let blob = "x".repeat(size);
                for _ in 0..n {
                    ctx.send_message(target, &blob);
                }
            }
            GateIn::Who => {
                let names: Vec<String> = ctx.clients().iter().map(|c| name_of(ctx, *c)).collect();
                let clients = ctx
                    .clients()
                    .into_iter()
                    .zip(&names)
                    .map(|(c, name)| (c, name.as_str(), ctx.is_connected(c)))
                    .collect();
                ctx.send(client, &GateOut::Who { clients });
            }
            GateIn::Oops => ctx.send_error(client, "not_your_turn", "wait for your turn"),
        }
    }

    fn invalid(&mut self, client: ClientId, error: &ErrorFrame, ctx: &impl StateroomContext) {
        log(ctx.room_id(), format!("invalid:{client}:{}", error.code));
        let strikes = self.invalid.entry(client).or_default();
        *strikes += 1;
        if *strikes >= 3 {
            ctx.close(client, 4002, "too many invalid frames");
        }
    }
}

/// Opens `/ws/{path_and_query}` with extra request headers; the HTTP error
/// (status and body) if the server refuses the upgrade.
pub async fn open(
    addr: SocketAddr,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> Result<Ws, (u16, String)> {
    open_from(addr, path_and_query, headers, None).await
}

/// [`open`] from the local address `source` (`127.0.0.2`: another loopback
/// address than a proxy's, so a test can tell the client from the proxy).
pub async fn open_from(
    addr: SocketAddr,
    path_and_query: &str,
    headers: &[(&str, &str)],
    source: Option<std::net::IpAddr>,
) -> Result<Ws, (u16, String)> {
    let mut request = format!("ws://{addr}/ws/{path_and_query}")
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        let name: tokio_tungstenite::tungstenite::http::HeaderName = name.parse().unwrap();
        request
            .headers_mut()
            .insert(name, HeaderValue::from_str(value).unwrap());
    }
    let connect = async {
        let Some(source) = source else {
            return tokio_tungstenite::connect_async_with_config(request, None, true).await;
        };
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket
            .bind(SocketAddr::new(source, 0))
            .expect("bind the source address");
        let stream = socket.connect(addr).await.expect("the proxy accepts");
        stream.set_nodelay(true).expect("nodelay");
        tokio_tungstenite::client_async_with_config(
            request,
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
            None,
        )
        .await
    };
    match tokio::time::timeout(WAIT, connect)
        .await
        .expect("connect in time")
    {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((response.status().as_u16(), body))
        }
        Err(other) => panic!("connect failed: {other}"),
    }
}

/// Joins `room` with `token` (no reconnection) and reads the hello; returns
/// the socket and the client's id.
pub async fn enter(addr: SocketAddr, room: &str, token: &str) -> (Ws, Value) {
    let mut ws = open(addr, &format!("{room}?token={token}"), &[])
        .await
        .unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    (ws, hello["you"].clone())
}

/// A client of a room with reconnection on: its socket, its session, and how
/// many data frames it has read (its `ack`).
pub struct Session {
    pub ws: Ws,
    pub frame: SessionFrame,
    pub ack: u64,
}

impl Session {
    /// Joins `room` with `token` and reads the session frame.
    pub async fn open(addr: SocketAddr, room: &str, token: &str) -> Session {
        let ws = open(addr, &format!("{room}?token={token}"), &[])
            .await
            .unwrap();
        Session::start(ws, 0).await
    }

    /// Reads the session frame. With reconnection off there is none: the
    /// first frame is then the hello, whose `you` stands in for it.
    async fn start(mut ws: Ws, ack: u64) -> Session {
        let text = next_text(&mut ws).await;
        let frame = match SessionFrame::from_json(&text) {
            Some(frame) => frame,
            None => {
                let hello: Value = serde_json::from_str(&text).unwrap();
                let you = hello["you"].as_u64().expect("a hello first") as u32;
                SessionFrame {
                    client: ClientId::from(you),
                    token: String::new(),
                    resumed: false,
                    replayed: 0,
                    refused: None,
                }
            }
        };
        Session { ws, frame, ack }
    }

    /// Reconnects to `room` presenting `token` and `ack`; the new session.
    pub async fn resume(
        addr: SocketAddr,
        room: &str,
        login: &str,
        token: &str,
        ack: u64,
    ) -> Session {
        let ws = open(
            addr,
            &format!("{room}?token={login}&resume={token}&ack={ack}"),
            &[],
        )
        .await
        .unwrap();
        let session = Session::start(ws, 0).await;
        let ack = if session.frame.resumed { ack } else { 0 };
        Session { ack, ..session }
    }

    /// The next data frame, as JSON, counted in `ack`.
    pub async fn next(&mut self) -> Value {
        let value = next_json(&mut self.ws).await;
        self.ack += 1;
        value
    }

    /// Reads data frames until one matches `pick`; returns it.
    pub async fn until(&mut self, pick: impl Fn(&Value) -> bool) -> Value {
        loop {
            let value = self.next().await;
            if pick(&value) {
                return value;
            }
        }
    }

    /// Drops the TCP connection without a close frame (a lost network).
    pub fn vanish(self) -> (SessionFrame, u64) {
        let Session { ws, frame, ack } = self;
        drop(ws);
        (frame, ack)
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, value: Value) {
        send_text(&mut self.ws, &value.to_string()).await;
    }

    /// Closes cleanly (a close frame) and waits for the server's answer.
    pub async fn close(mut self) {
        use futures_util::SinkExt;
        let _ = self.ws.send(Message::Close(None)).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, self.ws.next()).await {}
    }
}

/// `{"type":"say",…}` and friends.
pub fn say(text: &str) -> Value {
    json!({"type": "say", "text": text})
}
