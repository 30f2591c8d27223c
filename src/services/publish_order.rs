//! The order events go out in. A socket must get events in the order they were logged:
//! its client's offset (the last event it got) then says exactly what it missed when it
//! reconnects. So a write takes its turn to publish before it logs its events and keeps
//! it until they are out: on one node, a queue in this process; with several nodes, also
//! a PostgreSQL advisory lock, since each node delivers its own events to its sockets at
//! once and other nodes' through Redis.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The session-level advisory lock nodes take in turn (`pulso` + 1, in ASCII).
const PUBLISH_LOCK: i64 = 0x7075_6c73_6f01;

#[derive(Default)]
pub struct PublishOrder {
    local: Arc<Mutex<()>>,
    /// A pool of one connection, whose session holds the lock between statements.
    cluster: Option<DatabaseConnection>,
}

/// A write's turn to log and publish events.
pub struct PublishTurn {
    _local: OwnedMutexGuard<()>,
    cluster: Option<DatabaseConnection>,
}

impl PublishOrder {
    /// Several nodes: `lock_session` is a pool of one PostgreSQL connection.
    pub fn across_nodes(lock_session: DatabaseConnection) -> Self {
        Self {
            local: Arc::default(),
            cluster: Some(lock_session),
        }
    }

    pub async fn take(&self) -> Result<PublishTurn, DbErr> {
        // This process's queue first: the advisory lock is the connection's, so two
        // writes of one node would both hold it at once.
        let local = self.local.clone().lock_owned().await;
        if let Some(session) = &self.cluster {
            session
                .execute_unprepared(&format!("SELECT pg_advisory_lock({PUBLISH_LOCK})"))
                .await?;
        }
        Ok(PublishTurn {
            _local: local,
            cluster: self.cluster.clone(),
        })
    }
}

impl PublishTurn {
    /// Ends the turn once the events are out.
    pub async fn release(mut self) {
        if let Some(session) = self.cluster.take() {
            unlock(session).await;
        }
    }
}

impl Drop for PublishTurn {
    /// A write that failed, or whose events never went out, still gives the turn back.
    fn drop(&mut self) {
        if let Some(session) = self.cluster.take() {
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
