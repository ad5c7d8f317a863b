//! Rooms for members only: the `join` hook checks a token before the socket
//! opens, attaches who the member is, and every later hook reads it.
//!
//! Run: `cargo run -p example-members`, then
//! `websocat -H 'Authorization: Bearer ada-s3cret' ws://127.0.0.1:8080/ws/club`
//! (or `ws://127.0.0.1:8080/ws/club?token=ada-s3cret` from a browser, which
//! cannot set headers on a WebSocket) and send:
//!
//! ```text
//! {"type":"say","text":"hello"}
//! {"type":"who"}
//! {"type":"kick","client":2}
//! ```
//!
//! Without a known token the upgrade is answered `401`; a banned member gets
//! `403`. The tokens come from `MEMBERS_TOKENS`
//! (`token=name:role,…`, role `admin` or `member`), with a built-in default
//! (`ada-s3cret` is an admin, `bob-hunter2` a member, `eve-banned` banned).
//! A real service verifies a signed token (a JWT, a session cookie) here
//! instead: the hook sees every header, the query and the peer address.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, JoinRequest, MessageRecipient, Reject, StateroomContext};
use std::collections::HashMap;

const DEFAULT_TOKENS: &str = "ada-s3cret=ada:admin,bob-hunter2=bob:member,eve-banned=eve:banned";

/// Who a client is, attached by `join`.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    name: String,
    admin: bool,
}

#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(tag = "type", rename_all = "snake_case")]
enum In {
    Say { text: String },
    Who,
    Kick { client: ClientId },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Out<'a> {
    Said { name: &'a str, text: &'a str },
    Members { members: Vec<Listed<'a>> },
    Left { name: &'a str },
}

#[derive(Debug, Serialize)]
struct Listed<'a> {
    client: ClientId,
    name: &'a str,
    online: bool,
}

/// The token table: token → (name, role).
struct Club {
    tokens: HashMap<String, (String, String)>,
}

fn parse_tokens(spec: &str) -> HashMap<String, (String, String)> {
    spec.split(',')
        .filter_map(|entry| {
            let (token, who) = entry.trim().split_once('=')?;
            let (name, role) = who.split_once(':')?;
            Some((token.to_owned(), (name.to_owned(), role.to_owned())))
        })
        .collect()
}

fn name_of(ctx: &impl StateroomContext, client: ClientId) -> String {
    ctx.client_data::<Member>(client)
        .map(|member| member.name.clone())
        .unwrap_or_default()
}

#[stateroom::service(reconnect = "30s")]
impl Club {
    fn new() -> Self {
        let spec = std::env::var("MEMBERS_TOKENS").unwrap_or_else(|_| DEFAULT_TOKENS.into());
        Club {
            tokens: parse_tokens(&spec),
        }
    }

    fn join(&self, request: &JoinRequest) -> Result<Member, Reject> {
        let token = request
            .bearer_token()
            .map(str::to_owned)
            .or_else(|| request.query_param("token").map(|t| t.into_owned()))
            .ok_or_else(|| Reject::unauthorized("members only: send a token"))?;
        match self.tokens.get(&token) {
            None => Err(Reject::unauthorized("unknown token")),
            Some((_, role)) if role == "banned" => Err(Reject::forbidden("you are banned")),
            Some((name, role)) => Ok(Member {
                name: name.clone(),
                admin: role == "admin",
            }),
        }
    }

    fn message(&mut self, client: ClientId, msg: In, ctx: &impl StateroomContext) {
        let name = name_of(ctx, client);
        match msg {
            In::Say { text } => ctx.send(
                MessageRecipient::Broadcast,
                &Out::Said {
                    name: &name,
                    text: &text,
                },
            ),
            In::Who => {
                let names: Vec<(ClientId, String)> = ctx
                    .clients()
                    .into_iter()
                    .map(|c| (c, name_of(ctx, c)))
                    .collect();
                let members = names
                    .iter()
                    .map(|(client, name)| Listed {
                        client: *client,
                        name,
                        online: ctx.is_connected(*client),
                    })
                    .collect();
                ctx.send(client, &Out::Members { members });
            }
            In::Kick { client: target } => {
                let admin = ctx.client_data::<Member>(client).is_some_and(|m| m.admin);
                if !admin {
                    return ctx.send_error(client, "forbidden", "only an admin may kick");
                }
                ctx.close(target, 4003, &format!("removed by {name}"));
            }
        }
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let name = name_of(ctx, client);
        ctx.send(MessageRecipient::Broadcast, &Out::Left { name: &name });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use stateroom::testing::{Received, TestRoom};

    fn bearer(token: &str) -> JoinRequest {
        JoinRequest::new("club").with_header("authorization", &format!("Bearer {token}"))
    }

    #[test]
    fn only_members_get_in() {
        let mut room = TestRoom::<Club>::new("club");
        let status = |r: Result<ClientId, Reject>| r.map_err(|e| e.status().as_u16());
        assert_eq!(status(room.join(JoinRequest::new("club"))), Err(401));
        assert_eq!(status(room.join(bearer("guess"))), Err(401));
        assert_eq!(status(room.join(bearer("eve-banned"))), Err(403));
        let by_query = JoinRequest::new("club").with_query("token=bob-hunter2");
        let bob = room.join(by_query).unwrap();
        let expected = Member {
            name: "bob".into(),
            admin: false,
        };
        assert_eq!(room.client_data::<Member>(bob), Some(&expected));
    }

    #[test]
    fn admins_kick_members_do_not() {
        let mut room = TestRoom::<Club>::new("club");
        let ada = room.join(bearer("ada-s3cret")).unwrap();
        let bob = room.join(bearer("bob-hunter2")).unwrap();
        room.send(bob, &In::Kick { client: ada });
        assert_eq!(
            room.take(bob)[0].error().unwrap().code.as_str(),
            "forbidden"
        );
        room.send(ada, &In::Who);
        assert_eq!(
            room.take_json::<Value>(ada),
            [json!({"type": "members", "members": [
                {"client": ada, "name": "ada", "online": true},
                {"client": bob, "name": "bob", "online": true},
            ]})]
        );
        room.send(ada, &In::Kick { client: bob });
        let closed = Received::Closed {
            code: 4003,
            reason: "removed by ada".into(),
        };
        assert_eq!(room.take(bob), [closed]);
        assert_eq!(
            room.take_json::<Value>(ada),
            [json!({"type": "left", "name": "bob"})]
        );
    }
}
