//! The ledger inside an axum app: the app's own route
//! `POST /credit/{room}/{amount}` reaches a room through a handle, and is
//! answered only once the credit is durable; the rooms themselves are at
//! `/ws/{room}` and `/rooms/{room}`.
//!
//! Run: `cargo run -p example-ledger --bin ledger-app` (port 3000 or
//! `PORT`, data in `STATEROOM_DATA_DIR` or `./stateroom-data`), then
//! `curl -X POST 127.0.0.1:3000/credit/books/5`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use example_ledger::{Credit, Ledger, Totals};
use stateroom::{Embedded, Server};

#[tokio::main]
async fn main() {
    stateroom::init_logging();
    let dir = std::env::var("STATEROOM_DATA_DIR").unwrap_or_else(|_| "stateroom-data".into());
    let rooms = match Server::new()
        .data_dir(dir)
        .ws_prefix("/ws/")
        .http_prefix("/rooms/")
        .embed::<Ledger>()
        .await
    {
        Ok(rooms) => rooms,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    let router = Router::new()
        .route("/credit/{room}/{amount}", post(credit))
        .route_service("/ws/{room}", rooms.service())
        .route_service("/rooms/{room}", rooms.service())
        .with_state(rooms.clone());
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = match tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on port {port}: {error}");
            std::process::exit(1);
        }
    };
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        rooms.shutdown().await;
    };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("error: {error}");
    }
}

/// The app's route: a credit through the room's handle.
async fn credit(
    State(rooms): State<Embedded>,
    Path((room, amount)): Path<(String, i64)>,
) -> Result<axum::Json<Totals>, (StatusCode, String)> {
    let room = rooms
        .rooms()
        .get_or_create(&room)
        .map_err(|error| (StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
    room.command::<Credit, Totals>(Credit(amount))
        .await
        .map(axum::Json)
        .map_err(|error| (StatusCode::SERVICE_UNAVAILABLE, error.to_string()))
}
