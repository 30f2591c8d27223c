use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};

use super::{ApiPath, ApiQuery, Caller, JsonBody, can};
use crate::{
    domain::{clients::ClientView, parse},
    error::AppError,
    services::{Page, PageRequest, clients},
    state::AppState,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/clients", get(list).post(create))
        .route("/clients/{id}", get(show).patch(update))
}

async fn list(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<ClientView>>, AppError> {
    clients::list(&state.services, page).await.map(Json)
}

async fn show(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ClientView>, AppError> {
    clients::get(&state.services, id).await.map(Json)
}

async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ClientView>), AppError> {
    let client = clients::create(&state.services, &caller, parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(client)))
}

async fn update(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody,
) -> Result<Json<ClientView>, AppError> {
    clients::update(&state.services, &caller, id, parse(body)?)
        .await
        .map(Json)
}
