//! A typed JSON chat, the README's main example.
//!
//! Run: `cargo run -p example-chat` (flags `--port`, `--host`, `--help`; env
//! `STATEROOM_PORT`, `STATEROOM_HOST`), then in two terminals
//! `websocat ws://127.0.0.1:8080/ws/lobby` and send:
//!
//! ```text
//! {"type":"join","name":"ada"}
//! {"type":"say","text":"hello"}
//! {"type":"nick","name":"countess"}
//! {"type":"kick","client":2}
//! {"type":"leave"}
//! ```
//!
//! On connecting you get your session (`{"stateroom":{"client":ID,"token":…}}`,
//! see below), then `{"type":"welcome","you":ID,"members":[…]}`. Everyone in
//! the room then sees `joined`, `said`, `renamed` and `left` events. The host
//! (whoever has been in the conversation longest) may `kick` a client: it is
//! closed with code 4000 and everyone sees it leave. A frame that is not one of
//! the messages above gets `{"error":{"code":…,"message":…}}` back, and nothing
//! else happens; so does a `kick` from someone who is not the host
//! (`"code":"not_host"`).
//!
//! Reconnection is on: a client whose network drops keeps its seat, its name
//! and the messages sent meanwhile for 30 seconds; it comes back with
//! `ws://127.0.0.1:8080/ws/lobby?resume=TOKEN&ack=N` (N: the messages it has
//! received), as `docs/protocol.md` describes.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, MessageRecipient, StateroomContext};
use std::collections::BTreeMap;

/// Longest accepted name, in characters.
const MAX_NAME: usize = 32;

/// What a client may send.
#[stateroom::message]
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ChatIn {
    /// Enter the conversation under a name.
    Join { name: String },
    /// Say something to everyone who has joined.
    Say { text: String },
    /// Change one's name.
    Nick { name: String },
    /// Leave the conversation (the connection stays open; `join` again to return).
    Leave,
    /// Remove a client from the room (the host only).
    Kick { client: ClientId },
}

/// One person in the conversation.
#[stateroom::message]
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Member<'a> {
    client: ClientId,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
}

/// What the room sends.
#[stateroom::message]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ChatOut<'a> {
    Welcome {
        you: ClientId,
        members: Vec<Member<'a>>,
    },
    Joined {
        client: ClientId,
        name: &'a str,
    },
    Said {
        from: ClientId,
        name: &'a str,
        text: &'a str,
    },
    Renamed {
        client: ClientId,
        old: &'a str,
        new: &'a str,
    },
    Left {
        client: ClientId,
        name: &'a str,
    },
    Rejected {
        reason: &'a str,
    },
}

#[derive(Default)]
struct Chat {
    /// Who has joined, by client, in id order.
    names: BTreeMap<ClientId, String>,
}

fn valid_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        Err("a name cannot be empty")
    } else if name.chars().count() > MAX_NAME {
        Err("a name is at most 32 characters")
    } else {
        Ok(name)
    }
}

