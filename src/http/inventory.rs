use std::sync::Arc;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;
use validator::Validate;

use super::{ApiPath, ApiQuery, Caller, JsonBody, can, with_field};
use crate::{
    domain::{
        inventory::{ItemUpdate, ItemView, MAX_QUANTITY, StockLow},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, inventory},
    state::AppState,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/inventory", get(list).post(create))
        .route("/inventory/{sku}", get(show).patch(update))
        .route("/inventory/{sku}/adjust", post(adjust))
        .route("/inventory/{sku}/stock-low", post(report_low))
}

async fn list(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<ItemView>>, AppError> {
    inventory::list(&state.services, page).await.map(Json)
}

async fn show(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<ItemView>, AppError> {
    inventory::get(&state.services, &sku).await.map(Json)
}

async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ItemView>), AppError> {
    let item = inventory::create(&state.services, &caller, parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// Same as the socket's `inventory:update` with the SKU taken from the path.
async fn update(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(sku): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ItemView>, AppError> {
    let input = parse(with_field(body, "sku", Value::String(sku))?)?;
    inventory::update(&state.services, &caller, input)
        .await
        .map(Json)
}

#[derive(Deserialize, Validate)]
struct Adjust {
    #[validate(range(min = -MAX_QUANTITY, max = MAX_QUANTITY, message = "must be between -1000000000 and 1000000000"))]
    delta: i64,
}

/// `POST /api/inventory/{sku}/adjust { delta }`: moves the quantity by `delta`.
async fn adjust(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(sku): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ItemView>, AppError> {
    let Adjust { delta } = parse(body)?;
    let input: ItemUpdate = parse(serde_json::json!({ "sku": sku, "delta": delta }))?;
    inventory::update(&state.services, &caller, input)
        .await
        .map(Json)
}

/// Same as the socket's `stock_low` report with the SKU taken from the path.
async fn report_low(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::WriteCatalog>,
    ApiPath(sku): ApiPath<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockLow>, AppError> {
    let input = parse(with_field(body, "sku", Value::String(sku))?)?;
    inventory::report_low(&state.services, &caller, input)
        .await
        .map(Json)
}
