//! `POST /api/publish`: a producer's backend announces changes to data it owns.

use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};

use super::{
    Caller, JsonBody, can,
    routes::{Routes, doc},
};
use crate::{
    auth::Action,
    domain::published,
    error::AppError,
    services::publish::{self, Published},
    state::AppState,
};

pub fn routes() -> Routes {
    Routes::default().post(
        "/publish",
        publish,
        doc("Publish events about data the producer owns: logged, then sent like pulso's own (201; a repeated idempotency_key answers 200 with the first result)")
            .needs(Action::Publish)
            .body_with(published::schema)
            .returns::<Published>()
            .created(),
    )
}

async fn publish(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::Publish>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Published>), AppError> {
    let published = publish::publish(
        &state.services,
        &caller,
        state.relay,
        published::read(body)?,
    )
    .await?;
    let status = if published.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(published)))
}
