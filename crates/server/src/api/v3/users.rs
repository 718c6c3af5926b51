//! `/v3/users/me…` (insomnia-wire-newer.md §2.2): the newest app's log-in reads the account and
//! its encrypted keys here instead of `/auth/whoami`, from the same stored strings; and the
//! onboarding-experiment and activity endpoints, which this server answers without running an
//! experiment or keeping activity.

use axum::http::StatusCode;
use hypnos_crypto::wire::v3::{
    CurrentUserActionCreate, FirstRequestTreatment, InvalidParameter, User, UserEmail,
    UserEncryptionKeys, UserOnboarding,
};

use super::{V3Error, V3Result};
use crate::{api::rfc3339, extract::Json, session::Authenticated, state::AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The longest `event_id` accepted, in characters (the app sends a UUID).
const MAX_EVENT_ID: usize = 200;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(encryption_keys))
        .routes(routes!(onboarding))
        .routes(routes!(request_threshold))
        .routes(routes!(request_threshold_reached))
        .routes(routes!(action))
}

/// The caller's account, as the newest app reads it.
#[utoipa::path(
    get, operation_id = "v3_users_me", path = "/v3/users/me", tag = "v3", security(("session" = [])),
    responses((status = 200, body = User))
)]
async fn me(caller: Authenticated) -> axum::Json<User> {
    let account = caller.account;
    axum::Json(User {
        id: account.id.into(),
        first_name: account.first_name,
        last_name: account.last_name,
        picture: None,
        emails: vec![UserEmail {
            email: account.email.clone(),
            is_primary: true,
        }],
        email: account.email,
        is_externally_provisioned: false,
        encryption_enabled: true,
        created_at: rfc3339(account.created_at),
    })
}

/// The caller's encrypted keys and salt.
#[utoipa::path(
    get, operation_id = "v3_users_encryption_keys", path = "/v3/users/me/encryption-keys", tag = "v3", security(("session" = [])),
    responses((status = 200, body = UserEncryptionKeys))
)]
async fn encryption_keys(caller: Authenticated) -> axum::Json<UserEncryptionKeys> {
    let account = caller.account;
    axum::Json(UserEncryptionKeys {
        public_key: account.public_key,
        enc_private_key: account.enc_private_key,
        enc_symmetric_key: account.enc_symmetric_key,
        salt_enc: account.salt_enc,
        enc_driver_key: String::new(),
    })
}

/// No experiment runs here: the SDK's "not steering" answer, and nobody is a new sign-up of it.
fn no_experiment() -> UserOnboarding {
    UserOnboarding {
        first_request_treatment: FirstRequestTreatment::Unknown,
        is_new_signup: false,
    }
}

/// The onboarding experiment (none runs here).
#[utoipa::path(
    get, operation_id = "v3_users_onboarding", path = "/v3/users/me/onboarding", tag = "v3", security(("session" = [])),
    responses((status = 200, body = UserOnboarding))
)]
async fn onboarding(_caller: Authenticated) -> axum::Json<UserOnboarding> {
    axum::Json(no_experiment())
}

/// The latch is meaningless without the experiment: accepted and not stored.
#[utoipa::path(
    post, operation_id = "v3_users_request_threshold", path = "/v3/users/me/onboarding/request-threshold", tag = "v3", security(("session" = [])),
    responses((status = 204, description = "Done."))
)]
async fn request_threshold(_caller: Authenticated) -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The older form of the onboarding latch (accepted, not stored).
#[utoipa::path(
    put, operation_id = "v3_users_request_threshold_reached", path = "/v3/users/me/onboarding/request-threshold-reached", tag = "v3", security(("session" = [])),
    responses((status = 200, body = UserOnboarding))
)]
async fn request_threshold_reached(_caller: Authenticated) -> axum::Json<UserOnboarding> {
    axum::Json(no_experiment())
}

/// Checked as the SDK types it (the action one of its kinds), then dropped: this server keeps no
/// activity reports, which the SDK's contract allows ("may be deduplicated or discarded").
#[utoipa::path(
    post, operation_id = "v3_users_action", path = "/v3/users/me/actions", tag = "v3", security(("session" = [])),
    request_body = CurrentUserActionCreate,
    responses((status = 204, description = "Done."))
)]
async fn action(
    _caller: Authenticated,
    Json(body): Json<CurrentUserActionCreate>,
) -> V3Result<StatusCode> {
    if let Some(event_id) = &body.event_id
        && (event_id.chars().count() > MAX_EVENT_ID || event_id.chars().any(char::is_control))
    {
        return Err(V3Error::Invalid(InvalidParameter {
            field: "event_id".into(),
            rule: "max_length".into(),
            reason: format!(
                "event_id must be at most {MAX_EVENT_ID} characters without control characters"
            ),
            source: Some("body".into()),
        }));
    }
    Ok(StatusCode::NO_CONTENT)
}
