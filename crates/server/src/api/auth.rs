//! Accounts and sessions (insomnia-wire.md §2, extensions.md): sign-up, the three SRP log-in
//! steps, whoami, log-out, passphrase change, reset and deletion.
//!
//! Log-in never reveals whether an e-mail has an account: an unknown e-mail gets stable salts and
//! a verifier derived from the server's secret (an HMAC of the e-mail), goes through the same SRP
//! work, and fails at login-m1 exactly as a wrong passphrase does.

use std::{net::IpAddr, time::Duration};

use aws_lc_rs::hmac;
use axum::{extract::State, http::StatusCode};
use hypnos_crypto::{
    encoding::to_hex,
    random,
    srp::{self, ServerHandshake},
    wire::auth::{
        ChangePasswordRequest, DeleteAccountRequest, LoginARequest, LoginAResponse, LoginM1Request,
        LoginM1Response, LoginSRequest, LoginSResponse, ResetRequest, SignupRequest,
        SignupResponse, WhoamiResponse,
    },
};
use subtle::ConstantTimeEq;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::validate;
use crate::{
    error::{ApiError, ApiResult},
    extract::{AuthClient, Json},
    mail,
    rate_limit::Attempt,
    session::{Authenticated, secret_hash},
    state::{AppState, now_ms},
    storage::{
        AccountId, Conflict, OrgId, StoreError,
        model::{Account, ChangeCredentials, LoginAttempt, NewAccount, NewSession, ResetAccount},
    },
};

/// How long a started log-in (login-a → login-m1) stays valid.
pub const LOGIN_ATTEMPT_TTL: Duration = Duration::from_secs(120);

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login_s))
        .routes(routes!(login_a))
        .routes(routes!(login_m1))
        .routes(routes!(whoami))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(reset))
        .routes(routes!(delete_account))
}

const WRONG_CREDENTIALS: ApiError = ApiError::Unauthorized("wrong e-mail or passphrase");

/// Creates an account from keys and an SRP verifier made on the client.
#[utoipa::path(
    post, operation_id = "auth_signup", path = "/auth/signup", tag = "accounts",
    request_body = SignupRequest,
    responses((status = 201, description = "The account was created.", body = SignupResponse))
)]
async fn signup(
    State(state): State<AppState>,
    // Counts the request against the client's per-address limit before the body is read.
    AuthClient(_client): AuthClient,
    Json(body): Json<SignupRequest>,
) -> Result<(StatusCode, axum::Json<SignupResponse>), crate::admin::SignupFailure> {
    // The sign-up policy first (issue 12): it checks the e-mail and the sign-up link, and
    // nothing else in the body is looked at before it lets the sign-up in.
    let admission =
        crate::admin::admit_signup(&state, &body.email, body.invite_token.as_deref()).await?;
    validate::name("firstName", &body.first_name)?;
    validate::name("lastName", &body.last_name)?;
    validate::credentials(&validate::Credentials {
        salt_key: &body.salt_key,
        salt_auth: &body.salt_auth,
        salt_enc: &body.salt_enc,
        verifier: &body.verifier,
        public_key: &body.public_key,
        enc_private_key: &body.enc_private_key,
        enc_symmetric_key: &body.enc_symmetric_key,
    })?;

    let account_id = AccountId::from(random::prefixed_id("acct")?);
    let personal_org_id = OrgId::from(random::prefixed_id("org")?);
    // A sign-up link is used up now; if the account cannot be made, it is given back.
    crate::admin::take_admission(&state, &admission).await?;
    let now = now_ms();
    let created = state
        .store
        .create_account(NewAccount {
            account: Account {
                id: account_id.clone(),
                email: body.email,
                first_name: body.first_name,
                last_name: body.last_name,
                salt_key: body.salt_key,
                salt_auth: body.salt_auth,
                salt_enc: body.salt_enc,
                verifier: body.verifier,
                public_key: body.public_key,
                enc_private_key: body.enc_private_key,
                enc_symmetric_key: body.enc_symmetric_key,
                created_at: now,
                updated_at: now,
            },
            personal_org_id: personal_org_id.clone(),
        })
        .await;
    if let Err(error) = created {
        crate::admin::give_back_admission(&state, admission).await;
        return Err(match error {
            StoreError::Conflict(_) => ApiError::Conflict {
                code: "EMAIL_TAKEN",
                message: "an account with this e-mail exists: log in, or reset it",
            },
            other => other.into(),
        }
        .into());
    }
    let with_link = matches!(admission, crate::admin::Admission::Token(_));
    tracing::info!(account_id = %account_id, with_link, "account created");
    Ok((
        StatusCode::CREATED,
        axum::Json(SignupResponse {
            account_id: account_id.into(),
            personal_organization_id: personal_org_id.into(),
        }),
    ))
}

