// Every accepted hook signature compiles, with and without the context.
use serde::Deserialize;
use stateroom::{
    ClientId, ErrorFrame, JoinRequest, Reject, SimpleStateroomService, StateroomContext, TimerKey,
};
use std::time::Duration;

struct User {
    name: String,
}

#[derive(Deserialize)]
enum Alarm {
    Turn,
}

#[derive(Deserialize)]
struct In {
    n: u32,
}

#[derive(Default)]
struct WithCtx;

#[stateroom::service(no_main, reconnect = "30s")]
impl WithCtx {
    fn new(_room_id: &str, ctx: &impl StateroomContext) -> Self {
        ctx.set_timer(10);
        WithCtx
    }
    fn join(&self, request: &JoinRequest, ctx: &impl StateroomContext) -> Result<User, Reject> {
        let _ = ctx.room_id();
        match request.bearer_token() {
            Some(name) => Ok(User { name: name.to_owned() }),
            None => Err(Reject::unauthorized("no token")),
        }
    }
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        let _ = ctx.client_data::<User>(client).map(|user| user.name.len());
    }
    fn reconnect(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}
    fn invalid(&mut self, client: ClientId, _error: &ErrorFrame, ctx: &impl StateroomContext) {
        ctx.close(client, 4000, "too many bad frames");
    }
    fn disconnect(&mut self, _client: ClientId, _ctx: &impl StateroomContext) {}
    fn message(&mut self, _client: ClientId, msg: In, _ctx: &impl StateroomContext) {
        let _ = msg.n;
    }
    fn binary(&mut self, _client: ClientId, _data: &[u8], _ctx: &impl StateroomContext) {}
    fn timer(&mut self, _ctx: &impl StateroomContext) {}
    fn alarm(&mut self, key: Alarm, _ctx: &impl StateroomContext) {
        let Alarm::Turn = key;
    }
}

struct WithoutCtx;

#[stateroom::service(no_main)]
impl WithoutCtx {
    fn new(_room_id: &str) -> WithoutCtx {
        WithoutCtx
    }
    fn join(&self, _request: &JoinRequest) -> Result<(), Reject> {
        Ok(())
    }
    fn connect(&mut self, _client: ClientId) {}
    fn reconnect(&mut self, _client: ClientId) {}
    fn disconnect(&mut self, _client: ClientId) {}
    fn invalid(&mut self, _client: ClientId, _error: &ErrorFrame) {}
    fn message(&mut self, _client: ClientId, _text: &str) {}
    fn binary(&mut self, _client: ClientId, _data: Vec<u8>) {}
    fn timer(&mut self) {}
    fn alarm(&mut self, _key: &TimerKey) {}
}

struct NoArgsNew;

#[stateroom::service(no_main)]
impl NoArgsNew {
    fn new() -> Self {
        NoArgsNew
    }
    fn message(&mut self, _client: ClientId, _text: String) {}
    fn alarm(&mut self, _key: &str, _ctx: &impl StateroomContext) {}
    /// Ordinary methods stay ordinary, even near-miss names without `&mut self`.
    fn timers(&self) -> usize {
        0
    }
}

#[derive(Default)]
struct StringKey;

#[stateroom::service(no_main)]
impl StringKey {
    fn alarm(&mut self, _key: String) {}
}

#[derive(Default)]
struct Empty;

#[stateroom::service(no_main)]
impl Empty {}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Saved {
    n: u32,
    #[serde(skip)]
    cache: Vec<u8>,
}

#[stateroom::service(no_main, persist(durability = "debounced(2s)", version = 3))]
impl Saved {
    fn migrate(from: u32, state: stateroom::serde_json::Value) -> Result<stateroom::serde_json::Value, String> {
        let _ = from;
        Ok(state)
    }
    fn restore(&mut self, ctx: &impl StateroomContext) {
        self.cache.clear();
        ctx.save();
    }
    fn message(&mut self, _client: ClientId, _text: &str, ctx: &impl StateroomContext) {
        self.n += 1;
        if self.n > 10 {
            ctx.destroy();
        }
    }
}

