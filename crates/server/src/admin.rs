//! Operator actions that run next to the server on the same database (`hypnos admin …`), and the
//! sign-up policy they serve.
//!
//! The sign-up policy (`--signup open|invite-only|closed`, `--signup-domains`) decides who may
//! create an account. The operator's way past it is a one-time sign-up link
//! ([`issue_signup_link`]): the operator cannot create an account outright, since an account's
//! keys are made on the client from a passphrase the server never sees, so the link lets one
//! person create their own. Like reset tokens, a sign-up token is stored only as its SHA-256.

use std::time::Duration;

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use hypnos_crypto::{
    encoding::{from_hex, to_hex},
    random,
    wire::ErrorBody,
};

use crate::{
    api::validate,
    config::ServerConfig,
    error::ApiError,
    mail::{MailError, SmtpSender, messages},
    session::secret_hash,
    state::{AppState, now_ms},
    storage::{self, SignupToken, StoreError},
};

/// How long a reset token stays valid.
pub const RESET_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The longest a sign-up link may stay valid.
pub const SIGNUP_LINK_MAX_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// What can go wrong in an operator action.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No account has that e-mail.
    #[error("no account has the e-mail {0}")]
    UnknownAccount(String),
    /// An argument is out of range or malformed.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The random generator failed.
    #[error(transparent)]
    Crypto(#[from] hypnos_crypto::CryptoError),
    /// Mail is not configured or its settings are unusable.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The token was made but the mail did not leave: nobody has it, and it expires unused.
    #[error(
        "the reset token could not be mailed ({0}); it was not shown to anyone and expires unused: fix the mail settings and run the command again, or run it without --mail"
    )]
    NotMailed(MailError),
}

/// The account with `email`, on the store.
async fn account_by_email(
    store: &dyn storage::Store,
    email: &str,
) -> Result<storage::model::Account, AdminError> {
    let email = hypnos_crypto::kdf::sanitize_email(email);
    store
        .account_by_email(&email)
        .await?
        .ok_or(AdminError::UnknownAccount(email))
}

/// Disables (`disabled` true: it cannot log in, its sessions end) or enables again the account
/// with `email`; returns its id. On PostgreSQL the account's open event streams end on every
/// server process too; on SQLite a server's streams end at their hourly end at the latest
/// (every request of theirs is refused at once, their sessions being gone).
pub async fn set_disabled(
    config: &ServerConfig,
    email: &str,
    disabled: bool,
) -> Result<String, AdminError> {
    let store = storage::connect(&config.database_url()).await?;
    let account = account_by_email(store.as_ref(), email).await?;
    store
        .set_account_disabled(&account.id, disabled.then(now_ms))
        .await?;
    if disabled {
        end_streams(&store, &account.id).await;
    }
    Ok(account.id.to_string())
}

/// Deletes the account with `email` as its owner could (its personal organization, the teams
/// it alone is in, its memberships, keys and sessions); an account that owns a team with other
/// members is refused (`Conflict(OwnsSharedTeam)`): the team goes first. Returns its id.
pub async fn delete_account(config: &ServerConfig, email: &str) -> Result<String, AdminError> {
    let store = storage::connect(&config.database_url()).await?;
    let account = account_by_email(store.as_ref(), email).await?;
    store.delete_account(&account.id).await?;
    end_streams(&store, &account.id).await;
    Ok(account.id.to_string())
}

/// Tells the server processes on a PostgreSQL database that `account`'s sessions ended, so that
/// its event streams end (a notice through the database, as a server process sends it).
async fn end_streams(store: &std::sync::Arc<dyn storage::Store>, account: &str) {
    let notice = crate::events::Notice::SessionsEnded {
        account: account.to_owned(),
        session: None,
        keep: None,
    };
    if let Err(error) = crate::events::publish_now(store, &notice).await {
        tracing::warn!(%error, "the servers could not be told to end the account's streams");
    }
}

