//! A room's turn around its events: each event timed for the metrics, the
//! timers that fell due, and what follows a batch (the patches it made, the
//! directory, a save, or the room's destruction).

use super::RoomTask;
use crate::engine::event::RoomEvent;
use crate::engine::outbox::close_frame;
use crate::engine::persistence::SaveFailed;
use crate::engine::room_core::Panicked;
use hyper_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use stateroom_core::SimpleStateroomService;
use tracing::error;

impl<S: SimpleStateroomService> RoomTask<S> {
    /// Handles one event, timed for the metrics.
    pub(super) fn timed(&mut self, event: RoomEvent) -> Result<(), Panicked> {
        let started = self
            .shared
            .engine
            .metrics
            .as_ref()
            .map(|_| std::time::Instant::now());
        self.handle(event)?;
        if let (Some(metrics), Some(started)) = (&self.shared.engine.metrics, started) {
            metrics.event_handled(started.elapsed());
        }
        Ok(())
    }

    /// Fires every timer that is due.
    pub(super) fn fire_timers(&mut self) -> Result<(), Panicked> {
        let now = self.now();
        let metrics = self.shared.engine.metrics.as_ref();
        self.shared.lock().core.fire_due(now, &mut |_, deadline| {
            if let Some(metrics) = metrics {
                metrics.timer_fired(now.saturating_sub(deadline));
            }
        })
    }

    /// After a batch of events (or a timer, or a heartbeat): persisted rooms
    /// save, or schedule a save, or are destroyed.
    pub(super) async fn after_batch(&mut self) -> Result<(), SaveFailed> {
        let now = self.now();
        {
            let mut state = self.shared.lock();
            // The patches this batch's events made, before the save that covers them.
            state.core.sync(now)?;
            self.shared.publish(&mut state);
            if !state.core.destroy_requested() || self.shutting_down {
                let Some(saver) = self.saver.as_mut() else {
                    return Ok(());
                };
                return if std::mem::take(&mut self.force_save) {
                    saver.save(&mut state.core, now)
                } else {
                    saver.after_batch(&mut state.core, now)
                };
            }
        }
        // `ctx.destroy()`: the room ends and its stored state goes.
        self.shared.engine.rooms.evict(&self.shared.id);
        self.shutting_down = true;
        if let Some(mut saver) = self.saver.take()
            && let Err(error) = saver.destroy().await
        {
            error!(%error, "could not delete the destroyed room's stored state");
        }
        // Nothing is saved any more: what the room said before goes out,
        // then the close.
        let mut state = self.shared.lock();
        let held = state.core.held();
        state.core.release(held, now)?;
        state.core.open_gate();
        state
            .core
            .end(&close_frame(CloseCode::Normal, "room destroyed"), now)?;
        Ok(())
    }
}
