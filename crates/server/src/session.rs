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

/// The longest a session's recorded use may lag behind its real use.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// Whether this use of a session must be written down (sliding its idle expiry). Writing every
/// use would make every authenticated request a database write; instead a session is touched
/// when its last recorded use is a minute old, or a quarter of its idle lifetime if that is
/// shorter, so a session in use never comes within three quarters of its idle timeout of
/// expiring.
fn touch_due(session: &Session, now_ms: i64) -> bool {
    now_ms - session.last_seen_at >= TOUCH_INTERVAL_MS.min(session.idle_ttl_ms / 4)
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
        const ENDED: ApiError =
            ApiError::Unauthorized("the session has expired or was ended: log in again");
        let id_hash = secret_hash(&key);
        let now = now_ms();
        let (mut session, account) = state
            .store
            .session_account(&id_hash, now)
            .await?
            .ok_or(ENDED)?;
        if touch_due(&session, now) {
            session = state
                .store
                .touch_session(&id_hash, now)
                .await?
                .ok_or(ENDED)?;
        }
        Ok(Self { account, session })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(last_seen_at: i64, idle_ttl_ms: i64) -> Session {
        Session {
            id_hash: [0; 32],
            account_id: "acct_test".into(),
            created_at: 0,
            last_seen_at,
            idle_ttl_ms,
            idle_expires_at: last_seen_at + idle_ttl_ms,
            absolute_expires_at: i64::MAX,
        }
    }

    #[test]
    fn long_idle_timeouts_are_touched_once_a_minute() {
        let fortnight = 14 * 24 * 3_600_000;
        assert!(!touch_due(&session(1_000, fortnight), 1_000));
        assert!(!touch_due(&session(1_000, fortnight), 60_999));
        assert!(touch_due(&session(1_000, fortnight), 61_000));
    }

    #[test]
    fn short_idle_timeouts_are_touched_after_a_quarter_of_them() {
        assert!(!touch_due(&session(0, 8_000), 1_999));
        assert!(touch_due(&session(0, 8_000), 2_000));
    }
}
