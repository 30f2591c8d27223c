use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use validator::Validate;

use super::{
    ApiPath, ApiQuery, Caller, JsonBody, can,
    routes::{Routes, doc, without_field},
    with_field,
};
use crate::{
    auth::Action,
    domain::{
        inventory::{ItemUpdate, ItemView, MAX_QUANTITY, NewItem, StockLow, StockLowReport},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, inventory},
    state::AppState,
};

pub fn routes() -> Routes {
    let write = Action::WriteCatalog;
    Routes::default()
        .get(
            "/inventory",
            list,
            doc("List inventory items, by SKU")
                .query::<LowStockFilter>()
                .query::<PageRequest>()
                .returns::<Page<ItemView>>(),
        )
        .post(
            "/inventory",
            create,
            doc("Create an item")
                .needs(write)
                .body::<NewItem>()
                .returns::<ItemView>()
                .created(),
        )
        .get(
            "/inventory/{sku}",
            show,
            doc("One item").returns::<ItemView>(),
        )
        .patch(
            "/inventory/{sku}",
            update,
            doc("Change an item: set quantity or move it by delta, rename, set the threshold")
                .needs(write)
                .body_with(|g| without_field(ItemUpdate::json_schema(g), "sku"))
                .returns::<ItemView>(),
        )
        .post(
            "/inventory/{sku}/adjust",
            adjust,
            doc("Move an item's quantity by delta")
                .needs(write)
                .body::<Adjust>()
                .returns::<ItemView>(),
        )
        .post(
            "/inventory/{sku}/stock-low",
            report_low,
            doc("Report an item's stock as low")
                .needs(write)
                .body_with(|g| without_field(StockLowReport::json_schema(g), "sku"))
                .returns::<StockLow>(),
        )
}

/// `?low_stock=` on the item list (read beside the page parameters).
#[derive(Deserialize, JsonSchema)]
struct LowStockFilter {
    /// `true`: only items at or below their threshold; `false`: only those above it.
    low_stock: Option<bool>,
}

async fn list(
    State(state): State<Arc<AppState>>,
    _: Caller,
    ApiQuery(filter): ApiQuery<LowStockFilter>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<Page<ItemView>>, AppError> {
    inventory::list(&state.services, filter.low_stock, page)
        .await
        .map(Json)
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

#[derive(Deserialize, Validate, JsonSchema)]
struct Adjust {
    #[validate(range(min = -MAX_QUANTITY, max = MAX_QUANTITY, message = "must be a whole number from -1000000000 to 1000000000"))]
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
