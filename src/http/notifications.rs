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
        notifications::{NewNotification, NotificationView, ReadConfirmation, UnreadCount},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, notifications},
    state::AppState,
};

pub fn routes() -> Routes {
    Routes::default()
        .get(
            "/notifications",
            list,
            doc("The caller's notifications (its own and everyone's), newest first")
                .query::<ListQuery>()
                .returns::<Page<NotificationView>>(),
        )
        .post(
            "/notifications",
            send,
            doc("Send a notification to one user, or to everyone with user_id null")
                .needs(Action::SendNotification)
                .body::<NewNotification>()
                .returns::<NotificationView>()
                .created(),
        )
        .get(
            "/notifications/unread-count",
            unread_count,
            doc("How many of the caller's notifications are unread").returns::<UnreadCount>(),
        )
        .post(
            "/notifications/read-all",
            mark_all_read,
            doc("Mark every notification of the caller read").returns::<ReadConfirmation>(),
        )
        .post(
            "/notifications/{id}/read",
            mark_read,
            doc("Mark one notification read").returns::<ReadConfirmation>(),
        )
}

/// `?unread=true&limit=&offset=` (kept flat: query strings carry no nesting).
#[derive(Deserialize, schemars::JsonSchema)]
struct ListQuery {
    #[serde(default)]
    unread: bool,
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = PageRequest::MAX_LIMIT))]
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
