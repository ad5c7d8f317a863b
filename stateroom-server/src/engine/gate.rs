//! The output gate of a persisted room: whatever leaves the room (frames,
//! closes, and the answers to joins, commands and HTTP requests) is held
//! until the snapshot covering the event that produced it is durable, then
//! released in order. A failed save discards what it held: frames never
//! leave, and a held answer's sender is dropped, so its caller gets an error
//! (HTTP 500, `RoomError::Stopped`), never the lost value.

use crate::engine::outlet::{Outlet, Push};
use hyper_tungstenite::tungstenite::Message;
use hyper_tungstenite::tungstenite::protocol::CloseFrame;
use stateroom_core::ClientId;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

/// An answer to someone outside the room (a join's verdict, a command's
/// reply, an HTTP response): sends it when called; dropped unsent when the
/// save that covers it fails.
pub(crate) type Answer = Box<dyn FnOnce() + Send>;

/// What the gate holds: a frame, a close (a kick) after the frames before
/// it, or an answer.
pub(crate) enum Item {
    Frame(Message),
    /// A runtime frame for one connection (a session frame, a replayed
    /// frame, an ack): not counted or kept for a resume.
    Control(Message),
    Close(CloseFrame),
    Answer(Answer),
}

pub(crate) struct Held<O> {
    /// Whom a frame or close is for (0, no client, for an answer).
    pub(crate) client: ClientId,
    /// The client's connection when the item was produced (frames sent before
    /// a client left still go to it).
    pub(crate) outlet: Option<O>,
    pub(crate) item: Item,
}

/// The output gate of a persisted room.
pub(crate) struct Gate<O> {
    /// Hold what the room sends (gated durability, or after `ctx.save()` in
    /// manual durability).
    pub(crate) on: Cell<bool>,
    held: RefCell<VecDeque<Held<O>>>,
}

impl<O> Default for Gate<O> {
    fn default() -> Self {
        Gate {
            on: Cell::new(false),
            held: RefCell::new(VecDeque::new()),
        }
    }
}

impl<O: Outlet> Gate<O> {
    /// Holds `frame` for `client`, whose connection is `outlet` now.
    pub(crate) fn hold_frame(&self, client: ClientId, outlet: Option<O>, frame: Message) {
        self.held.borrow_mut().push_back(Held {
            client,
            outlet,
            item: Item::Frame(frame),
        });
    }

    /// Closes `outlet` with `frame`: after what the gate holds when it is on
    /// (what the room said before the close goes first), else at once.
    pub(crate) fn close_in_order(&self, client: ClientId, outlet: &O, frame: &CloseFrame) {
        if self.on.get() {
            self.hold_close(client, Some(outlet.clone()), frame.clone());
        } else {
            outlet.close(Some(frame.clone()));
        }
    }

    /// Sends the runtime's `frame` to `outlet` (`client`'s connection):
    /// after what the gate holds when it is on, else at once. Returns
    /// `false` if the outlet's queue overflowed.
    pub(crate) fn control_in_order(&self, client: ClientId, outlet: &O, frame: Message) -> bool {
        if self.on.get() {
            self.held.borrow_mut().push_back(Held {
                client,
                outlet: Some(outlet.clone()),
                item: Item::Control(frame),
            });
            true
        } else {
            outlet.push(frame) != Push::Overflowed
        }
    }

    pub(crate) fn hold_close(&self, client: ClientId, outlet: Option<O>, frame: CloseFrame) {
        self.held.borrow_mut().push_back(Held {
            client,
            outlet,
            item: Item::Close(frame),
        });
    }

    /// Sends `answer` after what the gate holds when it is on (it reveals
    /// state that must be durable first), else at once.
    pub(crate) fn answer_in_order(&self, answer: Answer) {
        if self.on.get() {
            self.held.borrow_mut().push_back(Held {
                client: ClientId::from(0),
                outlet: None,
                item: Item::Answer(answer),
            });
        } else {
            answer();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.held.borrow().len()
    }

    /// Frames held for `client`.
    pub(crate) fn frames_for(&self, client: ClientId) -> u64 {
        self.held
            .borrow()
            .iter()
            .filter(|h| h.client == client && matches!(h.item, Item::Frame(_)))
            .count() as u64
    }

    /// Takes the first `count` held items, in order (their snapshot is durable).
    pub(crate) fn take(&self, count: usize) -> Vec<Held<O>> {
        let mut held = self.held.borrow_mut();
        let count = count.min(held.len());
        held.drain(..count).collect()
    }

    /// Drops everything held (a failed save: clients never see it).
    pub(crate) fn discard(&self) {
        self.held.borrow_mut().clear();
    }
}
