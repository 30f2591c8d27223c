//! Live numbers about the socket layer: who is connected (read from socketioxide, not
//! a map of our own) and counters that the publisher moves on every emit.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicI64, AtomicU64, Ordering},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use socketioxide::BroadcastError;

use crate::{auth::Identity, telemetry};

/// One socket on this node, as the stats see it.
#[derive(Debug, Clone)]
pub struct ConnectedSocket {
    pub identity: Option<Identity>,
    pub rooms: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Counters {
    messages_sent: AtomicU64,
    broadcasts: AtomicU64,
    send_errors: AtomicU64,
    /// Milliseconds since the epoch; 0 means never.
    last_broadcast_ms: AtomicI64,
}

impl Counters {
    pub fn record_direct(&self, ok: bool, event: &str) {
        if ok {
            self.messages_sent.fetch_add(1, Ordering::Relaxed);
        } else {
            self.send_errors.fetch_add(1, Ordering::Relaxed);
        }
        telemetry::record_emit(event, u64::from(!ok));
    }

    /// A room emit that reached `recipients` sockets on this node.
    pub fn record_broadcast(
        &self,
        event: &str,
        recipients: usize,
        result: &Result<(), BroadcastError>,
    ) {
        let failed = match result {
            Err(BroadcastError::Socket(errors)) => errors.len(),
            Err(_) => recipients.max(1),
            Ok(()) => 0,
        };
        let delivered = recipients.saturating_sub(failed) as u64;
        self.broadcasts.fetch_add(1, Ordering::Relaxed);
        self.messages_sent.fetch_add(delivered, Ordering::Relaxed);
        self.send_errors.fetch_add(failed as u64, Ordering::Relaxed);
        self.last_broadcast_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
        telemetry::record_emit(event, failed as u64);
    }

    pub fn snapshot(&self) -> CounterSnapshot {
        let last = self.last_broadcast_ms.load(Ordering::Relaxed);
        CounterSnapshot {
            total_messages_sent: self.messages_sent.load(Ordering::Relaxed),
            total_broadcasts: self.broadcasts.load(Ordering::Relaxed),
            total_send_errors: self.send_errors.load(Ordering::Relaxed),
            last_broadcast_at: (last > 0)
                .then(|| DateTime::from_timestamp_millis(last))
                .flatten()
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Metrics")]
pub struct CounterSnapshot {
    pub total_messages_sent: u64,
    pub total_broadcasts: u64,
    pub total_send_errors: u64,
    #[schemars(with = "Option<chrono::DateTime<chrono::Utc>>")]
    pub last_broadcast_at: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SocketStats {
    pub total_connections: usize,
    pub unique_users: usize,
    pub connections_by_role: BTreeMap<String, usize>,
    pub rooms: BTreeMap<String, usize>,
    pub heartbeat_interval: u64,
    pub metrics: CounterSnapshot,
}

impl SocketStats {
    pub fn new(sockets: &[ConnectedSocket], heartbeat_ms: u64, counters: &Counters) -> Self {
        let mut users = BTreeSet::new();
        let mut by_role = BTreeMap::new();
        let mut rooms = BTreeMap::new();
        for socket in sockets {
            if let Some(identity) = &socket.identity {
                users.insert(identity.user_id.as_str());
                *by_role.entry(identity.role.to_string()).or_insert(0) += 1;
            }
            for room in &socket.rooms {
                *rooms.entry(room.clone()).or_insert(0) += 1;
            }
        }
        Self {
            total_connections: sockets.len(),
            unique_users: users.len(),
            connections_by_role: by_role,
            rooms,
            heartbeat_interval: heartbeat_ms,
            metrics: counters.snapshot(),
        }
    }
}

/// One node's stats, as the cluster shares them.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NodeStats {
    pub node_id: String,
    #[serde(flatten)]
    pub stats: SocketStats,
    /// Milliseconds since the epoch when the node reported them.
    pub reported_at: i64,
}

/// The stats of every node together, and each node's beside them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ClusterStats {
    #[serde(flatten)]
    pub totals: SocketStats,
    pub nodes: Vec<NodeStats>,
}

impl ClusterStats {
    /// Sums the nodes (their sockets are disjoint); unique users come from the caller,
    /// as one user may be on several nodes.
    pub fn new(nodes: Vec<NodeStats>, unique_users: usize, heartbeat_ms: u64) -> Self {
        let mut totals = SocketStats {
            unique_users,
            heartbeat_interval: heartbeat_ms,
            ..SocketStats::default()
        };
        for node in &nodes {
            let stats = &node.stats;
            totals.total_connections += stats.total_connections;
            for (role, count) in &stats.connections_by_role {
                *totals.connections_by_role.entry(role.clone()).or_insert(0) += count;
            }
            for (room, count) in &stats.rooms {
                *totals.rooms.entry(room.clone()).or_insert(0) += count;
            }
            let (sum, one) = (&mut totals.metrics, &stats.metrics);
            sum.total_messages_sent += one.total_messages_sent;
            sum.total_broadcasts += one.total_broadcasts;
            sum.total_send_errors += one.total_send_errors;
            // RFC 3339 in UTC with fixed precision: the text orders like the time.
            sum.last_broadcast_at = sum
                .last_broadcast_at
                .clone()
                .max(one.last_broadcast_at.clone());
        }
        Self { totals, nodes }
    }
}
