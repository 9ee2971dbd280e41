//! The MLflow tracking REST API (`/api/2.0/mlflow/...`, `/ajax-api/2.0/mlflow/...`) and the
//! `mlflow-artifacts` proxy, mapped onto the store: experiments are projects, runs are runs.

use std::sync::Arc;

use axum::Router;

use crate::state::AppState;

/// Routes of the MLflow API, to be merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
