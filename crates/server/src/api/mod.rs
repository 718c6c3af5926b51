//! The REST API, one module per resource, each with its `routes()`.

pub mod auth;
pub mod health;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod team_projects;
pub mod validate;

use axum::Router;

use crate::state::AppState;

/// Every REST route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(team_projects::routes())
        .merge(invitations::routes())
}

/// Unix milliseconds as RFC 3339 with milliseconds, as the app's dates are written.
pub(crate) fn rfc3339(ms: i64) -> String {
    let time =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}
