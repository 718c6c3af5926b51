//! The storage layer: one [`Store`] interface, a PostgreSQL and a SQLite backend.
//!
//! [`connect`] picks the backend from the URL scheme and runs that backend's embedded migrations
//! (`migrations/postgres`, `migrations/sqlite`: same numbers, same meaning) before returning. The
//! rest of the server sees only `Arc<dyn Store>`.
//!
//! The store never reads the clock: every method where time matters takes `now_ms` (unix
//! milliseconds) from the caller. Every write that touches more than one row is one transaction.
//! Secrets handed to clients (session ids, reset tokens) are stored only as SHA-256 hashes, which
//! the caller computes.

mod error;
mod ids;
pub mod model;
pub mod notices;
mod operator;
mod pool_use;
mod postgres;
mod presence;
mod rate_limits;
mod readiness;
mod rows;
mod spaces;
mod sql;
mod sqlite;
mod sync;
mod tenants;
pub mod transfer;
mod vault;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use error::{Conflict, StoreError};
use error::{map_migrate_error, map_non_database_error};
pub use ids::{AccountId, OrgId, ProjectId};
pub use model::{
    Account, AuditEvent, Blob, Branch, ChangeCredentials, HASH_LEN, Invitation, InvitationKey,
    InvitationView, KeyGap, LoginAttempt, Member, Membership, NewAccount, NewProjectKey,
    NewSession, NewTeam, Organization, OrganizationKind, Project, ProjectKey, ResetAccount, Role,
    SecretHash, Session, Snapshot, TeamProject, Vault, VaultVerification,
};
pub use operator::{AccountOverview, OperatorStore, OrganizationOverview};
pub use pool_use::PoolUse;
pub use presence::{MAX_PRESENCE_ROWS, PresenceEntry, PresenceStore, PresentMember};
pub use rate_limits::{Counter, MAX_CHAIN, OverLimit, RateLimitStore};
pub use spaces::{SpaceEntry, SpaceKey, SpaceOrder, SpaceQuery};
pub use sync::{SnapshotAuthor, SyncStore};
pub use tenants::{Collaborator, CollaboratorKind, TenantStore, may_invite};
pub use vault::VaultStore;

/// Whose rows a storage transaction acts on. On PostgreSQL the backend sets these for the
/// transaction, and row-level security (migration 0003) confines every statement to the
/// organization's rows and the account's own; SQLite has no such guard and ignores them.
#[derive(Clone, Copy, Debug, Default)]
struct Scope<'a> {
    /// The organization the transaction acts in (from the caller's verified membership).
    organization_id: Option<&'a str>,
    /// The account it acts for.
    account_id: Option<&'a str>,
}

impl<'a> Scope<'a> {
    /// Acting in one organization.
    fn organization(organization_id: &'a str) -> Self {
        Self {
            organization_id: Some(organization_id),
            account_id: None,
        }
    }

    /// Acting for one account, on its own rows in every organization.
    fn account(account_id: &'a AccountId) -> Self {
        Self {
            organization_id: None,
            account_id: Some(account_id),
        }
    }

    /// Acting for an account in one organization.
    fn both(organization_id: &'a str, account_id: &'a AccountId) -> Self {
        Self {
            organization_id: Some(organization_id),
            account_id: Some(account_id),
        }
    }
}

/// Tuning for [`connect_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The most connections the pool opens (an in-memory SQLite database always uses one).
    pub max_connections: u32,
    /// How long to wait for a connection (and, at start, for the database to answer) before
    /// giving up with [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The server's storage: accounts, sessions, log-in state and settings here, organizations in
