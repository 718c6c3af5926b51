//! `/v3/users/me…` (insomnia-wire-newer.md §2.2): the newest app's log-in reads the account and
//! its encrypted keys here instead of `/auth/whoami`, from the same stored strings; and the
//! onboarding-experiment and activity endpoints, which this server answers without running an
//! experiment or keeping activity.

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post, put},
};
use hypnos_crypto::wire::v3::{
    CurrentUserActionCreate, FirstRequestTreatment, InvalidParameter, User, UserEmail,
    UserEncryptionKeys, UserOnboarding,
};

use super::{V3Error, V3Result};
use crate::{api::rfc3339, extract::Json, session::Authenticated, state::AppState};

/// The longest `event_id` accepted, in characters (the app sends a UUID).
const MAX_EVENT_ID: usize = 200;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/users/me", get(me))
        .route("/v3/users/me/encryption-keys", get(encryption_keys))
        .route("/v3/users/me/onboarding", get(onboarding))
        // Two forms of one latch, from two app versions: the newer POSTs, the older PUTs.
        .route(
            "/v3/users/me/onboarding/request-threshold",
            post(request_threshold),
        )
        .route(
            "/v3/users/me/onboarding/request-threshold-reached",
            put(request_threshold_reached),
        )
        .route("/v3/users/me/actions", post(action))
}

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

async fn onboarding(_caller: Authenticated) -> axum::Json<UserOnboarding> {
    axum::Json(no_experiment())
}

/// The latch is meaningless without the experiment: accepted and not stored.
async fn request_threshold(_caller: Authenticated) -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn request_threshold_reached(_caller: Authenticated) -> axum::Json<UserOnboarding> {
    axum::Json(no_experiment())
}

/// Checked as the SDK types it (the action one of its kinds), then dropped: this server keeps no
/// activity reports, which the SDK's contract allows ("may be deduplicated or discarded").
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
