//! What request handlers and socket handlers share.

use tokio_util::task::TaskTracker;

use crate::{config::ApiKeys, services::Services};

pub struct AppState {
    pub services: Services,
    pub api_keys: ApiKeys,
    /// Every write in flight, so shutdown can wait for them to finish.
    pub writes: TaskTracker,
}
