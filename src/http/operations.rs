//! Operating endpoints: `GET /ws/stats`, `POST /ws/_test/broadcast`, `GET /metrics`.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::{
    Caller, JsonBody, can,
    routes::{Routes, doc},
};
use crate::{
    auth::Action,
    broker::stats::ClusterStats,
    domain::{notifications::TestBroadcast, parse},
    error::{AppError, ErrorCode},
    services::operations::{self, BroadcastReport},
    state::AppState,
    telemetry,
};

pub fn routes() -> Routes {
    Routes::default()
        .get(
            "/ws/stats",
            stats,
            doc("Sockets, users and rooms of every node")
                .needs(Action::ReadStats)
                .returns::<StatsReply>(),
        )
        .post(
            "/ws/_test/broadcast",
            test_broadcast,
            doc("Send a test notification to everyone (refused in production)")
                .needs(Action::TestBroadcast)
                .body::<TestBroadcast>()
                .returns::<BroadcastReport>(),
        )
        .get(
            "/metrics",
            metrics,
            doc("Prometheus metrics (counts only, no user data)")
                .public()
                .text(PROMETHEUS_TEXT),
        )
}

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Serialize, JsonSchema)]
struct StatsReply {
    #[schemars(schema_with = "crate::domain::schema::ok_status")]
    status: &'static str,
    stats: ClusterStats,
    #[schemars(with = "DateTime<Utc>")]
    timestamp: String,
}

async fn stats(
    State(state): State<Arc<AppState>>,
    _: Caller<can::ReadStats>,
) -> Result<Json<StatsReply>, AppError> {
    let stats = operations::stats(&state.services, state.heartbeat, state.cluster.as_ref()).await;
    Ok(Json(StatsReply {
        status: "ok",
        stats,
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    }))
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
        [(header::CONTENT_TYPE, PROMETHEUS_TEXT)],
        telemetry::prometheus().render(),
    )
}
