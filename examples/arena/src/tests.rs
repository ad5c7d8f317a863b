//! The race's rules with the test kit.

use super::*;
use stateroom::testing::TestRoom;
use std::time::Duration;

fn named(
    room: &mut TestRoom<impl stateroom::SimpleStateroomService>,
    id: &str,
    name: &str,
) -> ClientId {
    let request = JoinRequest::new(id).with_query(format!("name={name}"));
    room.join(request).expect("joins")
}

#[test]
fn a_race_seats_two_locks_and_has_one_winner() {
    let mut room = TestRoom::<Race>::new("r1");
    assert!(!room.listing().locked);
    let ada = named(&mut room, "r1", "ada");
    let bob = named(&mut room, "r1", "bob");
    let board: Board = room.state(ada);
    assert!(board.started);
    assert!(room.listing().locked, "a full race leaves matchmaking");
    assert_eq!(room.listing().capacity, Some(2));
    assert_eq!(board.racers[&ada].name, "ada");
    for _ in 0..GOAL {
        room.send(ada, &RaceMove::Click);
        room.send(bob, &RaceMove::Click);
    }
    let board: Board = room.state(bob);
    assert_eq!(board.winner, Some(ada));
    assert_eq!(
        board.racers[&bob].score,
        GOAL - 1,
        "no click counts after the win"
    );
    room.assert_synced();
}

#[test]
fn a_racer_who_leaves_before_the_end_frees_the_seat() {
    let mut room = TestRoom::<Race>::new("r2");
    let ada = named(&mut room, "r2", "ada");
    let bob = named(&mut room, "r2", "bob");
    room.send(ada, &RaceMove::Click);
    room.disconnect(bob);
    let board: Board = room.state(ada);
    assert!(!board.started);
    assert!(!room.listing().locked);
    assert_eq!(board.racers[&ada].score, 0);
}

#[test]
fn the_lobby_shows_names_as_presence() {
    let mut room = TestRoom::<Lobby>::new("main");
    let ada = named(&mut room, "main", "ada");
    let bob = named(&mut room, "main", "bob");
    // Both joined within one tick: one patch at the tick, not one per join.
    room.advance(Duration::from_millis(50));
    let presence = room.presence(ada);
    assert_eq!(presence[ada.to_string()]["name"], "ada");
    assert_eq!(presence[bob.to_string()]["name"], "bob");
    assert_eq!(room.presence(bob), presence);
    room.disconnect(bob);
    room.advance(Duration::from_millis(50));
    assert!(room.presence(ada).get(bob.to_string()).is_none());
    assert_eq!(
        room.synced(ada).frames,
        3,
        "a snapshot, the tick's patch, the leave"
    );
}

#[test]
fn the_queue_groups_players_by_rank_band() {
    let mut room = TestRoom::<Queue>::new("ranked");
    let join = |room: &mut TestRoom<Queue>, name: &str, rank: u32| {
        let request = JoinRequest::new("ranked").with_query(format!("name={name}&rank={rank}"));
        room.join(request).expect("joins")
    };
    let ada = join(&mut room, "ada", 100);
    let bob = join(&mut room, "bob", 1200);
    assert!(room.take_json::<QueueOut>(ada).is_empty(), "ada waits");
    let cy = join(&mut room, "cy", 150);
    let dee = join(&mut room, "dee", 1300);
    let matched =
        |room: &mut TestRoom<Queue>, client| match room.take_json::<QueueOut>(client).pop() {
            Some(QueueOut::Matched { race, with }) => (race, with),
            None => panic!("{client} was not matched"),
        };
    let (ada_race, ada_with) = matched(&mut room, ada);
    let (cy_race, _) = matched(&mut room, cy);
    let (bob_race, bob_with) = matched(&mut room, bob);
    let (dee_race, _) = matched(&mut room, dee);
    assert_eq!(ada_race, cy_race);
    assert_eq!(bob_race, dee_race);
    assert_ne!(ada_race, bob_race, "one race per group");
    assert_eq!(
        (ada_with, bob_with),
        (vec!["cy".to_owned()], vec!["dee".to_owned()])
    );
    // No rank: refused before it joins.
    let refused = room.join(JoinRequest::new("ranked").with_query("name=eve"));
    assert_eq!(refused.expect_err("refused").status().as_u16(), 400);
}

#[test]
fn a_player_who_leaves_the_queue_is_not_matched() {
    let mut room = TestRoom::<Queue>::new("ranked");
    let request =
        |name: &str| JoinRequest::new("ranked").with_query(format!("name={name}&rank=10"));
    let ada = room.join(request("ada")).expect("joins");
    room.disconnect(ada);
    let bob = room.join(request("bob")).expect("joins");
    assert!(
        room.take_json::<QueueOut>(bob).is_empty(),
        "bob waits for someone present"
    );
    let cy = room.join(request("cy")).expect("joins");
    assert!(
        matches!(room.take_json::<QueueOut>(cy).pop(), Some(QueueOut::Matched { with, .. }) if with == ["bob"])
    );
}
