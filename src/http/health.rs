//! `GET /health` (the process answers) and `GET /ready` (the database answers, and with
//! several nodes, Redis too).

use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
}

/// 503 tells a load balancer to send new clients elsewhere. A node that lost Redis is
/// `degraded`: it still serves the sockets it has, but not across nodes.
async fn ready(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    if let Err(error) = state.services.db.ping().await {
        tracing::warn!(%error, "readiness check failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "unreachable" })),
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