#[derive(Default)]
struct Reached {
    hits: u32,
}

#[stateroom::service(no_main)]
impl Reached {
    fn command(&mut self, add: u32) -> u32 {
        self.hits += add;
        self.hits
    }
    fn request(&mut self, _request: &stateroom::RoomRequest, _ctx: &impl StateroomContext) -> stateroom::RoomResponse {
        stateroom::RoomResponse::json(&self.hits)
    }
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Manual;

#[stateroom::service(no_main, persist(durability = "manual"))]
impl Manual {}

#[derive(Default, serde::Serialize)]
struct Board {
    cells: Vec<u8>,
}

#[derive(Default)]
struct Synced {
    board: Board,
}

#[stateroom::service(no_main, patch_rate = "50ms")]
impl Synced {
    fn view(&self) -> &Board {
        &self.board
    }
    fn private_view(&self, client: ClientId) -> impl serde::Serialize + '_ {
        (u32::from(client), &self.board.cells)
    }
}

#[derive(Default)]
struct SharedOnly;

#[stateroom::service(no_main)]
impl SharedOnly {
    fn view(&self) -> u32 {
        7
    }
}

fn is_service<S: SimpleStateroomService>() {}

fn main() {
    assert_eq!(WithCtx::RECONNECT_WINDOW, Some(Duration::from_secs(30)));
    assert_eq!(WithoutCtx::RECONNECT_WINDOW, None);
    is_service::<WithCtx>();
    is_service::<Saved>();
    is_service::<Manual>();
    is_service::<Reached>();
    is_service::<Synced>();
    assert!(Synced::SYNC && SharedOnly::SYNC && !Reached::SYNC);
    assert_eq!(Synced::PATCH_RATE, Some(Duration::from_millis(50)));
    assert_eq!(SharedOnly::PATCH_RATE, None);
    let synced = Synced { board: Board { cells: vec![1, 2] } };
    assert_eq!(SimpleStateroomService::view(&synced).unwrap().unwrap(), stateroom::serde_json::json!({"cells": [1, 2]}));
    assert_eq!(
        SimpleStateroomService::private_view(&synced, ClientId::from(3)).unwrap().unwrap(),
        stateroom::serde_json::json!([3, [1, 2]])
    );
    assert!(SimpleStateroomService::private_view(&SharedOnly, ClientId::from(3)).is_none());
    assert!(Reached::default().view().is_none());
    assert!(Reached::ANSWERS_HTTP);
    assert!(!Manual::ANSWERS_HTTP);
    assert_eq!(Saved::STATE_VERSION, 3);
    assert_eq!(
        Saved::PERSIST,
        Some(stateroom::Durability::Debounced(Duration::from_secs(2)))
    );
    assert_eq!(Manual::PERSIST, Some(stateroom::Durability::Manual));
    assert_eq!(WithCtx::PERSIST, None);
    let saved = Saved { n: 4, cache: vec![1] }.save_state().unwrap();
    assert_eq!(saved, r#"{"n":4}"#);
    assert_eq!(Saved::load_state(3, &saved).unwrap().n, 4);
    assert!(Saved::load_state(4, &saved).is_err(), "newer than the code");
    is_service::<WithoutCtx>();
    is_service::<NoArgsNew>();
    is_service::<Empty>();
    is_service::<StringKey>();
    assert_eq!(NoArgsNew.timers(), 0);
}

#[derive(Default)]
struct Watchers;

// Presence (count only, at its own rate) and the public directory.
#[stateroom::service(no_main, presence = "count", listed, patch_rate = "100ms")]
impl Watchers {
    fn connect(&mut self, client: ClientId, ctx: &impl StateroomContext) {
        ctx.set_presence(client, &"here");
        ctx.set_metadata(&[("mode", "watch")]);
        ctx.set_capacity(Some(10_000));
        ctx.lock();
        ctx.unlock();
    }
}
