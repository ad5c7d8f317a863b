//! A shared whiteboard: everyone in a room draws on one canvas.
//!
//! Run: `cargo run -p example-whiteboard`, then open <http://127.0.0.1:8080/>
//! in two browser windows. The page (`web/`, served by this same server with
//! the static-files option) uses `@stateroom/client` from
//! `/__stateroom/client.js`; its message types are `web/room-types.ts`,
//! generated from the Rust types below with
//! `cargo run -p example-whiteboard -- --emit-ts examples/whiteboard/web/room-types.ts`.
//!
//! Reconnection is on: a page whose network drops gets its seat back, and
//! the strokes drawn meanwhile, when it reconnects within 30 s.

use serde::{Deserialize, Serialize};
use stateroom::{ClientId, MessageRecipient, StateroomContext};

/// Most points in one stroke.
const MAX_POINTS: usize = 1000;
/// Most strokes a board keeps; the oldest go first.
const MAX_STROKES: usize = 2000;
/// The canvas's logical size: coordinates are within it.
const SIZE: f32 = 10_000.0;

/// A point on the board.
#[stateroom::message]
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
struct Point {
    x: f32,
    y: f32,
}

/// One line someone drew.
#[stateroom::message]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Stroke {
    by: ClientId,
    /// `#rrggbb`.
    color: String,
    width: f32,
    points: Vec<Point>,
}

/// What a page sends.
#[stateroom::message]
#[derive(Debug, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
#[serde(tag = "type", rename_all = "snake_case")]
enum BoardIn {
    /// Adds a stroke for everyone.
    Draw {
        color: String,
        width: f32,
        points: Vec<Point>,
    },
    /// Wipes the board for everyone.
    Clear,
}

/// What the board sends.
#[stateroom::message]
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BoardOut<'a> {
    /// To a page that just arrived: who it is, the board so far, who is here.
    Welcome {
        you: ClientId,
        strokes: &'a [Stroke],
        peers: Vec<ClientId>,
    },
    /// Someone drew.
    Drew { stroke: &'a Stroke },
    /// Someone wiped the board.
    Cleared { by: ClientId },
    /// Someone arrived.
    Joined { client: ClientId },
    /// Someone left.
    Left { client: ClientId },
}

/// One room's board.
#[derive(Default)]
struct Board {
    strokes: Vec<Stroke>,
}

#[stateroom::service(reconnect = "30s", outbound = BoardOut, static_dir = "web")]
impl Board {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let peers = ctx.clients().into_iter().filter(|&c| c != client).collect();
        ctx.send(
            client,
            &BoardOut::Welcome {
                you: client,
                strokes: &self.strokes,
                peers,
            },
        );
        ctx.send(
            MessageRecipient::EveryoneExcept(client),
            &BoardOut::Joined { client },
        );
    }

    fn message(&mut self, client: ClientId, msg: BoardIn, ctx: &impl StateroomContext) {
        match msg {
            BoardIn::Draw {
                color,
                width,
                points,
            } => {
                if let Err((code, why)) = check(&color, width, &points) {
                    return ctx.send_error(client, code, why);
                }
                if self.strokes.len() == MAX_STROKES {
                    self.strokes.remove(0);
                }
                self.strokes.push(Stroke {
                    by: client,
                    color,
                    width,
                    points,
                });
                let stroke = self.strokes.last();
                if let Some(stroke) = stroke {
                    ctx.send(MessageRecipient::Broadcast, &BoardOut::Drew { stroke });
                }
            }
            BoardIn::Clear => {
                self.strokes.clear();
                ctx.send(
                    MessageRecipient::Broadcast,
                    &BoardOut::Cleared { by: client },
                );
            }
        }
    }

    fn disconnect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.send(
            MessageRecipient::EveryoneExcept(client),
            &BoardOut::Left { client },
        );
    }
}

/// A stroke's shape, or the error code and message that refuse it.
fn check(color: &str, width: f32, points: &[Point]) -> Result<(), (&'static str, &'static str)> {
    let hex = color.strip_prefix('#').unwrap_or_default();
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(("bad_color", "colors are #rrggbb"));
    }
    if !(0.5..=50.0).contains(&width) {
        return Err(("bad_width", "width is from 0.5 to 50"));
    }
    if points.is_empty() || points.len() > MAX_POINTS {
        return Err(("bad_points", "a stroke has 1 to 1000 points"));
    }
    let inside = |v: f32| (0.0..=SIZE).contains(&v);
    if !points.iter().all(|p| inside(p.x) && inside(p.y)) {
        return Err(("bad_points", "points are within 0..10000 on both axes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateroom::ServiceTypes;
    use stateroom::testing::{Received, TestRoom};

    fn draw(x: f32) -> BoardIn {
        BoardIn::Draw {
            color: "#3366ff".into(),
            width: 3.0,
            points: vec![Point { x, y: 1.0 }, Point { x: x + 5.0, y: 2.0 }],
        }
    }

    #[test]
    fn a_stroke_reaches_everyone_and_later_arrivals_get_the_board() {
        let mut room = TestRoom::<Board>::new("board");
        let ada = room.connect();
        let bob = room.connect();
        room.take(ada);
        room.send(ada, &draw(10.0));
        let seen = room.take_json::<serde_json::Value>(bob);
        assert_eq!(seen.last().unwrap()["type"], "drew");
        assert_eq!(seen.last().unwrap()["stroke"]["by"], u32::from(ada));
        let cyd = room.connect();
        let welcome = &room.take_json::<serde_json::Value>(cyd)[0];
        assert_eq!(welcome["strokes"].as_array().unwrap().len(), 1);
        assert_eq!(welcome["peers"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn bad_strokes_get_error_frames_and_change_nothing() {
        let mut room = TestRoom::<Board>::new("board");
        let ada = room.connect();
        room.take(ada);
        for (bad, code) in [
            (
                r#"{"type":"draw","color":"red","width":3,"points":[{"x":1,"y":1}]}"#,
                "bad_color",
            ),
            (
                r##"{"type":"draw","color":"#ffffff","width":99,"points":[{"x":1,"y":1}]}"##,
                "bad_width",
            ),
            (
                r##"{"type":"draw","color":"#ffffff","width":3,"points":[]}"##,
                "bad_points",
            ),
            (
                r##"{"type":"draw","color":"#ffffff","width":3,"points":[{"x":-1,"y":1}]}"##,
                "bad_points",
            ),
            (r#"{"type":"paint"}"#, "invalid_message"),
        ] {
            room.send_text(ada, bad);
            let got = room.take(ada);
            assert!(
                matches!(&got[..], [Received::Text(t)] if t.contains(&format!(r#""code":"{code}""#))),
                "{bad}: {got:?}"
            );
        }
        let bob = room.connect();
        assert_eq!(
            room.take_json::<serde_json::Value>(bob)[0]["strokes"],
            serde_json::json!([])
        );
    }

    #[test]
    fn the_page_types_are_the_generated_ones() {
        let generated = Board::typescript().unwrap();
        let committed = include_str!("../web/room-types.ts");
        assert_eq!(
            committed, generated,
            "web/room-types.ts is stale: run `cargo run -p example-whiteboard -- --emit-ts examples/whiteboard/web/room-types.ts`"
        );
    }
}