/// Stable per-e-mail values for unknown accounts: HMAC(server secret, label ‖ 0 ‖ e-mail).
fn unknown_account_value(state: &AppState, label: &str, email: &str) -> [u8; 32] {
    let mut context = hmac::Context::with_key(&state.unknown_account_key);
    context.update(label.as_bytes());
    context.update(&[0]);
    context.update(email.as_bytes());
    context
        .sign()
        .as_ref()
        .try_into()
        .expect("HMAC-SHA256 tags are 32 bytes")
}

/// The verifier an unknown e-mail logs in against: 2,047 pseudo-random bits from the server's
/// secret, so below N and, like a real verifier, unknown to the client. Nobody can log in with
/// it: that would take a passphrase whose `g^x` is this value. It needs no exponentiation, as
/// nothing but the server ever combines it with anything (B = kv + g^b hides it).
fn stand_in_verifier(state: &AppState, email: &str) -> [u8; srp::LEN] {
    let mut verifier = [0u8; srp::LEN];
    for (index, chunk) in verifier.chunks_mut(32).enumerate() {
        chunk.copy_from_slice(&unknown_account_value(
            state,
            &format!("verifier-{index}"),
            email,
        ));
    }
    // N's top bit is set, so clearing it keeps the value below N.
    verifier[0] &= 0x7f;
    verifier
}

/// Log-in, step 1: the account's salts (stable made-up ones for an unknown e-mail).
#[utoipa::path(
    post, operation_id = "auth_login_s", path = "/auth/login-s", tag = "accounts",
    request_body = LoginSRequest,
    responses((status = 200, body = LoginSResponse))
)]
async fn login_s(
    State(state): State<AppState>,
    AuthClient(_client): AuthClient,
    Json(body): Json<LoginSRequest>,
) -> ApiResult<axum::Json<LoginSResponse>> {
    validate::email("email", &body.email)?;
    let response = match state.store.account_by_email(&body.email).await? {
        Some(account) => LoginSResponse {
            salt_key: account.salt_key,
            salt_auth: account.salt_auth,
        },
        None => LoginSResponse {
            salt_key: to_hex(&unknown_account_value(&state, "saltKey", &body.email)),
            salt_auth: to_hex(&unknown_account_value(&state, "saltAuth", &body.email)),
        },
    };
    Ok(axum::Json(response))
}

/// Log-in, step 2: the client's SRP public value A for the server's B.
#[utoipa::path(
    post, operation_id = "auth_login_a", path = "/auth/login-a", tag = "accounts",
    request_body = LoginARequest,
    responses((status = 200, body = LoginAResponse))
)]
async fn login_a(
    State(state): State<AppState>,
    // Counts the request against the client's per-address flood guard.
    _gate: AuthClient,
    Json(body): Json<LoginARequest>,
) -> ApiResult<axum::Json<LoginAResponse>> {
    validate::email("email", &body.email)?;
    let a_pub = validate::hex_exact("srpA", &body.srp_a, 512)?;
    // No brute-force counter here: a log-in start is no guess. The guess is the proof sent to
    // login-m1, where the limits are checked and failures counted; checking here as well would
    // cost every log-in a second read (and could not replace the check at login-m1: log-ins
    // started in parallel before a limit was reached would each get a guess after it). What a
    // flood of starts costs is bounded per address by the flood guard (`AuthClient`).

    let account = state.store.account_by_email(&body.email).await?;
    // Known e-mail or not, the same work follows: an unknown one runs the SRP step against a
    // stand-in verifier derived from the server's secret, stable per e-mail.
    let stand_in = stand_in_verifier(&state, &body.email);
    let verifier = match &account {
        Some(account) => hypnos_crypto::encoding::from_hex(&account.verifier, "verifier")
            .map_err(|_| ApiError::Internal("a stored verifier is not hex".into()))?,
        None => stand_in.to_vec(),
    };
    // The SRP arithmetic (about a millisecond) runs off the async workers.
    let handshake = tokio::task::spawn_blocking(move || ServerHandshake::start(&verifier, &a_pub))
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?
        .map_err(|_| {
            ApiError::BadRequest("srpA is not a valid SRP value (zero modulo N)".into())
        })?;

    let (m1, m2, key) = handshake.proof.parts();
    let now = now_ms();
    let attempt_id = to_hex(&random::bytes::<16>()?);
    state
        .store
        .put_login_attempt(LoginAttempt {
            id: attempt_id.clone(),
            account_id: account.map(|account| account.id),
            email: body.email,
            m1: m1.to_vec(),
            m2: m2.to_vec(),
            key_hash: secret_hash(key).to_vec(),
            created_at: now,
            expires_at: now + LOGIN_ATTEMPT_TTL.as_millis() as i64,
        })
        .await?;
    Ok(axum::Json(LoginAResponse {
        session_starter_id: attempt_id,
        srp_b: to_hex(&handshake.b_pub),
    }))
}

