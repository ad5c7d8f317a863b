//! `Numbered`: a client that numbers the messages it sends (`next=M`),
//! keeps the unacknowledged ones, and resends them after a cut connection
//! or a server restart, as `docs/protocol.md` describes and
//! `@stateroom/client` does; the tests' independent implementation of the
//! exactly-once protocol.

use crate::{WAIT, Ws};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::Message;

pub struct Numbered {
    room: String,
    ws: Option<Ws>,
    /// The latest resume token.
    pub token: Option<String>,
    /// Data frames received in this session (the `ack` of a resume).
    pub received: u64,
    /// The number the next new message gets.
    next: u64,
    /// Sent and not yet acknowledged: (number, text).
    pub unacked: VecDeque<(u64, String)>,
    /// The highest number the server said it applied.
    pub applied: u64,
    /// Data frames received, in order (JSON).
    pub frames: Vec<Value>,
    /// Session frames received (JSON), in order.
    pub sessions: Vec<Value>,
}

impl Numbered {
    /// Joins `room` on `addr` as a new numbered session.
    pub async fn join(addr: SocketAddr, room: &str) -> Self {
        let mut client = Numbered {
            room: room.to_owned(),
            ws: None,
            token: None,
            received: 0,
            next: 1,
            unacked: VecDeque::new(),
            applied: 0,
            frames: Vec::new(),
            sessions: Vec::new(),
        };
        client.connect(addr, "next=1".to_owned()).await;
        client
    }

    async fn connect(&mut self, addr: SocketAddr, query: String) {
        assert!(self.try_connect(addr, query).await, "connect to {addr}");
    }

    /// Connects and reads the session frame; `false` if the server refused
    /// or was not there.
    async fn try_connect(&mut self, addr: SocketAddr, query: String) -> bool {
        let url = format!("ws://{addr}/ws/{}?{query}", self.room);
        let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
        let Ok(Ok((ws, _))) = tokio::time::timeout(WAIT, connect).await else {
            return false;
        };
        self.ws = Some(ws);
        // The session frame comes first.
        let Some(session) = self.read().await else {
            return false;
        };
        assert!(session["stateroom"].get("token").is_some(), "{session}");
        true
    }

    /// The query of a resume: the token, the frames received, and the
    /// number of the first message about to be resent.
    fn resume_query(&self) -> String {
        let first = self.unacked.front().map_or(self.next, |(n, _)| *n);
        let token = self.token.clone().expect("a token to resume with");
        format!("resume={token}&ack={}&next={first}", self.received)
    }

    async fn resend(&mut self) {
        let resends: Vec<String> = self.unacked.iter().map(|(_, t)| t.clone()).collect();
        for text in resends {
            self.write(text).await;
        }
    }

    /// Comes back on a new connection: resumes the session (or, if the
    /// server refuses, starts a new one) and resends what is unacknowledged.
    pub async fn resume(&mut self, addr: SocketAddr) {
        self.ws = None;
        let query = self.resume_query();
        self.connect(addr, query).await;
        self.resend().await;
    }

    /// [`resume`](Self::resume) on whichever of `addrs` takes it first,
    /// retrying with backoff until `deadline` (a failover).
    pub async fn resume_any(&mut self, addrs: &[SocketAddr], deadline: tokio::time::Instant) {
        self.ws = None;
        let mut delay = std::time::Duration::from_millis(50);
        loop {
            for addr in addrs {
                let query = self.resume_query();
                if self.try_connect(*addr, query).await {
                    self.resend().await;
                    return;
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no node took the resume"
            );
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// Whether the last session frame said the session was resumed.
    pub fn resumed(&self) -> bool {
        self.sessions
            .last()
            .is_some_and(|s| s["stateroom"]["resumed"] == true)
    }

    /// Cuts the connection without a close frame (a lost network).
    pub fn cut(&mut self) {
        self.ws = None;
    }

    /// Sends `text` as the next numbered message. Errors (a dead server) are
    /// ignored: the message stays unacknowledged and is resent.
    pub async fn send(&mut self, text: String) {
        self.unacked.push_back((self.next, text.clone()));
        self.next += 1;
        self.write(text).await;
    }

    async fn write(&mut self, text: String) {
        if let Some(ws) = &mut self.ws {
            let _ = ws.send(Message::Text(text.into())).await;
        }
    }

    /// Reads one text frame, handling session and ack frames; returns it as
    /// JSON, or `None` when the connection ended.
    async fn read(&mut self) -> Option<Value> {
        loop {
            let ws = self.ws.as_mut()?;
            let message = tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("a frame in time")?
                .ok()?;
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            self.absorb(value.clone());
            return Some(value);
        }
    }

    /// Reads data frames until every message sent is acknowledged.
    pub async fn settle(&mut self) {
        while !self.unacked.is_empty() {
            self.read()
                .await
                .expect("the connection stays open until everything is acknowledged");
        }
    }

    /// Reads until a data frame matching `pred` arrives.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let value = self.read().await.expect("the connection stays open");
            if value.get("stateroom").is_none() && pred(&value) {
                return value;
            }
        }
    }

    /// Reads whatever arrives within `ms` milliseconds (or until the
    /// connection ends).
    pub async fn drain_for(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        while tokio::time::Instant::now() < deadline {
            let Some(ws) = self.ws.as_mut() else { return };
            let left = deadline - tokio::time::Instant::now();
            match tokio::time::timeout(left, ws.next()).await {
                Err(_) => return,
                Ok(None | Some(Err(_))) => {
                    self.ws = None;
                    return;
                }
                Ok(Some(Ok(Message::Text(text)))) => {
                    // Put it through the same handling as `read`.
                    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    self.absorb(value);
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    fn absorb(&mut self, value: Value) {
        if let Some(control) = value.get("stateroom") {
            if let Some(applied) = control.get("applied").and_then(Value::as_u64) {
                self.applied = self.applied.max(applied);
                while self.unacked.front().is_some_and(|(n, _)| *n <= applied) {
                    self.unacked.pop_front();
                }
            } else if let Some(token) = control.get("token").and_then(Value::as_str) {
                self.token = Some(token.to_owned());
                if control["resumed"] != true {
                    self.received = 0;
                }
                self.sessions.push(value);
            }
            return;
        }
        self.received += 1;
        self.frames.push(value);
    }
}
