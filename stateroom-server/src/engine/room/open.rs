//! Opening a room: under its lease in a cluster, from its snapshot when it
//! is persisted (or new), with the saver its durability asks for.

use crate::engine::Engine;
use crate::engine::kinds::room_id_of;
use crate::engine::members::RoomSettings;
use crate::engine::outbox::Outbox;
use crate::engine::persistence::{OpenFailed, Saver, open_room};
use crate::engine::resume::ResumeSettings;
use crate::engine::room_core::RoomCore;
use stateroom_core::SimpleStateroomService;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{error, info, warn};

/// A room ready to run.
pub(super) struct Opened<S> {
    pub(super) core: RoomCore<S, Arc<Outbox>>,
    pub(super) saver: Option<Saver>,
    /// In a cluster: becomes true when the room's lease is lost or lapsed.
    pub(super) fenced: Option<watch::Receiver<bool>>,
}

/// Opens room `id` at room time zero `epoch`; why not (logged) when it
/// cannot be opened here.
pub(super) async fn open<S: SimpleStateroomService>(
    engine: &Arc<Engine>,
    id: &Arc<str>,
    epoch: Instant,
) -> Result<Opened<S>, OpenFailed> {
    let settings = settings::<S>(&engine.config);
    // In a cluster a room opens only under its lease (taken by the join).
    let lease = match &engine.leases {
        Some(cluster) => match cluster.lease(id) {
            Some(lease) => Some(lease),
            None => {
                warn!("this node does not hold the room's lease; not opening it");
                return Err(OpenFailed::Unavailable);
            }
        },
        None => None,
    };
    let persistence = engine.persistence.clone().filter(|_| S::PERSIST.is_some());
    let built = match &persistence {
        None => {
            RoomCore::<S, Arc<Outbox>>::new(Arc::from(room_id_of(id)), settings, epoch.elapsed())
                .map(|core| (core, None))
                .map_err(|panicked| {
                    OpenFailed::Broken(format!(
                        "the service's `new` panicked: {}",
                        panicked.message()
                    ))
                })
        }
        Some(persistence) => open_room::<S>(persistence, id, settings, epoch.elapsed()).await,
    };
    let (core, loaded) = match built {
        Ok(built) => built,
        Err(OpenFailed::Broken(why)) => {
            error!(%why, "the room cannot be opened; its stored state is left as it is");
            if let Some(metrics) = &engine.metrics {
                metrics.room_refused();
            }
            return Err(OpenFailed::Broken(why));
        }
        // Logged once per outage by the load.
        Err(OpenFailed::Unavailable) => return Err(OpenFailed::Unavailable),
    };
    info!(restored = loaded.is_some(), "room created");
    let saver = match (persistence, S::PERSIST) {
        (Some(persistence), Some(mode)) => {
            let lease_check = match (&lease, &engine.leases) {
                (Some(lease), Some(cluster)) => {
                    let (cluster, room) = (cluster.clone(), id.clone());
                    let good: Box<dyn Fn() -> bool + Send + Sync> =
                        Box::new(move || cluster.holds(&room));
                    Some((lease.fence, good))
                }
                _ => None,
            };
            Some(Saver::new(
                persistence,
                id.clone(),
                mode,
                loaded.as_ref(),
                lease_check,
            ))
        }
        _ => None,
    };
    Ok(Opened {
        core,
        saver,
        fenced: lease.map(|lease| lease.fenced),
    })
}

/// The room settings a server gives rooms of service `S`.
fn settings<S: SimpleStateroomService>(config: &crate::Server) -> RoomSettings {
    // Yjs providers speak no session protocol: they resync by state vector.
    let window = config
        .reconnect_window
        .or(S::RECONNECT_WINDOW)
        .filter(|_| !is_doc::<S>());
    RoomSettings {
        resume: window
            .filter(|window| !window.is_zero())
            .map(|window| ResumeSettings {
                window,
                max_frames: config.limits.max_resume_messages,
                max_bytes: config.limits.max_resume_bytes,
            }),
        strict: false,
        persist: S::PERSIST,
        presence: S::PRESENCE,
        presence_tick: S::PATCH_RATE.unwrap_or(crate::engine::presence::PRESENCE_TICK),
        seat_reservation: config.seat_reservation,
    }
}

/// Whether `S` is a `doc` service (a Yjs document per room).
#[cfg_attr(not(feature = "yjs"), allow(clippy::extra_unused_type_parameters))]
fn is_doc<S: SimpleStateroomService>() -> bool {
    #[cfg(feature = "yjs")]
    {
        S::DOC
    }
    #[cfg(not(feature = "yjs"))]
    {
        false
    }
}