/// Makes a one-time reset token for the account with `email` (valid one hour) and returns it as
/// 64 hex digits. The database keeps only its hash.
pub async fn issue_reset_token(config: &ServerConfig, email: &str) -> Result<String, AdminError> {
    Ok(make_reset_token(config, email).await?.token)
}

/// Makes a reset token as [`issue_reset_token`] does and mails it to the account's e-mail
/// (`hypnos admin reset-token --mail`) instead of returning it; returns the address it went to.
/// The mail settings are checked (and the password file read) before the token is made.
pub async fn mail_reset_token(config: &ServerConfig, email: &str) -> Result<String, AdminError> {
    config.mail.validate().map_err(AdminError::Invalid)?;
    let sender = SmtpSender::new(&config.mail)?.ok_or(MailError::NotConfigured)?;
    let issued = make_reset_token(config, email).await?;
    let letter = messages::reset_token(
        &crate::mail_identity(config),
        &issued.email,
        &issued.token,
        issued.expires_at,
    );
    sender.send(letter).await.map_err(AdminError::NotMailed)?;
    Ok(issued.email)
}

/// A reset token just made.
struct IssuedResetToken {
    /// The account's e-mail.
    email: String,
    /// The token, 64 hex digits.
    token: String,
    /// When it stops working (unix ms).
    expires_at: i64,
}

async fn make_reset_token(
    config: &ServerConfig,
    email: &str,
) -> Result<IssuedResetToken, AdminError> {
    let store = storage::connect(&config.database_url()).await?;
    let email = hypnos_crypto::kdf::sanitize_email(email);
    let account = store
        .account_by_email(&email)
        .await?
        .ok_or_else(|| AdminError::UnknownAccount(email.clone()))?;
    let token = random::bytes::<32>()?;
    let now = now_ms();
    let ttl = RESET_TOKEN_TTL.as_millis() as i64;
    store
        .put_reset_token(&secret_hash(&token), &account.id, now, ttl)
        .await?;
    Ok(IssuedResetToken {
        email: account.email,
        token: to_hex(&token),
        expires_at: now + ttl,
    })
}

/// Who may create an account (`--signup`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SignupPolicy {
    /// Anyone who reaches the server (within `--signup-domains`).
    #[default]
    Open,
    /// Only with an operator's sign-up link.
    InviteOnly,
    /// Nobody signs up by themselves; an operator's sign-up link still admits its one person
    /// (the operator's way to create an account).
    Closed,
}

/// A sign-up link an operator hands to one person.
#[derive(Debug)]
pub struct SignupLink {
    /// `<public URL>/app/auth-app/signup.html?invite=TOKEN`.
    pub url: String,
    /// The token alone (64 hex), for `hypnos signup --invite`.
    pub token: String,
    /// The one e-mail it may sign up, if given.
    pub email: Option<String>,
    /// When it stops working (unix ms).
    pub expires_at: i64,
}

/// The URL users reach the server at: `--public-url`, else derived from `--listen` (as `hypnos
/// server` logs it), without a trailing slash.
pub fn public_url(config: &ServerConfig) -> String {
    let url = config.public_url.clone().unwrap_or_else(|| {
        let scheme = if config.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", config.listen)
    });
    url.trim_end_matches('/').to_owned()
}

