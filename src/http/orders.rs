use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use super::{ApiPath, ApiQuery, Caller, JsonBody, can};
use crate::{
    domain::{
        orders::{OrderPatch, OrderStatus, OrderView, StatusChange},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, orders},
    state::AppState,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/orders", get(list).post(create))
        .route("/orders/{id}", get(show).patch(update))
        .route("/orders/{id}/status", post(change_status))
}

/// `?status=` on the order list (read beside the page parameters).
#[derive(Deserialize)]
struct StatusFilter {
    status: Option<OrderStatus>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiQuery(filter): ApiQuery<StatusFilter>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<OrderView>>, AppError> {
    orders::list(&state.services, filter.status, page)
        .await
        .map(Json)
}

async fn show(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OrderView>, AppError> {
    orders::get(&state.services, id).await.map(Json)
}

async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<OrderView>), AppError> {
    let order = orders::create(&state.services, &caller, parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

async fn update(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody,
) -> Result<Json<OrderView>, AppError> {
    let patch: OrderPatch = parse(body)?;
    orders::update(&state.services, &caller, id, patch)
        .await
        .map(Json)
}

/// `POST /api/orders/{id}/status { status }`.
async fn change_status(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody,
) -> Result<Json<OrderView>, AppError> {
    let StatusChange { status } = parse(body)?;
    let patch = OrderPatch {
        status: Some(status),
        notes: None,
    };
    orders::update(&state.services, &caller, id, patch)
        .await
        .map(Json)
}
