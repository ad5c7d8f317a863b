//! Chat bots: each joins a room of ten under a name, then says ten lines,
//! one every half second (so bots overlap and hear each other), each
//! counted as a round trip until its own `said` comes back. The
//! chat's outbound type borrows from the room's state, so the bots read
//! JSON (`serde_json::Value`); a service whose types are owned shares them
//! as the arena's bots do. A dashboard line every second, a JSON report at
//! the end.
//!
//! `cargo run --release -p example-chat --bin chat-bots -- ws://127.0.0.1:8080 2000 10000`
//! (server, bots, ramp in milliseconds).

use serde_json::{Value, json};
use stateroom::client::bots::{Bot, BotArgs, BotError, BotReport, Bots};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let args = BotArgs::parse(std::env::args(), "ws://127.0.0.1:8080");
    let report = chat_bots(&args.url, args.clients, args.ramp, true).await;
    println!("{}", report.to_json());
}

/// Runs `clients` chat bots, ten to a room, against the server at `url`.
async fn chat_bots(url: &str, clients: usize, ramp: Duration, dashboard: bool) -> BotReport {
    Bots::new(format!("{url}/ws/bots-{{n}}"))
        .clients(clients)
        .room_size(10)
        .ramp(ramp)
        .dashboard(dashboard)
        .run(chat)
        .await
}

/// One bot's conversation.
async fn chat(bot: Bot<Value, Value>) -> Result<(), BotError> {
    let name = format!("bot-{}", bot.index);
    let welcome = bot
        .request(&json!({"type": "join", "name": name}), |reply| {
            reply["type"] == "welcome"
        })
        .await?;
    let me = welcome["you"].clone();
    for line in 0..10 {
        if line > 0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let text = format!("line {line} from {name}");
        bot.request(&json!({"type": "say", "text": text}), |reply| {
            reply["type"] == "said" && reply["from"] == me && reply["text"] == text.as_str()
        })
        .await?;
    }
    Ok(())
}
