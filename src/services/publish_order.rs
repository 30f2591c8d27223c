//! The order events go out in. A socket must get events in the order they were logged:
//! its client's offset (the last event it got) then says exactly what it missed when it
//! reconnects. A write takes a ticket once its events have ids, while it still holds
//! its turn to write (on PostgreSQL, the event log's lock), so tickets follow the log;
//! it publishes when the ticket before it has, and the next write goes on meanwhile.
//!
//! With several nodes each node delivers its own events to its sockets at once and
//! other nodes' through Redis, so logged events go through one Redis channel instead
//! (`Publisher::logged`), and writes take a PostgreSQL advisory lock before they log
//! events and keep it until their events are in that channel.

use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, oneshot};

/// The session-level advisory lock nodes take in turn (`pulso` + 1, in ASCII).
const PUBLISH_LOCK: i64 = 0x7075_6c73_6f01;

#[derive(Default)]
pub struct PublishOrder {
    /// Resolves when the latest ticket's events are out (or will never be).
    last: Mutex<Option<oneshot::Receiver<()>>>,
    cluster: Option<ClusterLock>,
}

struct ClusterLock {
    /// One write of this node at a time: the advisory lock is its session's, so two
    /// writes of one node would both hold it.
    local: Arc<AsyncMutex<()>>,
    /// A pool of one connection, whose session holds the lock between statements.
    session: DatabaseConnection,
}

/// Several nodes' turn, held from before a write logs its events until they are out.
pub struct ClusterTurn {
    _local: OwnedMutexGuard<()>,
    session: Option<DatabaseConnection>,
}

/// A write's place in the order its events go out.
pub struct Ticket {
    before: Option<oneshot::Receiver<()>>,
    /// Dropped once this write's events are out, or if they never go: the next may go.
    _done: oneshot::Sender<()>,
    cluster: Option<ClusterTurn>,
}

impl PublishOrder {
    /// Several nodes: `lock_session` is a pool of one PostgreSQL connection.
    pub fn across_nodes(lock_session: DatabaseConnection) -> Self {
        Self {
            last: Mutex::default(),
            cluster: Some(ClusterLock {
                local: Arc::default(),
                session: lock_session,
            }),
        }
    }

    /// Before logging events: with several nodes, waits for the cluster's turn.
    pub async fn before_logging(&self) -> Result<Option<ClusterTurn>, DbErr> {
        let Some(cluster) = &self.cluster else {
            return Ok(None);
        };
        let local = cluster.local.clone().lock_owned().await;
        cluster
            .session
            .execute_unprepared(&format!("SELECT pg_advisory_lock({PUBLISH_LOCK})"))
            .await?;
        Ok(Some(ClusterTurn {
            _local: local,
            session: Some(cluster.session.clone()),
        }))
    }

    /// Once the events have ids, before the write lets the next one log its own.
    pub fn ticket(&self, cluster: Option<ClusterTurn>) -> Ticket {
        let (done, next) = oneshot::channel();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        Ticket {
            before: last.replace(next),
            _done: done,
            cluster,
        }
    }
}

impl Ticket {
    /// Waits until the events logged before these are out.
    pub async fn wait(&mut self) {
        if let Some(before) = self.before.take() {
            // An error only says the write before gave up its turn.
            let _ = before.await;
        }
    }

    /// These events are out: the next write's may go.
    pub async fn release(mut self) {
        if let Some(mut turn) = self.cluster.take()
            && let Some(session) = turn.session.take()
        {
            unlock(session).await;
        }
    }
}

impl Drop for ClusterTurn {
    /// A write that failed, or whose events never went out, still gives the turn back.
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            tokio::spawn(unlock(session));
        }
    }
}

async fn unlock(session: DatabaseConnection) {
    let unlocked = session
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({PUBLISH_LOCK})"))
        .await;
    // A lost connection released the lock with its session.
    if let Err(error) = unlocked {
        tracing::warn!(%error, "publish lock not released (its connection is gone)");
    }
}
