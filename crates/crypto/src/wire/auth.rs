//! Accounts and sessions: sign-up, the three SRP log-in steps, whoami, passphrase change, reset
//! and deletion.

use serde::{Deserialize, Serialize};

/// `POST /auth/signup`: the account, its salts, the SRP verifier and the encrypted keys.
/// `publicKey`, `encPrivateKey` and `encSymmetricKey` are JSON documents carried as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignupRequest {
    /// The e-mail, sanitized by the client (trimmed, lower-cased).
    pub email: String,
    /// Given name.
    #[serde(default)]
    pub first_name: String,
    /// Family name.
    #[serde(default)]
    pub last_name: String,
    /// HKDF salt of the authentication secret (64 hex).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_key: String,
    /// SRP salt (64 hex).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_auth: String,
    /// HKDF salt of the encryption secret (64 hex).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_enc: String,
    /// `PAD(g^x)`, 512 hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{512}$"))]
    pub verifier: String,
    /// The RSA-OAEP-256 public JWK, as JSON text.
    pub public_key: String,
    /// The RSA private JWK encrypted under the account key: an AES message as JSON text.
    pub enc_private_key: String,
    /// The account key encrypted under SEC_PWD_Enc: an AES message as JSON text.
    pub enc_symmetric_key: String,
    /// A Hypnos extension: the one-time sign-up token of an operator's sign-up link (`hypnos
    /// admin signup-link`, 64 hex), for a server whose sign-up policy is not `open`. The app
    /// never sends it; an open server does not need it.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<String>,
}

/// What `POST /auth/signup` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SignupResponse {
    /// The new account's id (`acct_…`).
    pub account_id: String,
    /// Its personal organization's id (`org_…`).
    pub personal_organization_id: String,
}

/// `POST /auth/login-s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginSRequest {
    /// The sanitized e-mail.
    pub email: String,
}

/// The salts `POST /auth/login-s` answers with (for an unknown e-mail: stable fake ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginSResponse {
    /// HKDF salt of the authentication secret.
    pub salt_key: String,
    /// SRP salt.
    pub salt_auth: String,
}

/// `POST /auth/login-a`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginARequest {
    /// `A`, 512 hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{512}$"))]
    pub srp_a: String,
    /// The sanitized e-mail.
    pub email: String,
}

/// What `POST /auth/login-a` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginAResponse {
    /// Names this log-in for the next step.
    pub session_starter_id: String,
    /// `B`, 512 hex.
    pub srp_b: String,
}

/// `POST /auth/login-m1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginM1Request {
    /// `M1`, 64 hex.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub srp_m1: String,
    /// From the login-a answer.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub session_starter_id: String,
    /// The website's cookie variant; accepted and ignored (Hypnos always uses the header).
    #[serde(default)]
    pub use_cookies: bool,
}

/// What `POST /auth/login-m1` answers. The session id is hex(K), which the client computes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LoginM1Response {
    /// `M2`, 64 hex.
    pub srp_m2: String,
}

/// `GET /auth/whoami` (insomnia-wire.md §2.5, with the website's three extra fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct WhoamiResponse {
    /// Seconds since the session began.
    pub session_age: i64,
    /// Seconds until the session expires (the earlier of the idle and the absolute limit).
    pub session_expiry: i64,
    /// The account id.
    pub account_id: String,
    /// The e-mail.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// When the account was made (ISO 8601).
    pub created: String,
    /// The public JWK as JSON text.
    pub public_key: String,
    /// The account key under SEC_PWD_Enc, as JSON text.
    pub enc_symmetric_key: String,
    /// The private key under the account key, as JSON text.
    pub enc_private_key: String,
    /// The encryption secret's salt.
    pub salt_enc: String,
    /// Always false: a self-hosted server has no billing.
    pub is_payment_required: bool,
    /// Always false.
    pub is_trialing: bool,
    /// Always true: Hypnos does not verify e-mail addresses.
    pub is_verified: bool,
    /// Whether the account administers this server (false: no such role yet).
    pub is_admin: bool,
    /// No trial: the account's creation time.
    pub trial_end: String,
    /// `Self-hosted`.
    pub plan_name: String,
    /// `team`: every feature on.
    pub plan_id: String,
    /// Always true.
    pub can_manage_teams: bool,
    /// No seat limit; the app reads a number, so a large one.
    pub max_team_members: i64,
    /// Always true: every Hypnos account has a passphrase.
    pub password_set: bool,
    /// Always false.
    pub can_unset_password: bool,
    /// Always true: Hypnos sends no marketing e-mail.
    pub unsubscribed_from_emails: bool,
}

/// `POST /auth/change-password` (extensions.md): proof of the current passphrase (its verifier),
/// the current wrapped account key (optimistic concurrency) and the new values. Salts are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    /// The current verifier.
    pub verifier: String,
    /// The current `encSymmetricKey`.
    pub enc_symmetric_key: String,
    /// The e-mail after the change (the same one to keep it).
    pub new_email: String,
    /// The verifier for the new passphrase (and e-mail).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{512}$"))]
    pub new_verifier: String,
    /// The account key wrapped under the new SEC_PWD_Enc.
    pub new_enc_symmetric_key: String,
    /// A new given name, if it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_first_name: Option<String>,
    /// A new family name, if it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_last_name: Option<String>,
}

/// `POST /auth/reset` (extensions.md): a one-time token from the operator and a whole new set of
/// credentials and keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResetRequest {
    /// The account's e-mail.
    pub email: String,
    /// The token `hypnos admin reset-token` printed.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub token: String,
    /// New HKDF salt of the authentication secret.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_key: String,
    /// New SRP salt.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_auth: String,
    /// New HKDF salt of the encryption secret.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{64}$"))]
    pub salt_enc: String,
    /// New verifier.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{512}$"))]
    pub verifier: String,
    /// New public JWK as JSON text.
    pub public_key: String,
    /// New private key under the new account key.
    pub enc_private_key: String,
    /// New account key under the new SEC_PWD_Enc.
    pub enc_symmetric_key: String,
}

/// `DELETE /auth/delete-account` (extensions.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteAccountRequest {
    /// The current verifier, as proof of the passphrase.
    pub verifier: String,
}
