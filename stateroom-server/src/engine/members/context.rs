//! The context hooks get: everything in the room but the service, as the
//! `StateroomContext` trait says it.

use super::{Leave, Members};
pub(crate) use crate::engine::outlet::Outlet;
use crate::engine::stats::bump;
use crate::engine::timers::TimerId;
use bytes::Bytes;
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use hyper_tungstenite::tungstenite::protocol::frame::Utf8Bytes;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use serde::Serialize;
use stateroom_core::{
    ClientData, ClientId, Durability, ErrorCode, MessageRecipient, Publish, StateroomContext,
    TimerKey, unserialisable,
};
use std::time::Duration;

/// A close frame the service asked for, made valid: the code must be 1000,
/// 1008 or 3000–4999 (else 1008), the reason at most 123 bytes.
pub(crate) fn kick_frame(code: u16, reason: &str) -> CloseFrame {
    let code = match code {
        1000 | 1008 | 3000..=4999 => code,
        _ => 1008,
    };
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from(&reason[..end]),
    }
}

/// The [`StateroomContext`] handed to hooks.
pub(crate) struct RoomContext<'a, O> {
    pub(crate) members: &'a Members<O>,
}

impl<O: Outlet> StateroomContext for RoomContext<'_, O> {
    fn room_id(&self) -> &str {
        &self.members.room_id
    }

    fn clients(&self) -> Vec<ClientId> {
        let mut clients: Vec<ClientId> = self.members.clients.keys().copied().collect();
        clients.sort_unstable();
        clients
    }

    fn is_connected(&self, client: ClientId) -> bool {
        self.members
            .clients
            .get(&client)
            .is_some_and(|slot| slot.link.is_some())
    }

    fn client_data_any(&self, client: ClientId) -> Option<&ClientData> {
        match (self.members.clients.get(&client), &self.members.departing) {
            (Some(slot), _) => Some(&slot.data),
            (None, Some((departing, data))) if *departing == client => Some(data),
            (None, _) => None,
        }
    }

    #[cfg(feature = "yjs")]
    fn doc(&self) -> Option<&yrs::Doc> {
        self.members
            .doc
            .as_ref()
            .map(crate::engine::yjs::DocRoom::doc)
    }

    fn close(&self, client: ClientId, code: u16, reason: &str) {
        let Some(slot) = self.members.clients.get(&client) else {
            return;
        };
        let mut leaving = self.members.leaving.borrow_mut();
        if leaving.iter().any(|(c, _)| *c == client) {
            return;
        }
        let frame = kick_frame(code, reason);
        if self.members.gate.on.get() {
            // After the frames held before it; what is sent later is
            // discarded by the closing connection.
            self.members
                .gate
                .hold_close(client, slot.outlet().cloned(), frame);
        } else if let Some(outlet) = slot.outlet() {
            // Closed now, so that nothing sent later in this hook reaches it.
            outlet.close(Some(frame));
        }
        leaving.push((client, Leave::Kicked));
    }

    fn save(&self) {
        self.members.save_requested.set(true);
        if self.members.settings.persist == Some(Durability::Manual) {
            // A barrier: what is sent from now on waits for the save.
            self.members.gate.on.set(true);
        }
    }

    fn destroy(&self) {
        self.members.destroy_requested.set(true);
    }

    fn report_bug(&self, message: &str) {
        if self.members.settings.strict {
            panic!("bug in the service: {message}");
        }
        bump(&self.members.stats.service_bugs, 1);
        tracing::error!(room = %self.members.room_id, "bug in the service: {message}");
    }

    fn report_invalid(&self, code: &ErrorCode) {
        self.members.stats.decode_error(code.as_str());
    }

    fn publish(&self, change: Publish) {
        match change {
            Publish::Presence(client, value) => {
                if self.members.clients.contains_key(&client) {
                    self.members.presence.borrow_mut().set(client, value);
                }
            }
            Publish::Metadata(value) => {
                let mut listing = self.members.listing.borrow_mut();
                if listing.metadata != value {
                    listing.metadata = value;
                    listing.changed = true;
                }
            }
            Publish::Capacity(seats) => {
                let mut listing = self.members.listing.borrow_mut();
                listing.changed |= listing.capacity != seats;
                listing.capacity = seats;
            }
            Publish::Locked(locked) => {
                let mut listing = self.members.listing.borrow_mut();
                listing.changed |= listing.locked != locked;
                listing.locked = locked;
            }
        }
    }

    fn send_message(&self, recipient: impl Into<MessageRecipient>, message: &str) {
        self.members
            .deliver(recipient.into(), Message::Text(Utf8Bytes::from(message)));
    }

    fn send_binary(&self, recipient: impl Into<MessageRecipient>, message: &[u8]) {
        self.members.deliver(
            recipient.into(),
            Message::Binary(Bytes::copy_from_slice(message)),
        );
    }

    fn set_timer(&self, ms_delay: u32) {
        let deadline = self
            .members
            .after(Duration::from_millis(u64::from(ms_delay)));
        self.members
            .timers
            .borrow_mut()
            .set(TimerId::Seed, deadline, None);
    }

    fn schedule(&self, key: TimerKey, after: Duration, every: Option<Duration>) {
        let deadline = self.members.after(after);
        self.members
            .timers
            .borrow_mut()
            .set(TimerId::Named(key), deadline, every);
    }

    fn cancel(&self, key: &TimerKey) {
        self.members
            .timers
            .borrow_mut()
            .cancel(&TimerId::Named(key.clone()));
    }

    fn send<T: Serialize + ?Sized>(&self, recipient: impl Into<MessageRecipient>, message: &T) {
        // Serialise once, straight into the buffer every recipient shares.
        match serde_json::to_string(message) {
            Ok(text) => self
                .members
                .deliver(recipient.into(), Message::Text(Utf8Bytes::from(text))),
            Err(error) => self.report_bug(&unserialisable("message", &error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kick_frames_are_made_valid() {
        assert_eq!(u16::from(kick_frame(4001, "bye").code), 4001);
        assert_eq!(u16::from(kick_frame(1000, "").code), 1000);
        for bad in [0, 999, 1001, 1005, 1006, 1011, 2999, 5000] {
            assert_eq!(u16::from(kick_frame(bad, "x").code), 1008, "{bad}");
        }
        let long = "é".repeat(100);
        let frame = kick_frame(4000, &long);
        assert!(frame.reason.len() <= 123);
        assert!(long.starts_with(frame.reason.as_str()));
    }
}
