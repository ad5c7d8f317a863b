//! Bots that race, sharing the arena's own message types: each finds a
//! race through matchmaking, waits for its opponent, and clicks to the
//! goal; each click until the state shows it counts as a round trip. A
//! dashboard line every second, a JSON report at the end.
//!
//! `cargo run --release -p example-arena --bin arena-bots -- http://127.0.0.1:8080 200 2000`
//! (server, bots, ramp in milliseconds).

use example_arena::{Board, RaceMove};
use serde_json::{Value, json};
use stateroom::client::bots::{Bot, BotArgs, BotError, Bots};
use stateroom::client::{MatchRequest, join_or_create};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let args = BotArgs::parse(std::env::args(), "http://127.0.0.1:8080");
    let report = race_bots(&args.url, args.clients, args.ramp, true).await;
    println!("{}", report.to_json());
}

/// Runs `clients` racing bots against the arena at `url`.
async fn race_bots(
    url: &str,
    clients: usize,
    ramp: Duration,
    dashboard: bool,
) -> stateroom::client::bots::BotReport {
    let url = url.to_owned();
    Bots::new(url.clone())
        .clients(clients)
        .ramp(ramp)
        .dashboard(dashboard)
        .timeout(Duration::from_secs(30))
        .run_connected(
            move |index, options| {
                let url = url.clone();
                async move {
                    let request = MatchRequest::new()
                        .filter("mode", "race")
                        .options(json!({ "name": format!("bot-{index}") }));
                    Ok(join_or_create(&url, "race", &request, options).await?)
                }
            },
            race,
        )
        .await
}

/// One bot's race.
async fn race(bot: Bot<RaceMove, Value>) -> Result<(), BotError> {
    bot.until_state::<Board>(|board| board.started).await?;
    let me = bot
        .client()
        .session()
        .map(|session| session.client)
        .ok_or_else(|| BotError::Script("no session".into()))?;
    loop {
        let score = |board: &Board| board.racers.get(&me).map_or(0, |racer| racer.score);
        let before = bot
            .client()
            .state::<Board>()
            .map_or(0, |board| score(&board));
        let board = bot
            .timed(async {
                bot.send(&RaceMove::Click)?;
                bot.until_state::<Board>(|board| board.winner.is_some() || score(board) > before)
                    .await
            })
            .await?;
        if board.winner.is_some() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn twenty_bots_race_to_the_end() {
        let server = example_arena::rooms(stateroom::Server::new().host("127.0.0.1").port(0))
            .start_rooms()
            .await
            .expect("the arena starts");
        let url = format!("http://{}", server.local_addr());
        let report = super::race_bots(&url, 20, std::time::Duration::from_millis(200), false).await;
        assert_eq!(report.connected, 20, "{report:?}");
        assert_eq!((report.finished, report.errors), (20, 0), "{report:?}");
        // Ten races: every click a winner needed (ten each) was timed, at least.
        assert!(report.requests >= 100, "{report:?}");
        assert!(report.p99_us >= report.p50_us);
        let races = server.rooms().find(&stateroom::Query::default());
        assert_eq!(races.iter().filter(|room| room.kind == "race").count(), 10);
    }
}
