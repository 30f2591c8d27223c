use std::sync::Arc;

use axum::{Json, extract::State};
use serde::Serialize;

use super::{
    Caller,
    routes::{Routes, doc},
};
use crate::{channels::Presence, services::operations, state::AppState};

pub fn routes() -> Routes {
    Routes::default().get(
        "/presence",
        show,
        doc("Who is connected now, on every node: each user once per role it connected as, by user id (kept live by user_connected / user_disconnected)")
            .returns::<Online>(),
    )
}

/// Who is connected now.
#[derive(Serialize, schemars::JsonSchema)]
struct Online {
    users: Vec<Presence>,
}

async fn show(State(state): State<Arc<AppState>>, _: Caller) -> Json<Online> {
    let users = operations::online(&state.services).await;
    Json(Online { users })
}
