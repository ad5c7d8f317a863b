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
//! {"type":"leave"}
//! ```
//!
//! On connecting you get `{"type":"welcome","you":ID,"members":[…]}`. Everyone in
//! the room then sees `joined`, `said`, `renamed` and `left` events. A frame that
//! is not one of the messages above gets `{"error":{"code":…,"message":…}}` back,
//! and nothing else happens.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, MessageRecipient, StateroomContext};
use std::collections::BTreeMap;

/// Longest accepted name, in characters.
const MAX_NAME: usize = 32;

/// What a client may send.
#[derive(Debug, Deserialize)]
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
}

/// One person in the conversation.
#[derive(Debug, Serialize)]
struct Member<'a> {
    client: ClientId,
    name: &'a str,
}

/// What the room sends.
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

#[stateroom::service]
impl Chat {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let members = self
            .names
            .iter()
            .map(|(&client, name)| Member { client, name })
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
