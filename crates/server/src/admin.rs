//! Operator actions that run next to the server on the same database: `hypnos admin …`.

use std::time::Duration;

use hypnos_crypto::{encoding::to_hex, random};

use crate::{
    config::ServerConfig,
    session::secret_hash,
    state::now_ms,
    storage::{self, StoreError},
};

/// How long a reset token stays valid.
pub const RESET_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// What can go wrong issuing a reset token.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account has that e-mail.
    #[error("no account has the e-mail {0}")]
    UnknownAccount(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The random generator failed.
    #[error(transparent)]
    Crypto(#[from] hypnos_crypto::CryptoError),
}

/// Makes a one-time reset token for the account with `email` (valid one hour) and returns it as
/// 64 hex digits. The database keeps only its hash.
pub async fn issue_reset_token(config: &ServerConfig, email: &str) -> Result<String, AdminError> {
    let store = storage::connect(&config.database_url()).await?;
    let email = hypnos_crypto::kdf::sanitize_email(email);
    let account = store
        .account_by_email(&email)
        .await?
        .ok_or_else(|| AdminError::UnknownAccount(email.clone()))?;
    let token = random::bytes::<32>()?;
    store
        .put_reset_token(
            &secret_hash(&token),
            &account.id,
            now_ms(),
            RESET_TOKEN_TTL.as_millis() as i64,
        )
        .await?;
    Ok(to_hex(&token))
}