/// Log-in, step 3: the client's proof M1 for the server's M2; the session id is hex(K).
#[utoipa::path(
    post, operation_id = "auth_login_m1", path = "/auth/login-m1", tag = "accounts",
    request_body = LoginM1Request,
    responses((status = 200, body = LoginM1Response))
)]
async fn login_m1(
    State(state): State<AppState>,
    AuthClient(client): AuthClient,
    Json(body): Json<LoginM1Request>,
) -> ApiResult<axum::Json<LoginM1Response>> {
    let client_m1 = validate::hex_exact("srpM1", &body.srp_m1, 64)?;
    // Checked before the look-up: PostgreSQL fails on a text holding a NUL.
    validate::id("sessionStarterId", &body.session_starter_id)?;
    let now = now_ms();
    let attempt = state
        .store
        .take_login_attempt(&body.session_starter_id, now)
        .await?
        .ok_or(ApiError::Unauthorized(
            "this log-in expired or was already used: start again",
        ))?;
    let proof_matches = bool::from(attempt.m1.ct_eq(&client_m1));
    // The brute-force limits, on the guess itself: log-ins count only when they fail, so a
    // successful one writes no counter. The counters are read first, whatever the proof: over
    // a limit, a right proof and a wrong one are refused alike and after the same work (one
    // `SELECT`), so neither the answer nor its time tells which guess was right.
    state
        .limiter
        .check(Attempt::Login, &attempt.email, client)
        .await?;
    let account_id = match attempt.account_id {
        Some(account_id) if proof_matches => account_id,
        // A wrong passphrase, or an e-mail without an account: the same answer.
        known_or_not => {
            state.metrics.login(false);
            security_event(&state, "login_failed", known_or_not.as_ref(), client, now).await?;
            tracing::info!(%client, "log-in failed");
            // The failure counts under the address of this request (the one that sent the
            // wrong proof, the attacker's), which may differ from login-a's: whoever guesses
            // pays for the guess.
            state
                .limiter
                .attempt(Attempt::Login, &attempt.email, client)
                .await?;
            return Err(WRONG_CREDENTIALS);
        }
    };
    // Only after the proof: who does not know the passphrase learns nothing of the account.
    if state
        .store
        .account_disabled_at(&account_id)
        .await?
        .is_some()
    {
        tracing::info!(account_id = %account_id, "log-in of a disabled account refused");
        return Err(ApiError::Forbidden(
            "this account is disabled: ask the server's operator",
        ));
    }
    let key_hash: [u8; 32] = attempt
        .key_hash
        .as_slice()
        .try_into()
        .map_err(|_| ApiError::Internal("a stored key hash is not 32 bytes".into()))?;
    let created = state
        .store
        .create_session(NewSession {
            id_hash: key_hash,
            account_id: account_id.clone(),
            now_ms: now,
            idle_ttl_ms: state.config.session_idle_timeout.as_millis() as i64,
            absolute_ttl_ms: state.config.session_max_age.as_millis() as i64,
        })
        .await;
    match created {
        Ok(_) => {}
        // The account was deleted after this log-in began.
        Err(StoreError::NotFound) => return Err(WRONG_CREDENTIALS),
        Err(other) => return Err(other.into()),
    }
    state.metrics.login(true);
    tracing::info!(account_id = %account_id, "logged in");
    Ok(axum::Json(LoginM1Response {
        srp_m2: to_hex(&attempt.m2),
    }))
}