#[stateroom::service(reconnect = "30s", outbound = ChatOut)]
impl Chat {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let members = self
            .names
            .iter()
            .map(|(&client, name)| Member {
                client,
                name: name.into(),
            })
            .collect();
        ctx.send(
            client,
            &ChatOut::Welcome {
                you: client,
                members,
            },
        );
    }

    fn message(&mut self, client: ClientId, msg: ChatIn, ctx: &impl StateroomContext) {
        let reject = |reason| ctx.send(client, &ChatOut::Rejected { reason });
        match msg {
            ChatIn::Join { name } | ChatIn::Nick { name } if valid_name(&name).is_err() => {
                reject(valid_name(&name).err().unwrap_or_default());
            }
            ChatIn::Join { name } => {
                if self.names.contains_key(&client) {
                    return reject("you have already joined; use nick to rename");
                }
                let name = valid_name(&name).unwrap_or_default().to_owned();
                ctx.send(
                    MessageRecipient::Broadcast,
                    &ChatOut::Joined {
                        client,
                        name: &name,
                    },
                );
                self.names.insert(client, name);
            }
            ChatIn::Say { text } => match self.names.get(&client) {
                Some(name) => ctx.send(
                    MessageRecipient::Broadcast,
                    &ChatOut::Said {
                        from: client,
                        name,
                        text: &text,
                    },
                ),
                None => reject("join before you speak"),
            },
            ChatIn::Nick { name } => {
                let new = valid_name(&name).unwrap_or_default();
                match self.names.get_mut(&client) {
                    Some(old) => {
                        ctx.send(
                            MessageRecipient::Broadcast,
                            &ChatOut::Renamed { client, old, new },
                        );
                        new.clone_into(old);
                    }
                    None => reject("join before you rename"),
                }
            }
            ChatIn::Leave => self.leave(client, ctx),
            ChatIn::Kick { client: target } => {
                // The host: the member who joined first (ids only grow).
                if self.names.keys().next() != Some(&client) {
                    return ctx.send_error(client, "not_host", "only the host may kick");
                }
                ctx.close(target, 4000, "kicked by the host");
            }
        }
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        self.leave(client, ctx);
    }

    /// Takes `client` out of the conversation, if it was in.
    fn leave(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        if let Some(name) = self.names.remove(&client) {
            ctx.send(
                MessageRecipient::Broadcast,
                &ChatOut::Left {
                    client,
                    name: &name,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use stateroom::ErrorCode;
    use stateroom::testing::{Received, TestRoom};

    #[test]
    fn a_conversation() {
        let mut room = TestRoom::<Chat>::new("lobby");
        let ada = room.connect();
        assert_eq!(
            room.take_json::<Value>(ada),
            [json!({"type": "welcome", "you": ada, "members": []})]
        );
        room.send(ada, &ChatIn::Join { name: "ada".into() });
        let bob = room.connect();
        room.send(
            bob,
            &ChatIn::Say {
                text: "early".into(),
            },
        );
        room.send(
            bob,
            &ChatIn::Join {
                name: " bob ".into(),
            },
        );
        room.send(bob, &ChatIn::Say { text: "hi".into() });
        room.send(
            ada,
            &ChatIn::Nick {
                name: "countess".into(),
            },
        );
        room.disconnect(bob);

        assert_eq!(
            room.take_json::<Value>(bob),
            [
                json!({"type": "welcome", "you": bob, "members": [{"client": ada, "name": "ada"}]}),
                json!({"type": "rejected", "reason": "join before you speak"}),
                json!({"type": "joined", "client": bob, "name": "bob"}),
                json!({"type": "said", "from": bob, "name": "bob", "text": "hi"}),
                json!({"type": "renamed", "client": ada, "old": "ada", "new": "countess"}),
            ]
        );
        assert_eq!(
            room.take_json::<Value>(ada),
            [
                json!({"type": "joined", "client": ada, "name": "ada"}),
                json!({"type": "joined", "client": bob, "name": "bob"}),
                json!({"type": "said", "from": bob, "name": "bob", "text": "hi"}),
                json!({"type": "renamed", "client": ada, "old": "ada", "new": "countess"}),
                json!({"type": "left", "client": bob, "name": "bob"}),
            ]
        );
        assert_eq!(room.service().names.len(), 1);
    }

    #[test]
    fn the_host_kicks_and_nobody_else_may() {
        let mut room = TestRoom::<Chat>::new("lobby");
        let (ada, bob) = (room.connect(), room.connect());
        room.send(ada, &ChatIn::Join { name: "ada".into() });
        room.send(bob, &ChatIn::Join { name: "bob".into() });
        room.take(ada);
        room.take(bob);
        room.send(bob, &ChatIn::Kick { client: ada });
        let error = room.take(bob)[0].error().expect("an error frame");
        assert_eq!(error.code, ErrorCode::App("not_host".into()));
        room.send(ada, &ChatIn::Kick { client: bob });
        assert_eq!(
            room.take(bob),
            [Received::Closed {
                code: 4000,
                reason: "kicked by the host".into()
            }]
        );
        assert_eq!(
            room.take_json::<Value>(ada),
            [json!({"type": "left", "client": bob, "name": "bob"})]
        );
    }

    #[test]
    fn a_dropped_member_keeps_its_name_and_catches_up() {
        let mut room = TestRoom::<Chat>::new("lobby");
        let (ada, bob) = (room.connect(), room.connect());
        room.send(ada, &ChatIn::Join { name: "ada".into() });
        room.send(bob, &ChatIn::Join { name: "bob".into() });
        room.drop_connection(bob);
        room.send(
            ada,
            &ChatIn::Say {
                text: "you there?".into(),
            },
        );
        room.take(bob);
        room.advance(std::time::Duration::from_secs(29));
        assert!(room.resume_with_ack(bob, 3).resumed);
        assert_eq!(
            room.take_json::<Value>(bob),
            [json!({"type": "said", "from": ada, "name": "ada", "text": "you there?"})]
        );
        assert_eq!(room.service().names.len(), 2);
        // Gone for good: after the window, everyone sees bob leave.
        room.drop_connection(bob);
        room.advance(std::time::Duration::from_secs(30));
        assert_eq!(
            room.take_json::<Value>(ada).last(),
            Some(&json!({"type": "left", "client": bob, "name": "bob"}))
        );
    }

    #[test]
    fn bad_frames_get_error_frames_and_change_nothing() {
        let mut room = TestRoom::<Chat>::new("lobby");
        let ada = room.connect();
        let bob = room.connect();
        room.send(ada, &ChatIn::Join { name: "ada".into() });
        room.take(ada);
        room.take(bob);
        for (frame, code) in [
            (r#"{"type":"shout","text":"HI"}"#, ErrorCode::InvalidMessage),
            (r#"{"type":"say"}"#, ErrorCode::InvalidMessage),
            (r#"{"type":"say","text":5}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"say","text":"x","extra":1}"#,
                ErrorCode::InvalidMessage,
            ),
            ("{not json", ErrorCode::InvalidJson),
        ] {
            room.send_text(ada, frame);
            let received = room.take(ada);
            assert_eq!(received.len(), 1, "{frame}");
            assert_eq!(received[0].error().map(|e| e.code), Some(code), "{frame}");
        }
        room.send_binary(ada, b"\x01");
        assert_eq!(
            room.take(ada)[0].error().map(|e| e.code),
            Some(ErrorCode::UnsupportedFrame)
        );
        room.send(ada, &ChatIn::Join { name: " ".into() });
        room.send(
            ada,
            &ChatIn::Nick {
                name: "x".repeat(33),
            },
        );
        assert_eq!(room.take(ada).len(), 2);
        assert!(room.take(bob).is_empty(), "nobody else heard anything");
        assert_eq!(
            room.service().names.get(&ada).map(String::as_str),
            Some("ada")
        );
    }
}
