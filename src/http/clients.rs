use std::sync::Arc;

use axum::{Json, extract::State, http::StatusCode};

use super::{
    ApiPath, ApiQuery, Caller, JsonBody, can,
    routes::{Routes, doc},
};
use crate::{
    auth::Action,
    domain::{
        clients::{ClientPatch, ClientView, NewClient},
        parse,
    },
    error::AppError,
    services::{Page, PageRequest, clients},
    state::AppState,
};

pub fn routes() -> Routes {
    let write = Action::WriteCatalog;
    Routes::default()
        .get(
            "/clients",
            list,
            doc("List clients")
                .query::<PageRequest>()
                .returns::<Page<ClientView>>(),
        )
        .post(
            "/clients",
            create,
            doc("Create a client")
                .needs(write)
                .body::<NewClient>()
                .returns::<ClientView>()
                .created(),
        )
        .get(
            "/clients/{id}",
            show,
            doc("One client").returns::<ClientView>(),
        )
        .patch(
            "/clients/{id}",
            update,
            doc("Change a client")
                .needs(write)
                .body::<ClientPatch>()
                .returns::<ClientView>(),
        )
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