/// The caller's account, its encrypted keys and the session's age and expiry.
#[utoipa::path(
    get, operation_id = "auth_whoami", path = "/auth/whoami", tag = "accounts", security(("session" = [])),
    responses((status = 200, body = WhoamiResponse))
)]
async fn whoami(caller: Authenticated) -> ApiResult<axum::Json<WhoamiResponse>> {
    let now = now_ms();
    let account = caller.account;
    let session = caller.session;
    let expires = session.idle_expires_at.min(session.absolute_expires_at);
    let created = super::rfc3339(account.created_at);
    Ok(axum::Json(WhoamiResponse {
        session_age: (now - session.created_at) / 1000,
        session_expiry: ((expires - now) / 1000).max(0),
        account_id: account.id.into(),
        email: account.email,
        first_name: account.first_name,
        last_name: account.last_name,
        created: created.clone(),
        public_key: account.public_key,
        enc_symmetric_key: account.enc_symmetric_key,
        enc_private_key: account.enc_private_key,
        salt_enc: account.salt_enc,
        is_payment_required: false,
        is_trialing: false,
        is_verified: true,
        is_admin: false,
        trial_end: created,
        plan_name: "Self-hosted".into(),
        plan_id: "team".into(),
        can_manage_teams: true,
        max_team_members: 1_000_000,
        password_set: true,
        can_unset_password: false,
        unsubscribed_from_emails: true,
    }))
}

/// Ends the caller's session.
#[utoipa::path(
    post, operation_id = "auth_logout", path = "/auth/logout", tag = "accounts", security(("session" = [])),
    responses((status = 204, description = "The session has ended."))
)]
async fn logout(State(state): State<AppState>, caller: Authenticated) -> ApiResult<StatusCode> {
    state.store.delete_session(&caller.session.id_hash).await?;
    state
        .events
        .sessions_ended(&caller.account.id, Some(caller.session.id_hash));
    Ok(StatusCode::NO_CONTENT)
}

/// Whether `given` is the stored verifier, compared in constant time.
fn verifier_matches(stored: &str, given: &str) -> bool {
    stored.len() == given.len() && bool::from(stored.as_bytes().ct_eq(given.as_bytes()))
}

/// Changes the passphrase (and e-mail): a new verifier and the keys re-encrypted on the client.
#[utoipa::path(
    post, operation_id = "auth_change_password", path = "/auth/change-password", tag = "accounts", security(("session" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; every other session has ended."))
)]
async fn change_password(
    State(state): State<AppState>,
    AuthClient(client): AuthClient,
    caller: Authenticated,
    Json(body): Json<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    validate::email("newEmail", &body.new_email)?;
    validate::verifier("newVerifier", &body.new_verifier)?;
    validate::aes_message("newEncSymmetricKey", &body.new_enc_symmetric_key)?;
    if let Some(name) = &body.new_first_name {
        validate::name("newFirstName", name)?;
    }
    if let Some(name) = &body.new_last_name {
        validate::name("newLastName", name)?;
    }
    let account = &caller.account;
    if !verifier_matches(&account.verifier, &body.verifier) {
        return Err(ApiError::Unauthorized(
            "verifier does not match the current passphrase",
        ));
    }
    // For the notice: the e-mail it goes to is the one before the change, the owner's.
    let new_email = (body.new_email != account.email).then(|| body.new_email.clone());
    let now = now_ms();
    let changed = state
        .store
        .change_credentials(ChangeCredentials {
            account_id: account.id.clone(),
            expected_verifier: body.verifier,
            expected_enc_symmetric_key: body.enc_symmetric_key,
            new_email: body.new_email,
            new_first_name: body.new_first_name,
            new_last_name: body.new_last_name,
            new_verifier: body.new_verifier,
            new_enc_symmetric_key: body.new_enc_symmetric_key,
            keep_session_hash: caller.session.id_hash,
            now_ms: now,
        })
        .await;
    match changed {
        Ok(_) => {
            tracing::info!(account_id = %account.id, "passphrase changed");
            // The store ended every other session of the account; this one lives on.
            state
                .events
                .other_sessions_ended(&account.id, caller.session.id_hash);
            if let Some(mailer) = &state.mail {
                mailer.send_later(mail::messages::passphrase_changed(
                    mailer.server(),
                    &account.email,
                    new_email.as_deref(),
                    now,
                    client,
                ));
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::Conflict(Conflict::Email)) => Err(ApiError::Conflict {
            code: "EMAIL_TAKEN",
            message: "another account uses this e-mail",
        }),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict {
            code: "STALE_KEYS",
            message: "the account's keys changed meanwhile: reload them (whoami) and try again",
        }),
        Err(other) => Err(other.into()),
    }
}

/// An account id no account has (ids are `acct_…`), for the reset of an unknown e-mail.
const NO_ACCOUNT: &str = "unknown-account";

