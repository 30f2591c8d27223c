use std::sync::Arc;

use axum::{Json, extract::State};

use super::{
    Caller,
    routes::{Routes, doc},
};
use crate::{domain::summary::Summary, error::AppError, services::summary, state::AppState};

pub fn routes() -> Routes {
    Routes::default().get(
        "/summary",
        show,
        doc("Business figures: orders and revenue today (since midnight UTC, revenue without cancelled orders), orders by status, items low on stock")
            .returns::<Summary>(),
    )
}

async fn show(State(state): State<Arc<AppState>>, _: Caller) -> Result<Json<Summary>, AppError> {
    summary::get(&state.services).await.map(Json)
}
