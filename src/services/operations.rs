//! Operating the socket layer: live stats and test broadcasts (never in production).

use std::time::Duration;

use serde::Serialize;

use super::{Services, notifications};
use crate::{
    auth::{Action, Identity, authorize},
    domain::notifications::{NewNotification, TestBroadcast},
    error::AppError,
    realtime::stats::{CounterSnapshot, SocketStats},
};

/// Who is connected to this node, their rooms, and what the publisher has sent.
pub fn stats(
    services: &Services,
    actor: &Identity,
    heartbeat: Duration,
) -> Result<SocketStats, AppError> {
    authorize(actor, Action::ReadStats)?;
    let heartbeat_ms = u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX);
    Ok(SocketStats::new(
        &services.publisher.connected(),
        heartbeat_ms,
        services.publisher.counters(),
    ))
}

#[derive(Debug, Serialize)]
pub struct BroadcastReport {
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
    authorize(actor, Action::TestBroadcast)?;
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
