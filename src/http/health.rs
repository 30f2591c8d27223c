//! `GET /health` (the process answers) and `GET /ready` (the database answers, and with
//! several nodes, Redis too).

use std::{sync::Arc, time::Duration};

use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

use super::routes::{Routes, doc};
use crate::state::AppState;

pub fn routes() -> Routes {
    Routes::default()
        .get(
            "/health",
            || async { Json(json!({ "status": "ok" })) },
            doc("The process answers").public().returns_with(|_| {
                schemars::json_schema!({ "type": "object", "properties": { "status": { "const": "ok" } }, "required": ["status"] })
            }),
        )
        .get(
            "/ready",
            ready,
            doc("A database write commits, and with several nodes Redis answers")
                .public()
                .or(StatusCode::SERVICE_UNAVAILABLE, "A write does not commit, or Redis is lost")
                .returns_with(|_| {
                    schemars::json_schema!({
                        "type": "object",
                        "properties": {
                            "status": { "enum": ["ready", "unavailable", "degraded"] },
                            "database": { "enum": ["refusing writes", "not answering"] },
                            "redis": { "const": "unreachable" },
                        },
                        "required": ["status"],
                    })
                }),
        )
}

/// How long the write probe may take before the database counts as not answering.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// 503 tells a load balancer to send new clients elsewhere. Ready means a write really
/// commits: a full disk or a read-only file still answers reads. A node that lost Redis
/// is `degraded`: it still serves the sockets it has, but not across nodes.
async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let refusal = match tokio::time::timeout(PROBE_TIMEOUT, state.services.probe_write()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(("refusing writes", error.to_string())),
        Err(_) => Some(("not answering", format!("no answer in {PROBE_TIMEOUT:?}"))),
    };
    if let Some((database, error)) = refusal {
        tracing::warn!(%error, database, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": database })),
        );
    }
    match &state.cluster {
        Some(cluster) if !cluster.healthy() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "degraded", "redis": "unreachable" })),
        ),
        _ => (StatusCode::OK, Json(json!({ "status": "ready" }))),
    }
}