/// [`TenantStore`], synced projects in [`SyncStore`], presence in [`PresenceStore`]. Written
/// once for both database backends (`sql/`), with what differs between them in `postgres.rs`
/// and `sqlite.rs`.
#[async_trait]
pub trait Store:
    TenantStore
    + SyncStore
    + VaultStore
    + PresenceStore
    + RateLimitStore
    + SignupStore
    + OperatorStore
    + Send
    + Sync
{
    /// `Ok` when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// `Ok` when a write can succeed now: a probe through the writing connection (and on
    /// SQLite, room on the database's disk), rerun at most every two seconds.
    /// `Unavailable(reason)` otherwise, the reason a short sentence safe to show anyone.
    async fn check_writable(&self) -> Result<(), StoreError>;

    /// How notices reach every server process on this database (the event stream's transport).
    fn notices(&self) -> notices::Notices;

    /// How each of the store's connection pools is used now (for `/metrics`).
    fn pool_use(&self) -> Vec<PoolUse>;

    /// Creates an account, its personal organization and its owner membership in one
    /// transaction. A taken e-mail gives `Conflict(Email)` and writes nothing.
    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError>;

    /// The account with this (already sanitized) e-mail address.
    async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError>;

    /// The account with this id.
    async fn account_by_id(&self, account_id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// Changes the verifier, encrypted symmetric key, e-mail and optionally the names, but only
    /// if the stored verifier and encrypted symmetric key still equal the expected ones
    /// (otherwise `Conflict(Credentials)`), then deletes every other session and every pending
    /// log-in attempt of the account; one transaction. A taken e-mail gives `Conflict(Email)`;
    /// an unknown account `NotFound`.
    async fn change_credentials(&self, change: ChangeCredentials) -> Result<Account, StoreError>;

    /// Replaces the account's salts, verifier and key pair, and deletes its sessions, pending
    /// log-in attempts, reset tokens, project keys and the keys of invitations addressed to it;
    /// memberships stay. One transaction. An unknown account gives `NotFound`.
    async fn reset_account(&self, reset: ResetAccount) -> Result<Account, StoreError>;

    /// Deletes the account with its personal organization (and everything in it), the team
    /// organizations it owns that have no other member, its memberships, keys, sessions,
    /// log-in attempts, reset tokens and invitations. One transaction. If it owns a team
    /// organization with other members: `Conflict(OwnsSharedTeam)` and nothing
    /// changes. An unknown account gives `NotFound`.
    async fn delete_account(&self, account_id: &AccountId) -> Result<(), StoreError>;

    /// Disables the account at `disabled_at` (it cannot log in, and its sessions are deleted in
    /// the same transaction) or, with `None`, enables it again. An unknown account gives
    /// `NotFound`.
    async fn set_account_disabled(
        &self,
        account_id: &AccountId,
        disabled_at: Option<i64>,
    ) -> Result<(), StoreError>;

    /// When the account was disabled, if it is; `None` also for an unknown account.
    async fn account_disabled_at(&self, account_id: &AccountId) -> Result<Option<i64>, StoreError>;

    /// Stores a new session. An unknown account gives `NotFound`.
    async fn create_session(&self, new: NewSession) -> Result<Session, StoreError>;

    /// The live session with this id hash and its account, read in one statement that writes
    /// nothing. `None` if it does not exist or has expired.
    async fn session_account(
        &self,
        id_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<Option<(Session, Account)>, StoreError>;

    /// Records a use of a live session: `last_seen_at = now`, and its idle expiry slides to
    /// `now + idle_ttl`, never past the absolute expiry. Returns the session as it now is, or
    /// `None` if it does not exist or has expired.
    async fn touch_session(
        &self,
        id_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<Option<Session>, StoreError>;

    /// Deletes one session (log-out). Deleting a missing session is not an error.
    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError>;

    /// Deletes every session of an account; returns how many there were.
    async fn delete_sessions_of(&self, account_id: &AccountId) -> Result<u64, StoreError>;

    /// Stores the state of a started SRP log-in. A reused id gives `Conflict(LoginAttempt)`.
    async fn put_login_attempt(&self, attempt: LoginAttempt) -> Result<(), StoreError>;

    /// Removes and returns a log-in attempt, atomically: of two concurrent takes at most one gets
    /// it. `None` if it does not exist or has expired.
    async fn take_login_attempt(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<LoginAttempt>, StoreError>;

    /// Deletes expired log-in attempts, vault verifications, sessions and reset tokens; returns
    /// how many rows went.
    async fn purge_expired(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Stores the hash of a one-time reset token for an account, valid for `ttl_ms`. An unknown
    /// account gives `NotFound`.
    async fn put_reset_token(
        &self,
        token_hash: &SecretHash,
        account_id: &AccountId,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError>;

    /// Consumes a reset token: `true` (and the token is gone) if it exists, belongs to this
    /// account and has not expired; `false` otherwise.
    async fn take_reset_token(
        &self,
        token_hash: &SecretHash,
        account_id: &AccountId,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Appends a security event (failed log-in, reset, …). `details` must not hold secrets.
    async fn record_security_event(
        &self,
        kind: &str,
        account_id: Option<&AccountId>,
        client_ip: Option<&str>,
        details: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// The server-wide secret called `name`, created with `generate()` on first use. When two
    /// processes race, both get the value that was stored first.
    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> Vec<u8> + Sync),
    ) -> Result<Vec<u8>, StoreError>;
}

/// A one-time sign-up token (`hypnos admin signup-link`), as stored: only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignupToken {
    /// SHA-256 of the token the operator handed out.
    pub token_hash: SecretHash,
    /// The one (sanitized) e-mail it may sign up, if the operator named one.
    pub email: Option<String>,
    /// When it was made (unix ms).
    pub created_at: i64,
    /// When it stops working (unix ms).
    pub expires_at: i64,
}

/// The operator's one-time sign-up tokens: server-wide, not tenant data (no [`Scope`]).
/// `sql/accounts.rs` implements this trait for both backends.
#[async_trait]
pub trait SignupStore: Send + Sync {
    /// Stores a new token, and deletes the expired ones (tokens are few: this keeps the table
    /// small without a purge of its own). A reused hash gives `Conflict(Duplicate)`.
    async fn put_signup_token(&self, token: SignupToken, now_ms: i64) -> Result<(), StoreError>;

    /// The live token with this hash, if there is one; reads only.
    async fn signup_token(
        &self,
        token_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<Option<SignupToken>, StoreError>;

    /// Consumes a live token: `true` if this call deleted it (of two concurrent takes at most
    /// one gets `true`), `false` if it does not exist or has expired.
    async fn take_signup_token(
        &self,
        token_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
}

/// Connects to the database named by `url` with default [`ConnectOptions`] and migrates it.
///
/// `postgres://…` and `postgresql://…` select PostgreSQL; `sqlite://…` (for example
/// `sqlite://./hypnos-data/hypnos.db?mode=rwc`) and `sqlite:…` select SQLite, creating the file
/// and its directory if they are missing.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, ConnectOptions::default()).await
}

/// [`connect`] with explicit [`ConnectOptions`].
pub async fn connect_with(
    url: &str,
    options: ConnectOptions,
) -> Result<Arc<dyn Store>, StoreError> {
    match Backend::of_url(url) {
        Some(Backend::Postgres) => Ok(Arc::new(
            postgres::PostgresStore::connect(url, options).await?,
        )),
        Some(Backend::Sqlite) => Ok(Arc::new(sqlite::SqliteStore::connect(url, options).await?)),
        None => Err(StoreError::Other(
            "unsupported database URL: expected postgres://, postgresql:// or sqlite://".into(),
        )),
    }
}

/// The newest schema version (migration) this version of Hypnos has for SQLite.
pub fn newest_sqlite_migration() -> i64 {
    sqlite::SqliteStore::newest_migration()
}

/// The SQLite URL of the database file `hypnos.db` in `data_dir`, created on first use:
/// `sqlite://./hypnos-data/hypnos.db?mode=rwc` for `./hypnos-data`.
///
/// Characters that a URL would misread (`%`, `?`, `#`) are percent-encoded; a path that is not
/// UTF-8 is converted lossily.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    let path = data_dir.join("hypnos.db");
    let mut encoded = String::new();
    for character in path.to_string_lossy().chars() {
        match character {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            other => encoded.push(other),
        }
    }
    format!("sqlite://{encoded}?mode=rwc")
}

/// The database families the store supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }
}

/// The `name` of an account's personal organization: the account id without its `acct_`-style
/// prefix.
fn personal_org_name(account_id: &str) -> &str {
    match account_id.split_once('_') {
        Some((_, rest)) if !rest.is_empty() => rest,
        _ => account_id,
    }
}

/// The `display_name` of every personal organization.
const PERSONAL_ORG_DISPLAY_NAME: &str = "Personal workspace";

/// The storage rule an organization starts with (insomnia-wire.md §5).
pub const DEFAULT_STORAGE_RULE: &str = "cloud_plus_local";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(
            Backend::of_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::of_url("sqlite://./x.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("mysql://h/db"), None);
        assert_eq!(Backend::of_url("hypnos.db"), None);
    }

    #[test]
    fn default_sqlite_url_is_the_documented_one() {
        assert_eq!(
            default_sqlite_url(Path::new("./hypnos-data")),
            "sqlite://./hypnos-data/hypnos.db?mode=rwc"
        );
        assert_eq!(
            default_sqlite_url(Path::new("/d/a?b#c%")),
            "sqlite:///d/a%3Fb%23c%25/hypnos.db?mode=rwc"
        );
    }

    #[test]
    fn personal_org_name_drops_the_prefix() {
        assert_eq!(personal_org_name("acct_0123abcd"), "0123abcd");
        assert_eq!(personal_org_name("plain"), "plain");
        assert_eq!(personal_org_name("acct_"), "acct_");
    }
}
