use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};
use serde::Deserialize;

use super::{
    ApiPath, ApiQuery, Caller, JsonBody, can,
    routes::{Routes, doc},
};
use crate::{
    auth::Action,
    domain::{
        orders::{NewOrder, OrderPatch, OrderStatus, OrderView, StatusChange},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, orders},
    state::AppState,
};

pub fn routes() -> Routes {
    let write = Action::WriteCatalog;
    Routes::default()
        .get(
            "/orders",
            list,
            doc("List orders, newest first")
                .query::<StatusFilter>()
                .query::<PageRequest>()
                .returns::<Page<OrderView>>(),
        )
        .post(
            "/orders",
            create,
            doc("Create an order: stock is taken for every line, or for none")
                .needs(write)
                .body::<NewOrder>()
                .returns::<OrderView>()
                .created(),
        )
        .get(
            "/orders/{id}",
            show,
            doc("One order").returns::<OrderView>(),
        )
        .patch(
            "/orders/{id}",
            update,
            doc("Change an order's status or notes")
                .needs(write)
                .body::<OrderPatch>()
                .returns::<OrderView>(),
        )
        .post(
            "/orders/{id}/status",
            change_status,
            doc("Move an order to a new status")
                .needs(write)
                .body::<StatusChange>()
                .returns::<OrderView>(),
        )
}

/// `?status=` on the order list (read beside the page parameters).
#[derive(Deserialize, schemars::JsonSchema)]
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
