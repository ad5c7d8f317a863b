//! One event, handed to the room's core: what each kind of event does.

use super::{RoomTask, SHUTDOWN};
use crate::engine::event::{Arrival, RoomEvent};
use crate::engine::outbox::close_frame;
use crate::engine::room_core::Panicked;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::SimpleStateroomService;
use tracing::debug;

impl<S: SimpleStateroomService> RoomTask<S> {
    pub(super) fn handle(&mut self, event: RoomEvent) -> Result<(), Panicked> {
        let now = self.now();
        let mut state = self.shared.lock();
        match event {
            RoomEvent::Join { request, reply } => {
                let verdict = state.core.admit(&request, now)?;
                if let Err(reject) = &verdict {
                    debug!(%reject, "join rejected");
                }
                // A verdict reveals the room's state (who is in, a full
                // room): it leaves once that state is durable.
                state.core.answer(Box::new(move || {
                    let _ = reply.send(verdict);
                }));
                Ok(())
            }
            RoomEvent::Connect(arrival) => {
                let Arrival {
                    conn,
                    outbox,
                    data,
                    resume,
                    reply,
                } = *arrival;
                let client = state
                    .core
                    .connect(conn, outbox, data, resume.as_ref(), now)?;
                debug!(%client, %conn, "client joined");
                let _ = reply.send(client);
                Ok(())
            }
            RoomEvent::Reserve {
                options,
                seed,
                reply,
            } => {
                // Not held by the gate: a reservation is not saved (a room
                // that restarts has none, and its client asks again).
                let answer = state.core.reserve(options, seed, now);
                // Published before the answer, so that the next
                // matchmaker sees the seat taken.
                self.shared.publish(&mut state);
                let _ = reply.send(answer);
                Ok(())
            }
            RoomEvent::Text { client, conn, text } => state.core.text(client, conn, &text, now),
            RoomEvent::Binary { client, conn, data } => state.core.binary(client, conn, &data, now),
            RoomEvent::Gone { client, conn, how } => state.core.gone(client, conn, how, now),
            RoomEvent::Close {
                client,
                conn,
                frame,
            } => {
                state.core.close(client, conn, frame);
                Ok(())
            }
            RoomEvent::Command { command, reply } => {
                let answer = state.core.command(command, now)?;
                state.core.answer(Box::new(move || {
                    let _ = reply.send(answer);
                }));
                Ok(())
            }
            RoomEvent::Request { request, reply } => {
                let (join, request) = *request;
                // Reads too: a reply that reveals state does so only once
                // that state is durable.
                let answer = state.core.request(&join, &request, now)?;
                state.core.answer(Box::new(move || {
                    let _ = reply.send(answer);
                }));
                Ok(())
            }
            RoomEvent::Broadcast { text } => state.core.broadcast(&text, now),
            RoomEvent::End { reason } => {
                self.shutting_down = true;
                let resumable = state.core.has_sessions();
                match &self.saver {
                    // A persisted room with reconnection keeps its sessions for
                    // the next process: clients reconnect there (1012).
                    Some(_) if resumable && reason == SHUTDOWN => {
                        self.force_save = true;
                        self.suspended = true;
                        state
                            .core
                            .suspend(&close_frame(CloseCode::Restart, "service restart"));
                        Ok(())
                    }
                    Some(_) => {
                        self.force_save = true;
                        state.core.end(&close_frame(CloseCode::Away, reason), now)
                    }
                    None => state.core.end(&close_frame(CloseCode::Away, reason), now),
                }
            }
        }
    }
}
