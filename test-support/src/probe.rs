//! `Probe`: a hand-written service driven by text commands, reporting what
//! happens to it.
//!
//! On connect it tells the client `you:{id}` and the others `joined:{id}`; on
//! disconnect everyone gets `left:{id}`. Commands: `all:X` (broadcast X),
//! `except:X`, `to:ID:X`, `timer:MS`, `state` (`instance:N:messages:M`),
//! `panic`. Binary frames come back reversed, to everyone.

use crate::{Ws, join, next_text};
use stateroom::{ClientId, MessageRecipient, SimpleStateroomService, StateroomContext};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

static INSTANCES: AtomicU64 = AtomicU64::new(0);

/// A service driven by text commands, reporting what happens to it.
pub struct Probe {
    instance: u64,
    messages: u64,
}

impl SimpleStateroomService for Probe {
    fn new(_room_id: &str, _ctx: &impl StateroomContext) -> Self {
        Probe {
            instance: INSTANCES.fetch_add(1, Ordering::Relaxed),
            messages: 0,
        }
    }

    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send_message(client, &format!("you:{client}"));
        ctx.send_message(
            MessageRecipient::EveryoneExcept(client),
            &format!("joined:{client}"),
        );
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send_message(MessageRecipient::Broadcast, &format!("left:{client}"));
    }

    fn message(&mut self, client: ClientId, message: &str, ctx: &impl StateroomContext) {
        self.messages += 1;
        let (command, arg) = message.split_once(':').unwrap_or((message, ""));
        match command {
            "all" => ctx.send_message(MessageRecipient::Broadcast, arg),
            "except" => ctx.send_message(MessageRecipient::EveryoneExcept(client), arg),
            "to" => {
                let (to, text) = arg.split_once(':').unwrap_or(("0", ""));
                let to = ClientId::from(to.parse::<u32>().unwrap_or(0));
                ctx.send_message(to, text);
            }
            "timer" => ctx.set_timer(arg.parse().unwrap_or(0)),
            "flood" => {
                // flood:COUNT:SIZE broadcasts COUNT numbered messages of SIZE bytes.
                let (count, size) = arg.split_once(':').unwrap_or(("0", "0"));
                let (count, size) = (
                    count.parse().unwrap_or(0u32),
                    size.parse().unwrap_or(0usize),
                );
                for seq in 0..count {
                    let text = format!("{seq:08}");
                    ctx.send_message(MessageRecipient::Broadcast, &format!("{text:.<size$}"));
                }
            }
            "panic" => panic!("the probe was asked to panic"),
            "state" => ctx.send_message(
                client,
                &format!("instance:{}:messages:{}", self.instance, self.messages),
            ),
            _ => ctx.send_message(client, "unknown"),
        }
    }

    fn binary(&mut self, _client: ClientId, message: &[u8], ctx: &impl StateroomContext) {
        let mut reply = message.to_vec();
        reply.reverse();
        ctx.send_binary(MessageRecipient::Broadcast, &reply);
    }

    fn timer(&mut self, ctx: &impl StateroomContext) {
        ctx.send_message(MessageRecipient::Broadcast, "timer");
    }
}

/// Joins `room` and returns the client and its id (from the welcome).
pub async fn enter(addr: SocketAddr, room: &str) -> (Ws, u32) {
    let mut ws = join(addr, room).await;
    let you = next_text(&mut ws).await;
    let id = you
        .strip_prefix("you:")
        .expect("welcome first")
        .parse()
        .expect("an id");
    (ws, id)
}
