//! The seed's chat, as two `websocat` users would see it.

#[path = "../../../stateroom/tests/support/mod.rs"]
mod support;

use support::*;

#[tokio::test]
async fn two_clients_chat_and_rename() {
    let (server, addr) = spawn_binary(env!("CARGO_BIN_EXE_example-seed-chat")).await;
    let mut one = join(addr, "lobby").await;
    let welcome = next_text(&mut one).await;
    assert!(
        welcome.starts_with("Welcome to the chat! Your name is client"),
        "{welcome}"
    );
    let one_name = welcome
        .split("Your name is ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();

    let mut two = join(addr, "lobby").await;
    let welcome = next_text(&mut two).await;
    let two_name = welcome
        .split("Your name is ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_owned();
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
