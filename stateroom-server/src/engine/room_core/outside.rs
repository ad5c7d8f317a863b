//! What reaches a room from outside its clients: a handle's commands and
//! broadcasts, and HTTP requests (with `Idempotency-Key` replays).

use super::{Panicked, RoomCore};
use crate::engine::idempotency::{Seen, fingerprint, valid_key};
use crate::engine::members::Outlet;
use crate::engine::store::unix_ms;
use stateroom_core::{
    Command, CommandError, JoinRequest, Reject, Reply, RoomRequest, RoomResponse,
    SimpleStateroomService, StateroomContext, http,
};
use std::time::Duration;

impl<S: SimpleStateroomService, O: Outlet> RoomCore<S, O> {
    /// A command from a server-side handle: the `command` hook's reply.
    pub(crate) fn command(
        &mut self,
        command: Command,
        now: Duration,
    ) -> Result<Result<Reply, CommandError>, Panicked> {
        #[cfg(feature = "yjs")]
        if command.is::<crate::engine::yjs::DocOp>() {
            return self.doc_command(command, now).map(Ok);
        }
        self.call(now, |service, ctx| service.command(command, ctx))
    }

    /// An HTTP request to the room: the `join` hook decides, then the
    /// `request` hook answers.
    pub(crate) fn request(
        &mut self,
        join: &JoinRequest,
        request: &RoomRequest,
        now: Duration,
    ) -> Result<Result<RoomResponse, Reject>, Panicked> {
        if let Err(reject) = self.authorise(join, now)? {
            return Ok(Err(reject));
        }
        let key = (request.method() == http::Method::POST)
            .then(|| request.headers().get("idempotency-key"))
            .flatten();
        let Some(key) = key else {
            return self
                .call(now, |service, ctx| service.request(request, ctx))
                .map(Ok);
        };
        let key = match key.to_str() {
            Ok(key) if valid_key(key) => key.to_owned(),
            _ => {
                return Ok(Ok(RoomResponse::error(
                    http::StatusCode::BAD_REQUEST,
                    "invalid_idempotency_key",
                    "an Idempotency-Key is 1 to 255 visible ASCII characters",
                )));
            }
        };
        let print = fingerprint(request.body());
        let unix_now = unix_ms();
        let seen = self
            .members
            .idempotency
            .borrow_mut()
            .seen(&key, print, unix_now);
        match seen {
            Seen::Repeat(response) => Ok(Ok(response)),
            Seen::Conflict => Ok(Ok(RoomResponse::error(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a request with another body",
            ))),
            Seen::New => {
                let response = self.call(now, |service, ctx| service.request(request, ctx))?;
                self.members
                    .idempotency
                    .borrow_mut()
                    .remember(key, print, &response, unix_now);
                Ok(Ok(response))
            }
        }
    }

    /// Sends `text` to every client of the room (a server-side handle's
    /// broadcast).
    pub(crate) fn broadcast(&mut self, text: &str, now: Duration) -> Result<(), Panicked> {
        self.call(now, |_, ctx| {
            ctx.send_message(stateroom_core::MessageRecipient::Broadcast, text);
        })
    }
}
