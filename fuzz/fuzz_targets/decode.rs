//! Text and binary frames as a macro-generated service receives them. Whatever
//! the bytes, decoding must not panic, and each frame yields either one call
//! of the user's hook or one well-formed error frame to the sender, never both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use stateroom::{
    ClientData, ClientId, ErrorCode, ErrorFrame, MessageRecipient, SimpleStateroomService,
    StateroomContext, TimerKey,
};
use std::cell::RefCell;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum In {
    Say {
        text: String,
    },
    Move {
        x: i32,
        y: i32,
        speed: Option<f64>,
    },
    Batch {
        items: Vec<u64>,
        tags: std::collections::HashMap<String, bool>,
    },
    Leave,
}

#[derive(Default)]
struct Room {
    calls: usize,
}

#[stateroom::service(no_main)]
impl Room {
    fn message(&mut self, _client: ClientId, _msg: In) {
        self.calls += 1;
    }
}

/// Records what the service sends.
#[derive(Default)]
struct Recorder {
    sent: RefCell<Vec<(MessageRecipient, String)>>,
}

impl StateroomContext for Recorder {
    fn room_id(&self) -> &str {
        "fuzz"
    }
    fn clients(&self) -> Vec<ClientId> {
        vec![ClientId::from(7)]
    }
    fn is_connected(&self, client: ClientId) -> bool {
        client == ClientId::from(7)
    }
    fn client_data_any(&self, _client: ClientId) -> Option<&ClientData> {
        None
    }
    fn close(&self, _client: ClientId, _code: u16, _reason: &str) {}
    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str) {
        self.sent
            .borrow_mut()
            .push((recipient.into(), message.to_owned()));
    }
    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]) {
        self.sent.borrow_mut().push((
            recipient.into(),
            String::from_utf8_lossy(message).into_owned(),
        ));
    }
    fn set_timer(&self, _ms_delay: u32) {}
    fn schedule(
        &self,
        _key: TimerKey,
        _after: std::time::Duration,
        _every: Option<std::time::Duration>,
    ) {
    }
    fn cancel(&self, _key: &TimerKey) {}
}

fuzz_target!(|data: &[u8]| {
    let client = ClientId::from(7);
    let ctx = Recorder::default();
    let mut room = <Room as SimpleStateroomService>::new("fuzz", &ctx);
    let expected_code = match std::str::from_utf8(data) {
        Ok(text) => {
            SimpleStateroomService::message(&mut room, client, text, &ctx);
            None
        }
        Err(_) => {
            SimpleStateroomService::binary(&mut room, client, data, &ctx);
            Some(ErrorCode::UnsupportedFrame)
        }
    };
    let sent = ctx.sent.into_inner();
    match (room.calls, sent.as_slice()) {
        (1, []) => assert!(expected_code.is_none()),
        (0, [(recipient, text)]) => {
            assert_eq!(*recipient, MessageRecipient::Client(client));
            let frame = ErrorFrame::from_json(text).expect("a well-formed error frame");
            match expected_code {
                Some(code) => assert_eq!(frame.code, code),
                None => assert!(matches!(
                    frame.code,
                    ErrorCode::InvalidJson | ErrorCode::InvalidMessage
                )),
            }
        }
        (calls, sent) => panic!("{calls} hook calls and {} frames sent", sent.len()),
    }
});
