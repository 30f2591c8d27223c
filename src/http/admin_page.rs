//! `/admin/`: the Socket.IO Admin UI's page, served from a copy of its files when
//! PULSO_ADMIN_UI_DIR names one. The page then calls the `/admin` namespace from
//! pulso's own origin, so CORS has nothing to allow. Static files, not the API: the
//! OpenAPI document does not list them.

use std::path::Path;

use axum::{Router, response::Redirect, routing::get};
use tower_http::services::ServeDir;

pub fn router(dir: &Path) -> Router {
    Router::new()
        // The page names its files relative to itself, so it must be read from `/admin/`.
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .nest_service("/admin/", ServeDir::new(dir))
}