/// Makes a one-time sign-up link, valid for `ttl` (at most a year), optionally for one e-mail
/// only (then `--signup-domains` does not apply to it). It works whatever the sign-up policy.
/// The database keeps only the token's hash.
pub async fn issue_signup_link(
    config: &ServerConfig,
    email: Option<&str>,
    ttl: Duration,
) -> Result<SignupLink, AdminError> {
    if ttl.is_zero() || ttl > SIGNUP_LINK_MAX_TTL {
        return Err(AdminError::Invalid(
            "the link's lifetime must be longer than zero and at most 365 days".into(),
        ));
    }
    let email = email.map(hypnos_crypto::kdf::sanitize_email);
    if let Some(email) = &email {
        validate::email("--email", email)
            .map_err(|_| AdminError::Invalid(format!("{email:?} is not an e-mail address")))?;
    }
    let store = storage::connect(&config.database_url()).await?;
    let token = random::bytes::<32>()?;
    let now = now_ms();
    let expires_at = now + ttl.as_millis() as i64;
    store
        .put_signup_token(
            SignupToken {
                token_hash: secret_hash(&token),
                email: email.clone(),
                created_at: now,
                expires_at,
            },
            now,
        )
        .await?;
    let token = to_hex(&token);
    Ok(SignupLink {
        url: format!(
            "{}/app/auth-app/signup.html?invite={token}",
            public_url(config)
        ),
        token,
        email,
        expires_at,
    })
}

/// Parses a sign-up link's lifetime (`--ttl`): 90m, 48h, 7d, … up to 365 days.
pub fn parse_link_ttl(text: &str) -> Result<Duration, String> {
    let ttl =
        humantime::parse_duration(text).map_err(|err| format!("{err} (examples: 90m, 48h, 7d)"))?;
    if ttl.is_zero() || ttl > SIGNUP_LINK_MAX_TTL {
        return Err("a sign-up link lives longer than zero and at most 365 days".into());
    }
    Ok(ttl)
}

/// Whether `email`'s domain may sign up under `--signup-domains` (an empty list: any).
pub fn domain_allowed(config: &ServerConfig, email: &str) -> bool {
    let allowed: Vec<&str> = config
        .signup_domains
        .iter()
        .map(String::as_str)
        .filter(|domain| !domain.is_empty())
        .collect();
    if allowed.is_empty() {
        return true;
    }
    let domain = email.rsplit_once('@').map_or("", |(_, domain)| domain);
    allowed
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(domain))
}

/// Checks one `--signup-domains` entry: a bare domain, stored lower-case.
pub fn parse_signup_domain(text: &str) -> Result<String, String> {
    let domain = text.trim().to_ascii_lowercase();
    let valid = domain.is_empty()
        || (domain.len() <= 253
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    if valid {
        Ok(domain)
    } else {
        Err(format!(
            "{text:?} is not an e-mail domain (write example.com, not user@example.com)"
        ))
    }
}

/// Why the sign-up policy refuses a sign-up: 403 with a code of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignupRefused {
    /// The machine-readable code.
    pub code: &'static str,
    /// The sentence.
    pub message: &'static str,
}

/// Sign-up is closed and no sign-up link came.
pub const SIGNUP_CLOSED: SignupRefused = SignupRefused {
    code: "SIGNUP_CLOSED",
    message: "this server does not take sign-ups: ask its operator for a sign-up link",
};

/// Sign-up is by invitation and no sign-up link came.
pub const SIGNUP_INVITE_REQUIRED: SignupRefused = SignupRefused {
    code: "SIGNUP_INVITE_REQUIRED",
    message: "this server takes sign-ups only with a sign-up link from its operator",
};

/// The e-mail's domain is not among `--signup-domains`.
pub const SIGNUP_DOMAIN_NOT_ALLOWED: SignupRefused = SignupRefused {
    code: "SIGNUP_DOMAIN_NOT_ALLOWED",
    message: "this server takes sign-ups only for some e-mail domains, and not this one: ask \
              its operator for a sign-up link made for your e-mail",
};

/// The token is unknown, used, expired or made for another e-mail.
pub const SIGNUP_INVITE_INVALID: SignupRefused = SignupRefused {
    code: "SIGNUP_INVITE_INVALID",
    message: "the sign-up link is invalid, used, expired or made for another e-mail: ask the \
              server's operator for a new one",
};

/// What a sign-up fails with: the policy's refusal or any other API error.
#[derive(Debug)]
pub enum SignupFailure {
    /// The sign-up policy refused (403).
    Refused(SignupRefused),
    /// Anything else.
    Api(ApiError),
}