/// Resets an account with a token an operator made (`hypnos admin reset-token`). Known e-mail
/// or not, the request costs the same, so its timing does not tell which e-mails have accounts:
/// the same rate-limit statement, the same account look-up, the same hashing of the token, the
/// same token-consuming `DELETE` (for an unknown e-mail under an id no account has, so it
/// deletes nothing, as a wrong token does) and the same `reset_failed` event, in the same
/// transactions. Only a valid token, which an attacker does not hold, goes further.
#[utoipa::path(
    post, operation_id = "auth_reset", path = "/auth/reset", tag = "accounts",
    request_body = ResetRequest,
    responses((status = 204, description = "The account was reset with new keys."))
)]
async fn reset(
    State(state): State<AppState>,
    AuthClient(client): AuthClient,
    Json(body): Json<ResetRequest>,
) -> ApiResult<StatusCode> {
    validate::email("email", &body.email)?;
    let token = validate::hex_exact("token", &body.token, 64)?;
    validate::credentials(&validate::Credentials {
        salt_key: &body.salt_key,
        salt_auth: &body.salt_auth,
        salt_enc: &body.salt_enc,
        verifier: &body.verifier,
        public_key: &body.public_key,
        enc_private_key: &body.enc_private_key,
        enc_symmetric_key: &body.enc_symmetric_key,
    })?;
    state
        .limiter
        .attempt(Attempt::Login, &body.email, client)
        .await?;

    const INVALID: ApiError = ApiError::Unauthorized("the reset token is invalid, used or expired");
    let now = now_ms();
    let account = state.store.account_by_email(&body.email).await?;
    let token_hash = secret_hash(&token);
    let no_account = AccountId::from(NO_ACCOUNT);
    let taken_for = account.as_ref().map_or(&no_account, |account| &account.id);
    let taken = state
        .store
        .take_reset_token(&token_hash, taken_for, now)
        .await?;
    let account = match account {
        Some(account) if taken => account,
        known_or_not => {
            let account_id = known_or_not.as_ref().map(|account| &account.id);
            security_event(&state, "reset_failed", account_id, client, now).await?;
            return Err(INVALID);
        }
    };
    state
        .store
        .reset_account(ResetAccount {
            account_id: account.id.clone(),
            salt_key: body.salt_key,
            salt_auth: body.salt_auth,
            salt_enc: body.salt_enc,
            verifier: body.verifier,
            public_key: body.public_key,
            enc_private_key: body.enc_private_key,
            enc_symmetric_key: body.enc_symmetric_key,
            now_ms: now,
        })
        .await?;
    state.events.sessions_ended(&account.id, None);
    security_event(&state, "account_reset", Some(&account.id), client, now).await?;
    tracing::info!(account_id = %account.id, "account reset");
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the caller's account, given its current verifier.
#[utoipa::path(
    delete, operation_id = "auth_delete_account", path = "/auth/delete-account", tag = "accounts", security(("session" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "The account is gone."))
)]
async fn delete_account(
    State(state): State<AppState>,
    _gate: AuthClient,
    caller: Authenticated,
    Json(body): Json<DeleteAccountRequest>,
) -> ApiResult<StatusCode> {
    if !verifier_matches(&caller.account.verifier, &body.verifier) {
        return Err(ApiError::Unauthorized(
            "verifier does not match the current passphrase",
        ));
    }
    // Read first, to tell each organization the account leaves (a membership made meanwhile
    // only misses its hint; the deletion ends the account's streams all the same).
    let memberships = state.store.memberships_of(&caller.account.id).await?;
    match state.store.delete_account(&caller.account.id).await {
        Ok(()) => {
            tracing::info!(account_id = %caller.account.id, "account deleted");
            let account = &caller.account.id;
            state.events.sessions_ended(account, None);
            for membership in memberships {
                let team = &membership.organization.id;
                // Its own organizations went with it (those it shares are refused above).
                if membership.organization.owner_account_id == *account {
                    state.events.team_closed(team);
                } else {
                    state.events.member_left(team, account);
                }
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict {
            code: "OWNS_TEAM",
            message: "this account owns a team with other members: transfer or delete the team first",
        }),
        Err(other) => Err(other.into()),
    }
}

/// Records a security event with the client's address; never a secret.
async fn security_event(
    state: &AppState,
    kind: &str,
    account_id: Option<&AccountId>,
    client: IpAddr,
    now: i64,
) -> ApiResult<()> {
    let address = client.to_string();
    Ok(state
        .store
        .record_security_event(kind, account_id, Some(&address), None, now)
        .await?)
}
