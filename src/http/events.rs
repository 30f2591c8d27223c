use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use super::{
    ApiQuery, Caller,
    routes::{Routes, doc},
};
use crate::{channels::Envelope, error::AppError, services::events, state::AppState};

pub fn routes() -> Routes {
    Routes::default().get(
        "/events",
        list,
        doc("The event log after a cursor, oldest first: what the caller may read")
            .query::<After>()
            .returns::<EventPage>()
            .refuses(
                StatusCode::GONE,
                "`cursor_expired`: the cursor points into events past retention; reload, then read on from the id the message names",
            ),
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
struct After {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = events::MAX_PAGE))]
    limit: u64,
}

fn default_limit() -> u64 {
    100
}

#[derive(Serialize, schemars::JsonSchema)]
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
