//! The axum app serves its own routes and the mounted rooms on one port,
//! reaches a room from an ordinary handler, and shuts both down gracefully.

use stateroom_test_support as support;

use example_axum_app::app;
use std::net::SocketAddr;
use support::*;

async fn ws(addr: SocketAddr, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("a WebSocket through the app");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_port_one_shutdown_for_the_app_and_its_rooms() {
    let (router, rooms) = app().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown_rooms = rooms.clone();
    let served = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
                shutdown_rooms.shutdown().await;
            })
            .await
    });

    assert_eq!(
        get(addr, "/hello").await,
        (200, "hello from the app's own route".into())
    );
    let mut ada = ws(addr, "/game/ws/arena").await;
    let mut bob = ws(addr, "/game/ws/arena").await;
    send_text(&mut ada, "+5").await;
    assert_eq!(next_text(&mut ada).await, "5");
    assert_eq!(next_text(&mut bob).await, "5");
    // An ordinary handler reaches the room through the handle.
    let (status, body) = http(
        addr,
        "POST /bonus/arena/10 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "15"));
    assert_eq!(next_text(&mut bob).await, "15");
    // The room answers HTTP at the app's path, with the same state.
    assert_eq!(
        get(addr, "/game/rooms/arena").await,
        (200, r#"{"score":15}"#.into())
    );
    let (status, _) = http(
        addr,
        "POST /bonus/nowhere/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(rooms.rooms().list().len(), 1);

    // The app's graceful shutdown closes the rooms' clients with 1001.
    stop.send(()).unwrap();
    for ws in [&mut ada, &mut bob] {
        assert_eq!(close_code(ws).await, Some(1001.into()));
    }
    drop((ada, bob));
    let result = tokio::time::timeout(WAIT, served)
        .await
        .expect("the app stops");
    assert!(result.unwrap().is_ok());
}
