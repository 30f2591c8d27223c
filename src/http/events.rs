use std::sync::Arc;

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};

use super::{ApiQuery, Caller};
use crate::{channels::Envelope, error::AppError, services::events, state::AppState};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/events", get(list))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

#[derive(Serialize)]
struct EventPage {
    events: Vec<Envelope>,
    /// The id to pass as `after` for the next page (the last id seen, or `after` itself).
    next_after: i64,
}

/// `GET /api/events?after=ID&limit=N`: the event log after a cursor, oldest first.
async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller,
    ApiQuery(query): ApiQuery<After>,
) -> Result<Json<EventPage>, AppError> {
    let events = events::list_after(&state.services.db, &caller, query.after, query.limit).await?;
    let next_after = events.last().map_or(query.after, |e| e.id);
    Ok(Json(EventPage { events, next_after }))
}
