//! Operating the socket layer: live stats and test broadcasts (never in production).

use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Services, notifications};
use crate::{
    auth::Identity,
    broker::{
        cluster::{ManagedDriver, STATS_EVERY},
        stats::{ClusterStats, CounterSnapshot, NodeStats, SocketStats},
    },
    channels,
    domain::notifications::{NewNotification, TestBroadcast},
    error::AppError,
};

/// Who is connected, their rooms, and what the publishers have sent: this node's, and
/// with several nodes every node's (each beside the totals).
pub async fn stats(
    services: &Services,
    heartbeat: Duration,
    cluster: Option<&ManagedDriver>,
) -> ClusterStats {
    let this = this_node(services, heartbeat, cluster);
    let heartbeat_ms = this.stats.heartbeat_interval;
    let Some(cluster) = cluster else {
        let unique_users = this.stats.unique_users;
        return ClusterStats::new(vec![this], unique_users, heartbeat_ms);
    };
    if let Err(error) = cluster.share_stats(&this).await {
        tracing::warn!(%error, "could not share this node's stats");
    }
    let mut nodes = vec![this];
    match cluster.other_nodes_stats().await {
        Ok(others) => nodes.extend(others),
        Err(error) => tracing::warn!(%error, "other nodes' stats unavailable: this node's only"),
    }
    let unique_users = channels::connected_users(&services.publisher).await.len();
    ClusterStats::new(nodes, unique_users, heartbeat_ms)
}

/// Who is connected now, on every node.
pub async fn online(services: &Services) -> Vec<channels::Presence> {
    channels::online(&services.publisher).await
}

/// This node's stats, stamped now.
pub fn this_node(
    services: &Services,
    heartbeat: Duration,
    cluster: Option<&ManagedDriver>,
) -> NodeStats {
    let heartbeat_ms = u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX);
    NodeStats {
        node_id: cluster.map_or("local", ManagedDriver::node_id).to_owned(),
        stats: SocketStats::new(
            &services.publisher.connected(),
            heartbeat_ms,
            services.publisher.counters(),
        ),
        reported_at: chrono::Utc::now().timestamp_millis(),
    }
}

/// Shares this node's stats now; other nodes also take them as a sign of life.
pub async fn share_stats_now(services: &Services, heartbeat: Duration, cluster: &ManagedDriver) {
    if let Err(error) = cluster
        .share_stats(&this_node(services, heartbeat, Some(cluster)))
        .await
    {
        tracing::warn!(%error, "could not share this node's stats");
    }
}

/// Shares this node's stats every few seconds until `stopping`, then withdraws them.
pub async fn share_stats(
    services: Services,
    heartbeat: Duration,
    cluster: ManagedDriver,
    stopping: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stopping.cancelled() => break,
            () = tokio::time::sleep(STATS_EVERY) => {}
        }
        share_stats_now(&services, heartbeat, &cluster).await;
    }
    if let Err(error) = cluster.withdraw_stats().await {
        tracing::warn!(%error, "could not withdraw this node's stats");
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BroadcastReport {
    #[schemars(schema_with = "crate::domain::schema::ok_status")]
    pub status: &'static str,
    /// Sockets on this node the notification reached.
    pub sent: usize,
    pub metrics: CounterSnapshot,
}

/// Sends a `test_broadcast` notification to everyone. Refused in production, so a
/// forgotten test button cannot page every user of a live system.
pub async fn test_broadcast(
    services: &Services,
    actor: &Identity,
    production: bool,
    input: TestBroadcast,
) -> Result<BroadcastReport, AppError> {
    if production {
        tracing::warn!(user_id = %actor.user_id, "test broadcast refused in production");
        return Err(AppError::forbidden(
            "test broadcasts are disabled in production",
        ));
    }
    let notification = NewNotification {
        user_id: None,
        kind: "test_broadcast".to_owned(),
        subject: input.title,
        message: input.content,
        severity: input.level,
    };
    let sent = notifications::deliver(services, actor, notification).await?;
    Ok(BroadcastReport {
        status: "ok",
        sent: sent.sockets,
        metrics: services.publisher.counters().snapshot(),
    })
}
