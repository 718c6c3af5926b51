//! The vault key (insomnia-wire.md §5.1): an account's second secret, a key the user keeps and
//! the server only knows the SRP salt and verifier of (I = the account id, P = the key's JWK
//! JSON bytes). Every route needs a session.
//!
//! The proof is the log-in's SRP exchange (`hypnos_crypto::srp::ServerHandshake`, the same group,
//! hashing and server half), started with vault-verify-a and finished with vault-verify-m1; K is
//! computed but unused. A started verification is single use, lives as long as a log-in attempt,
//! can be finished only by its own account, and goes when the vault is replaced. Every request
//! with a body passes the authentication endpoints' gate (per-address limit, small body), and
//! starting a verification counts as a brute-force attempt on the account, per address and in
//! all, under keys of its own (`rate_limit::Attempt::Vault`).

use axum::extract::State;
use hypnos_crypto::{
    encoding::{from_hex, to_hex},
    random,
    srp::ServerHandshake,
    wire::vault::{
        VaultRequest, VaultResponse, VaultVerifyARequest, VaultVerifyAResponse,
        VaultVerifyM1Request, VaultVerifyM1Response,
    },
};
use subtle::ConstantTimeEq;

use super::{auth::LOGIN_ATTEMPT_TTL, validate};
use crate::{
    error::{ApiError, ApiResult},
    extract::{AuthClient, Json},
    rate_limit::Attempt,
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{Conflict, StoreError, Vault, VaultVerification},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, create))
        .routes(routes!(reset))
        .routes(routes!(verify_a))
        .routes(routes!(verify_m1))
}

/// The caller's vault key, encrypted, and its salt.
#[utoipa::path(
    get, operation_id = "vault_show", path = "/v1/user/vault", tag = "vault", security(("session" = [])),
    responses((status = 200, body = VaultResponse))
)]
async fn show(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<axum::Json<VaultResponse>> {
    let vault = state.store.vault(&caller.account.id).await?;
    Ok(axum::Json(VaultResponse {
        salt: vault.map(|vault| vault.salt),
    }))
}

/// The checked body of a create or a reset, as stored.
fn new_vault(caller: &Authenticated, body: VaultRequest) -> ApiResult<Vault> {
    validate::vault_salt("salt", &body.salt)?;
    let verifier = validate::vault_verifier("verifier", &body.verifier)?;
    let now = now_ms();
    Ok(Vault {
        account_id: caller.account.id.clone(),
        salt: body.salt,
        verifier,
        created_at: now,
        updated_at: now,
    })
}

/// Creates the caller's vault key.
#[utoipa::path(
    post, operation_id = "vault_create", path = "/v1/user/vault", tag = "vault", security(("session" = [])),
    request_body = VaultRequest,
    responses((status = 200, body = VaultResponse))
)]
async fn create(
    State(state): State<AppState>,
    _gate: AuthClient,
    caller: Authenticated,
    Json(body): Json<VaultRequest>,
) -> ApiResult<axum::Json<VaultResponse>> {
    let vault = new_vault(&caller, body)?;
    let salt = vault.salt.clone();
    match state.store.create_vault(vault).await {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::VaultExists)) => {
            return Err(ApiError::Conflict {
                code: "VAULT_EXISTS",
                message: "this account has a vault key: reset it to replace it",
            });
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(account_id = %caller.account.id, "vault key created");
    Ok(axum::Json(VaultResponse { salt: Some(salt) }))
}

/// Replaces the caller's vault key.
#[utoipa::path(
    post, operation_id = "vault_reset", path = "/v1/user/vault/reset", tag = "vault", security(("session" = [])),
    request_body = VaultRequest,
    responses((status = 200, body = VaultResponse))
)]
async fn reset(
    State(state): State<AppState>,
    _gate: AuthClient,
    caller: Authenticated,
    Json(body): Json<VaultRequest>,
) -> ApiResult<axum::Json<VaultResponse>> {
    let vault = new_vault(&caller, body)?;
    let salt = vault.salt.clone();
    state.store.reset_vault(vault).await?;
    tracing::info!(account_id = %caller.account.id, "vault key reset");
    // The account's other apps drop the secrets the old key protected.
    state
        .events
        .vault_key_changed(&caller.account.id, caller.session.id_hash);
    Ok(axum::Json(VaultResponse { salt: Some(salt) }))
}

