//! The REST API, one module per resource, each with its `routes()`.

pub mod app_defaults;
pub mod auth;
pub mod collaborators;
pub mod graphql;
pub mod health;
pub mod invitations;
pub mod members;
pub mod openapi;
pub mod orgs;
pub mod pages;
pub mod presence;
pub mod streams;
pub mod team_projects;
pub mod user_files;
pub mod v3;
pub mod validate;
pub mod vault;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::{error::ApiResult, session::Authenticated, state::AppState, storage::AuditEvent};

/// Every REST route, `GET /openapi.json` describing them included.
pub fn routes() -> Router<AppState> {
    let (router, doc) = documented();
    router.merge(openapi::route(&doc))
}

/// The OpenAPI document of the REST API (what `GET /openapi.json` serves).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The routes and their document, made from the same handler attributes. The browser pages
/// are served files, not API, and are left out of the document.
fn documented() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut paths) = OpenApiRouter::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(orgs::routes())
        .merge(members::routes())
        .merge(team_projects::routes())
        .merge(invitations::routes())
        .merge(vault::routes())
        .merge(graphql::routes())
        .merge(app_defaults::routes())
        .merge(collaborators::routes())
        .merge(user_files::routes())
        .merge(streams::routes())
        .merge(presence::routes())
        .split_for_parts();
    // `/v3` keeps its own error layer and fallbacks, so it is split on its own.
    let (v3_router, v3_paths) = v3::routes();
    paths.merge(v3_paths);
    let router = router.merge(v3_router).merge(pages::routes());
    (router, openapi::document(paths))
}

/// Unix milliseconds as RFC 3339 with milliseconds, as the app's dates are written.
pub(crate) fn rfc3339(ms: i64) -> String {
    let time =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}

/// An audit event for `organization_id`, done now by the caller (its id made here; the store
/// writes it in the same transaction as the change it records).
pub(crate) fn audit_event(
    caller: &Authenticated,
    organization_id: &str,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> ApiResult<AuditEvent> {
    Ok(AuditEvent {
        id: hypnos_crypto::random::prefixed_id("evt")?,
        organization_id: organization_id.into(),
        at: crate::state::now_ms(),
        actor_account_id: Some(caller.account.id.clone()),
        action: action.into(),
        target: target.into(),
        details: details.to_string(),
    })
}
