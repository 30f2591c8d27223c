//! What request handlers and socket handlers share.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio_util::task::TaskTracker;

use crate::{
    auth::Authenticator,
    broker::cluster::ManagedDriver,
    config::Recovery,
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
    /// The Socket.IO ping interval, reported by the stats.
    pub heartbeat: Duration,
    /// Connection state recovery settings.
    pub recovery: Recovery,
    /// Serializes presence decisions on this node, so two tabs of one user opening or
    /// closing at once announce the user exactly once.
    pub presence: Mutex<()>,
    pub limits: Limits,
    /// This node's sockets, against `limits.max_connections`.
    pub slots: ConnectionSlots,
    /// The Redis link when several nodes share rooms; `None` on a single node.
    pub cluster: Option<ManagedDriver>,
}