impl From<SignupRefused> for SignupFailure {
    fn from(refused: SignupRefused) -> Self {
        Self::Refused(refused)
    }
}

impl From<ApiError> for SignupFailure {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<StoreError> for SignupFailure {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl From<hypnos_crypto::CryptoError> for SignupFailure {
    fn from(error: hypnos_crypto::CryptoError) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for SignupFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(refused) => (
                StatusCode::FORBIDDEN,
                Json(ErrorBody {
                    error: refused.code.into(),
                    message: refused.message.into(),
                }),
            )
                .into_response(),
            Self::Api(error) => error.into_response(),
        }
    }
}

/// How a sign-up was let in.
#[derive(Debug)]
pub enum Admission {
    /// The policy admits it as it is; any token it carries is ignored (not used up).
    Open,
    /// By this sign-up token, which the sign-up must now take (use up).
    Token(SignupToken),
}

/// The sign-up policy's decision on a sign-up for `email` carrying `token`, made before anything
/// else in the body is looked at and before anything is written. A token is consulted only when
/// the sign-up needs one (a policy other than `open`, or a domain outside `--signup-domains`):
/// it must be live and, if made for one e-mail, made for this one; a token made for no e-mail
/// still obeys `--signup-domains`.
pub async fn admit_signup(
    state: &AppState,
    email: &str,
    token: Option<&str>,
) -> Result<Admission, SignupFailure> {
    let config = &state.config;
    // Closed to whoever brings no link: refuse before reading anything else.
    match (config.signup, token) {
        (SignupPolicy::Closed, None) => return Err(SIGNUP_CLOSED.into()),
        (SignupPolicy::InviteOnly, None) => return Err(SIGNUP_INVITE_REQUIRED.into()),
        _ => {}
    }
    validate::email("email", email)?;
    let domain_ok = domain_allowed(config, email);
    if config.signup == SignupPolicy::Open && domain_ok {
        return Ok(Admission::Open);
    }
    let Some(token) = token else {
        return Err(SIGNUP_DOMAIN_NOT_ALLOWED.into());
    };
    // Anything but 64 hex digits is simply not a token.
    let token = match from_hex(token, "inviteToken") {
        Ok(bytes) if bytes.len() == 32 => bytes,
        _ => return Err(SIGNUP_INVITE_INVALID.into()),
    };
    let stored = state
        .store
        .signup_token(&secret_hash(&token), now_ms())
        .await?
        .ok_or(SIGNUP_INVITE_INVALID)?;
    match stored.email.as_deref() {
        Some(bound) if bound != email => Err(SIGNUP_INVITE_INVALID.into()),
        // The operator named this e-mail: the domain list does not bind it.
        Some(_) => Ok(Admission::Token(stored)),
        None if domain_ok => Ok(Admission::Token(stored)),
        None => Err(SIGNUP_DOMAIN_NOT_ALLOWED.into()),
    }
}

/// Uses up the token that admitted a sign-up, just before the account is created; refuses if a
/// concurrent sign-up took it first.
pub async fn take_admission(state: &AppState, admission: &Admission) -> Result<(), SignupFailure> {
    if let Admission::Token(token) = admission
        && !state
            .store
            .take_signup_token(&token.token_hash, now_ms())
            .await?
    {
        return Err(SIGNUP_INVITE_INVALID.into());
    }
    Ok(())
}

/// Gives back the token of a sign-up that failed after taking it (a taken e-mail, a database
/// error), so that the link still works. A failure here is logged: the link is then lost, and
/// the operator makes another.
pub async fn give_back_admission(state: &AppState, admission: Admission) {
    if let Admission::Token(token) = admission
        && let Err(error) = state.store.put_signup_token(token, now_ms()).await
    {
        tracing::warn!(%error, "a failed sign-up could not give its sign-up link back");
    }
}
