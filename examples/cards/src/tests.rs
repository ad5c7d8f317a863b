use super::*;
use stateroom::testing::TestRoom;

/// Every card id in the private-view frames among `frames`.
fn private_cards(frames: &[String]) -> Vec<u8> {
    fn numbers(value: &serde_json::Value, out: &mut Vec<u8>) {
        match value {
            serde_json::Value::Number(n) => out.extend(n.as_u64().map(|n| n as u8)),
            serde_json::Value::Array(items) => items.iter().for_each(|v| numbers(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| numbers(v, out)),
            _ => {}
        }
    }
    let mut cards = Vec::new();
    for frame in frames {
        let value: serde_json::Value = serde_json::from_str(frame).unwrap();
        let sync = &value["stateroom"];
        if sync["sync"] == "private" {
            numbers(&sync["state"], &mut cards);
            for op in sync["patch"].as_array().into_iter().flatten() {
                numbers(&op["value"], &mut cards);
            }
        }
    }
    cards
}

#[test]
fn each_player_sees_the_table_and_only_their_own_hand() {
    let mut room = TestRoom::<Cards>::new("t1");
    let a = room.connect();
    let b = room.connect();
    room.assert_synced();
    let table: Table = room.state(a);
    assert_eq!(table.players.len(), 2);
    assert_eq!(table.deck, 52 - 10);
    assert_eq!(table.turn, Some(a));
    let hand_a: Hand = room.private_state(a);
    let hand_b: Hand = room.private_state(b);
    assert_eq!(hand_a.cards.len(), 5);
    // b's cards never reach a: no card of b's appears in a's private frames.
    let seen_by_a = private_cards(&room.sync_frames(a));
    assert!(!seen_by_a.is_empty());
    for card in &hand_b.cards {
        assert!(!seen_by_a.contains(&card.0), "a saw b's card {card:?}");
    }
    assert_ne!(hand_a, hand_b);

    let card = hand_a.cards[0];
    room.send(a, &Move::Play { card });
    room.assert_synced();
    let table: Table = room.state(b);
    assert_eq!(table.pile, vec![card]);
    assert_eq!(table.turn, Some(b));
    assert_eq!(table.players[&a].cards, 4);
    // The play was one small patch to each client, not a new snapshot.
    let last = room.sync_frames(b).last().cloned().unwrap();
    assert!(last.contains(r#""patch":["#), "{last}");
    assert!(last.len() < 300, "{last}");
}

#[test]
fn a_move_out_of_turn_changes_nothing_and_sends_no_patch() {
    let mut room = TestRoom::<Cards>::new("t2");
    let a = room.connect();
    let b = room.connect();
    let before = (room.sync_frames(a).len(), room.sync_frames(b).len());
    let card = room.private_state::<Hand>(b).cards[0];
    room.send(b, &Move::Play { card });
    let error = room.take(b).pop().and_then(|f| f.error()).unwrap();
    assert_eq!(error.code.as_str(), "not_your_turn");
    assert_eq!(
        (room.sync_frames(a).len(), room.sync_frames(b).len()),
        before
    );
}

#[test]
fn a_resumed_player_gets_fresh_snapshots_and_one_who_leaves_disappears() {
    let mut room = TestRoom::<Cards>::new("t3");
    let a = room.connect();
    let b = room.connect();
    room.drop_connection(b);
    room.send(a, &Move::Draw);
    room.send(a, &Move::Name { name: "Ada".into() });
    let session = room.resume(b);
    assert!(session.resumed);
    room.assert_synced();
    assert_eq!(room.state::<Table>(b).players[&a].name, "Ada");
    room.disconnect(b);
    room.assert_synced();
    assert!(!room.state::<Table>(a).players.contains_key(&b));
    assert_eq!(room.state::<Table>(a).deck, 52 - 5 - 1);
}

#[test]
fn the_page_types_are_the_generated_ones() {
    use stateroom::ServiceTypes;
    let generated = Cards::typescript().unwrap();
    let committed = include_str!("../web/room-types.ts");
    assert_eq!(
        committed, generated,
        "web/room-types.ts is stale: run `cargo run -p example-cards -- --emit-ts examples/cards/web/room-types.ts`"
    );
}
