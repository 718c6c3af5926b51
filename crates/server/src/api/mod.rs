//! The REST API, one module per resource, each with its `routes()`.

pub mod auth;
pub mod health;
pub mod validate;

use axum::Router;

use crate::state::AppState;

/// Every REST route.
pub fn routes() -> Router<AppState> {
    Router::new().merge(health::routes()).merge(auth::routes())
}
