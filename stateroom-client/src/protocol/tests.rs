//! The protocol machine, frame by frame.

use super::*;

fn session(resumed: bool) -> String {
    format!(r#"{{"stateroom":{{"client":7,"token":"7.00ff","resumed":{resumed},"replayed":0}}}}"#)
}

#[test]
fn numbers_keeps_and_resends_until_applied() {
    let mut client = Protocol::new(Options::default());
    assert_eq!(client.query(), "next=1");
    // Offline: queued.
    assert_eq!(client.send(Frame::Text("a".into())), Ok(None));
    assert_eq!(client.opened(), vec![Frame::Text("a".into())]);
    client.frame(Frame::Text(session(false)));
    assert!(client.send(Frame::Text("b".into())).unwrap().is_some());
    assert_eq!(client.unacknowledged(), 2);
    let got = client.frame(Frame::Text(r#"{"stateroom":{"applied":1}}"#.into()));
    assert_eq!(got.events, vec![Event::Applied(1)]);
    assert_eq!(client.unacknowledged(), 1);
    client.frame(Frame::Text(r#"{"said":1}"#.into()));
    // Dropped: the next connection resumes, acks one frame, resends "b" as 2.
    assert!(matches!(client.closed_with(1006), Reconnect::After(_)));
    assert_eq!(client.query(), "resume=7.00ff&ack=1&next=2");
    assert_eq!(client.opened(), vec![Frame::Text("b".into())]);
}

#[test]
fn a_room_without_sessions_numbers_nothing() {
    let mut client = Protocol::new(Options::default());
    client.opened();
    client.send(Frame::Text("a".into())).unwrap();
    let got = client.frame(Frame::Text(r#"{"hello":1}"#.into()));
    assert_eq!(got.events, vec![Event::Text(r#"{"hello":1}"#.into())]);
    assert_eq!(client.unacknowledged(), 0);
    assert!(client.session().is_none());
}

#[test]
fn sync_frames_build_documents_and_a_bad_patch_asks_for_snapshots() {
    let mut client = Protocol::new(Options {
        exactly_once: false,
        ..Options::default()
    });
    client.opened();
    client.frame(Frame::Text(session(false)));
    let got = client.frame(Frame::Text(
        r#"{"stateroom":{"sync":"shared","v":3,"state":{"a":1}}}"#.into(),
    ));
    assert_eq!(got.events, vec![Event::Synced(Doc::Shared)]);
    client.frame(Frame::Text(
        r#"{"stateroom":{"sync":"shared","base":3,"patch":[{"op":"replace","path":"/a","value":2}]}}"#.into(),
    ));
    assert_eq!(
        client.document(Doc::Shared),
        Some(&serde_json::json!({"a": 2}))
    );
    assert_eq!(client.version(Doc::Shared), 4);
    let got = client.frame(Frame::Text(
        r#"{"stateroom":{"sync":"shared","base":9,"patch":[]}}"#.into(),
    ));
    assert_eq!(got.send, vec![Frame::Text(RESYNC_REQUEST.into())]);
    assert_eq!(client.version(Doc::Shared), 4, "kept what it held");
    assert_eq!(client.received(), 3);
}

#[test]
fn the_offline_queue_is_bounded_and_a_reservation_is_presented_once() {
    let mut client = Protocol::new(Options {
        max_queued: 1,
        reservation: Some("r 1".into()),
        query: vec![("token".into(), "t&u".into())],
        ..Options::default()
    });
    assert_eq!(client.query(), "token=t%26u&reservation=r%201&next=1");
    client.send(Frame::Text("a".into())).unwrap();
    assert_eq!(
        client.send(Frame::Text("b".into())),
        Err(SendError::QueueFull)
    );
    client.opened();
    assert_eq!(client.query(), "token=t%26u&next=1");
    client.close();
    assert_eq!(client.send(Frame::Text("c".into())), Err(SendError::Closed));
    assert_eq!(client.closed_with(1006), Reconnect::Stop);
}
