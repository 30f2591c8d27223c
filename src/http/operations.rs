//! Operating endpoints: `GET /ws/stats`, `POST /ws/_test/broadcast`, `GET /metrics`.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{Caller, JsonBody, can};
use crate::{
    domain::parse,
    error::{AppError, ErrorCode},
    services::operations,
    state::AppState,
    telemetry,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/ws/stats", get(stats))
        .route("/ws/_test/broadcast", post(test_broadcast))
        .route("/metrics", get(metrics))
}

async fn stats(
    State(state): State<Arc<AppState>>,
    _: Caller<can::ReadStats>,
) -> Result<Json<Value>, AppError> {
    let stats = operations::stats(&state.services, state.heartbeat, state.cluster.as_ref()).await;
    let timestamp = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    Ok(Json(
        json!({ "status": "ok", "stats": stats, "timestamp": timestamp }),
    ))
}

/// A refusal answers `{ "status": "forbidden" }` as the older clients expect, with the
/// usual `error` object beside it.
async fn test_broadcast(
    State(state): State<Arc<AppState>>,
    caller: Result<Caller<can::TestBroadcast>, AppError>,
    JsonBody(body): JsonBody,
) -> Response {
    let result = match caller.and_then(|caller| Ok((caller, parse(body)?))) {
        Ok((Caller(caller, _), input)) => {
            operations::test_broadcast(&state.services, &caller, state.production, input).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(report) => Json(report).into_response(),
        Err(error) if error.code == ErrorCode::Forbidden => (
            StatusCode::FORBIDDEN,
            Json(json!({ "status": "forbidden", "error": error })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// Prometheus text format. Unauthenticated, as scrapers expect: it holds counts only,
/// never user data; keep it off the public network.
async fn metrics() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::prometheus().render(),
    )
}