/// Vault check, step 1 (SRP A for B).
#[utoipa::path(
    post, operation_id = "vault_verify_a", path = "/v1/user/vault-verify-a", tag = "vault", security(("session" = [])),
    request_body = VaultVerifyARequest,
    responses((status = 200, body = VaultVerifyAResponse))
)]
async fn verify_a(
    State(state): State<AppState>,
    AuthClient(client): AuthClient,
    caller: Authenticated,
    Json(body): Json<VaultVerifyARequest>,
) -> ApiResult<axum::Json<VaultVerifyAResponse>> {
    let a_pub = validate::hex_exact("srpA", &body.srp_a, 512)?;
    let account_id = caller.account.id;
    state
        .limiter
        .attempt(Attempt::Vault, &account_id, client)
        .await?;
    let vault = state
        .store
        .vault(&account_id)
        .await?
        .ok_or(ApiError::NotFound(
            "this account has no vault key: create one first",
        ))?;
    let verifier = from_hex(&vault.verifier, "verifier")
        .map_err(|_| ApiError::Internal("a stored vault verifier is not hex".into()))?;
    // The SRP arithmetic (about a millisecond) runs off the async workers.
    let handshake = tokio::task::spawn_blocking(move || ServerHandshake::start(&verifier, &a_pub))
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?
        .map_err(|_| {
            ApiError::BadRequest("srpA is not a valid SRP value (zero modulo N)".into())
        })?;

    // K (the third part) is unused: the exchange only proves the key.
    let (m1, m2, _) = handshake.proof.parts();
    let now = now_ms();
    let id = to_hex(&random::bytes::<16>()?);
    let stored = state
        .store
        .put_vault_verification(
            VaultVerification {
                id: id.clone(),
                account_id,
                m1: m1.to_vec(),
                m2: m2.to_vec(),
                created_at: now,
                expires_at: now + LOGIN_ATTEMPT_TTL.as_millis() as i64,
            },
            &vault.verifier,
        )
        .await;
    match stored {
        Ok(()) => {}
        Err(StoreError::Conflict(Conflict::VaultChanged)) => {
            return Err(ApiError::Conflict {
                code: "VAULT_CHANGED",
                message: "the vault key was replaced meanwhile: read it again and start over",
            });
        }
        Err(other) => return Err(other.into()),
    }
    Ok(axum::Json(VaultVerifyAResponse {
        session_starter_id: id,
        srp_b: to_hex(&handshake.b_pub),
    }))
}

/// Vault check, step 2 (SRP M1 for M2).
#[utoipa::path(
    post, operation_id = "vault_verify_m1", path = "/v1/user/vault-verify-m1", tag = "vault", security(("session" = [])),
    request_body = VaultVerifyM1Request,
    responses((status = 200, body = VaultVerifyM1Response))
)]
async fn verify_m1(
    State(state): State<AppState>,
    AuthClient(client): AuthClient,
    caller: Authenticated,
    Json(body): Json<VaultVerifyM1Request>,
) -> ApiResult<axum::Json<VaultVerifyM1Response>> {
    let client_m1 = validate::hex_exact("srpM1", &body.srp_m1, 64)?;
    // Checked before the look-up: PostgreSQL fails on a text holding a NUL.
    validate::id("sessionStarterId", &body.session_starter_id)?;
    let now = now_ms();
    let account_id = &caller.account.id;
    let verification = state
        .store
        .take_vault_verification(&body.session_starter_id, account_id, now)
        .await?
        .ok_or(ApiError::Unauthorized(
            "this vault key verification expired, was already used or is not yours: start again",
        ))?;
    if !bool::from(verification.m1.ct_eq(&client_m1)) {
        let address = client.to_string();
        state
            .store
            .record_security_event(
                "vault_verify_failed",
                Some(account_id),
                Some(&address),
                None,
                now,
            )
            .await?;
        tracing::info!(account_id = %account_id, "vault key verification failed");
        return Err(ApiError::Unauthorized("wrong vault key"));
    }
    Ok(axum::Json(VaultVerifyM1Response {
        srp_m2: to_hex(&verification.m2),
    }))
}
