//! The seed's chat, as two `websocat` users would see it.

use stateroom_test_support as support;

use support::*;

/// Joins the lobby and reads the name from the welcome message.
async fn enter(addr: std::net::SocketAddr) -> (Ws, String) {
    let mut ws = join(addr, "lobby").await;
    let welcome = next_text(&mut ws).await;
    let name = welcome
        .strip_prefix("Welcome to the chat! Your name is ")
        .and_then(|rest| rest.split_once('.'))
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| panic!("not a welcome: {welcome}"));
    assert!(name.starts_with("client"), "{name}");
    (ws, name)
}

#[tokio::test]
async fn two_clients_chat_and_rename() {
    let (server, addr) = spawn_binary(env!("CARGO_BIN_EXE_example-seed-chat")).await;
    let (mut one, one_name) = enter(addr).await;
    let (mut two, two_name) = enter(addr).await;
    assert_eq!(
        next_text(&mut one).await,
        format!("{two_name} has joined the chat")
    );

    send_text(&mut one, "hello").await;
    for ws in [&mut one, &mut two] {
        assert_eq!(next_text(ws).await, format!("{one_name}: hello"));
    }
    send_text(&mut two, "/nick bob").await;
    for ws in [&mut one, &mut two] {
        assert_eq!(
            next_text(ws).await,
            format!("{two_name} is now known as bob")
        );
    }
    two.close(None).await.unwrap();
    assert_eq!(next_text(&mut one).await, "bob has left the chat");
    drop(one);
    assert!(server.terminate().await.success());
}
