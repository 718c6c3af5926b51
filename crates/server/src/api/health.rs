//! Liveness and readiness.

use axum::{Router, extract::State, http::StatusCode, routing::get};

use crate::{error::ApiResult, state::AppState};

/// `GET /healthz` (the process runs) and `GET /readyz` (the database answers).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { StatusCode::OK }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> ApiResult<StatusCode> {
    state.store.ping().await?;
    Ok(StatusCode::OK)
}
