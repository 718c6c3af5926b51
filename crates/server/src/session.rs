//! The session extractor: `X-Session-Id: <hex K>` → the account, or 401.
//!
//! Sessions are stored only as SHA-256 of K, so a copy of the database holds no usable session.

use aws_lc_rs::digest;
use axum::{extract::FromRequestParts, http::request::Parts};
use hypnos_crypto::encoding::from_hex_array;

use crate::{
    error::ApiError,
    state::{AppState, now_ms},
    storage::model::{Account, SecretHash, Session},
};

/// The header the app sends the session id in.
pub const SESSION_HEADER: &str = "x-session-id";

/// SHA-256 of a secret the server hands out (a session key K, a reset token): the only form the
/// database keeps of it.
pub fn secret_hash(secret: &[u8]) -> SecretHash {
    digest::digest(&digest::SHA256, secret)
        .as_ref()
        .try_into()
        .expect("SHA-256 digests are 32 bytes")
}

/// A request made with a valid session.
pub struct Authenticated {
    /// The caller's account.
    pub account: Account,
    /// The session.
    pub session: Session,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        const MISSING: ApiError =
            ApiError::Unauthorized("not logged in: send the session id in X-Session-Id");
        let header = parts.headers.get(SESSION_HEADER).ok_or(MISSING)?;
        let key = header
            .to_str()
            .ok()
            .and_then(|text| from_hex_array::<32>(text.trim(), "session id").ok())
            .ok_or(ApiError::Unauthorized(
                "the session id is not 64 hex digits",
            ))?;
        let (session, account) = state
            .store
            .session_account(&secret_hash(&key), now_ms())
            .await?
            .ok_or(ApiError::Unauthorized(
                "the session has expired or was ended: log in again",
            ))?;
        Ok(Self { account, session })
    }
}
