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
        notifications::{NotificationView, ReadConfirmation, UnreadCount},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, notifications},
    state::AppState,
};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/notifications", get(list).post(send))
        .route("/notifications/unread-count", get(unread_count))
        .route("/notifications/read-all", post(mark_all_read))
        .route("/notifications/{id}/read", post(mark_read))
}

/// `?unread=true&limit=&offset=` (kept flat: query strings carry no nesting).
#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    unread: bool,
    #[serde(default = "default_limit")]
    limit: u64,
    #[serde(default)]
    offset: u64,
}

fn default_limit() -> u64 {
    PageRequest::default().limit
}

/// The caller's notifications (its own and everyone's), newest first.
async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Page<NotificationView>>, AppError> {
    let page = PageRequest {
        limit: query.limit,
        offset: query.offset,
    };
    notifications::list(&state.services, &caller, query.unread, page)
        .await
        .map(Json)
}

async fn send(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller<can::SendNotification>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<NotificationView>), AppError> {
    let sent = notifications::send(&state.services, &caller, parse(body)?).await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

async fn unread_count(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller,
) -> Result<Json<UnreadCount>, AppError> {
    notifications::unread_count(&state.services, &caller.user_id)
        .await
        .map(Json)
}

async fn mark_read(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReadConfirmation>, AppError> {
    notifications::mark_read(&state.services, &caller, id)
        .await
        .map(Json)
}

async fn mark_all_read(
    State(state): State<Arc<AppState>>,
    Caller(caller, _): Caller,
) -> Result<Json<ReadConfirmation>, AppError> {
    notifications::mark_all_read(&state.services, &caller)
        .await
        .map(Json)
}
