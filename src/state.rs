//! What request handlers and socket handlers share.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use tokio_util::task::TaskTracker;

use crate::{
    auth::{Action, Authenticator, Identity, authorize},
    broker::cluster::ManagedDriver,
    config::{Recovery, Retention},
    error::AppError,
    limits::{ConnectionSlots, Limits},
    services::Services,
};

pub struct AppState {
    pub services: Services,
    pub auth: Authenticator,
    /// Every write in flight, so shutdown can wait for them to finish.
    pub writes: TaskTracker,
    /// Production refuses test broadcasts.
    pub production: bool,
    /// Relay mode: a producer owns the catalogue (`Config::relay`).
    pub relay: bool,
    /// The Socket.IO ping interval, reported by the stats.
    pub heartbeat: Duration,
    /// Connection state recovery settings.
    pub recovery: Recovery,
    /// How long the event log keeps events.
    pub retention: Retention,
    /// Serializes presence decisions on this node, so two tabs of one user opening or
    /// closing at once announce the user exactly once.
    pub presence: Mutex<()>,
    pub limits: Limits,
    /// This node's sockets, against `limits.max_connections`.
    pub slots: ConnectionSlots,
    /// The Redis link when several nodes share rooms; `None` on a single node.
    pub cluster: Option<ManagedDriver>,
    /// The Admin UI is on: dashboard sockets' comings and goings are told to `/admin`.
    pub admin_ui: bool,
    /// When this server started.
    pub started: Instant,
}

impl AppState {
    /// Whether `identity` may do `action` here: the permission table, and in relay mode
    /// no catalogue write of pulso's own (the producer owns the catalogue).
    pub fn permit(&self, identity: &Identity, action: Action) -> Result<(), AppError> {
        authorize(identity, action)?;
        if self.relay && action == Action::WriteCatalog {
            return Err(AppError::conflict(
                "pulso runs as a relay (PULSO_RELAY): the producer owns orders, clients and inventory, and publishes their changes",
            ));
        }
        Ok(())
    }
}
