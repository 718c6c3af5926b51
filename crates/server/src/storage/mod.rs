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

pub mod model;
mod postgres;
// -- rate limits (issue 12): counters every server process on the database shares --
mod rate_limits;
mod readiness;
mod rows;
mod shared_sql;
mod sqlite;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use model::{
    Account, AuditEvent, Blob, Branch, ChangeCredentials, HASH_LEN, Invitation, InvitationKey,
    InvitationView, KeyGap, LoginAttempt, Member, Membership, NewAccount, NewProjectKey,
    NewSession, NewTeam, Organization, OrganizationKind, Project, ProjectKey, ResetAccount, Role,
    SecretHash, Session, Snapshot, TeamProject, Vault, VaultVerification,
};
pub use rate_limits::{Counter, MAX_CHAIN, OverLimit, RateLimitStore};

/// What can go wrong in the store. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the operation needs does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or an expected value did not hold; the label says which (`"email"`,
    /// `"credentials"`, …). Nothing was changed.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The database cannot be reached or is overloaded; retrying later may work (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a corrupt row, a failed migration.
    #[error("storage error: {0}")]
    Other(String),
}

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
    fn account(account_id: &'a str) -> Self {
        Self {
            organization_id: None,
            account_id: Some(account_id),
        }
    }

    /// Acting for an account in one organization.
    fn both(organization_id: &'a str, account_id: &'a str) -> Self {
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
/// [`TenantStore`], synced projects in [`SyncStore`]. Implemented once per database backend.
#[async_trait]
pub trait Store:
    TenantStore + SyncStore + VaultStore + RateLimitStore + SignupStore + Send + Sync
{
    /// `Ok` when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    // -- readiness (issue 12, faults) --
    /// `Ok` when a write can succeed now: a probe through the writing connection (and on
    /// SQLite, room on the database's disk), rerun at most every two seconds.
    /// `Unavailable(reason)` otherwise, the reason a short sentence safe to show anyone.
    async fn check_writable(&self) -> Result<(), StoreError>;

    /// Creates an account, its personal organization and its owner membership in one
    /// transaction. A taken e-mail gives `Conflict("email")` and writes nothing.
    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError>;

    /// The account with this (already sanitized) e-mail address.
    async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError>;

    /// The account with this id.
    async fn account_by_id(&self, account_id: &str) -> Result<Option<Account>, StoreError>;

    /// Changes the verifier, encrypted symmetric key, e-mail and optionally the names, but only
    /// if the stored verifier and encrypted symmetric key still equal the expected ones
    /// (otherwise `Conflict("credentials")`), then deletes every other session and every pending
    /// log-in attempt of the account; one transaction. A taken e-mail gives `Conflict("email")`;
    /// an unknown account `NotFound`.
    async fn change_credentials(&self, change: ChangeCredentials) -> Result<Account, StoreError>;

    /// Replaces the account's salts, verifier and key pair, and deletes its sessions, pending
    /// log-in attempts, reset tokens, project keys and the keys of invitations addressed to it;
    /// memberships stay. One transaction. An unknown account gives `NotFound`.
    async fn reset_account(&self, reset: ResetAccount) -> Result<Account, StoreError>;

    /// Deletes the account with its personal organization (and everything in it), the team
    /// organizations it owns that have no other member, its memberships, keys, sessions,
    /// log-in attempts, reset tokens and invitations. One transaction. If it owns a team
    /// organization with other members: `Conflict("owns a team with other members")` and nothing
    /// changes. An unknown account gives `NotFound`.
    async fn delete_account(&self, account_id: &str) -> Result<(), StoreError>;

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
    async fn delete_sessions_of(&self, account_id: &str) -> Result<u64, StoreError>;

    /// Stores the state of a started SRP log-in. A reused id gives `Conflict("login attempt")`.
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
        account_id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError>;

    /// Consumes a reset token: `true` (and the token is gone) if it exists, belongs to this
    /// account and has not expired; `false` otherwise.
    async fn take_reset_token(
        &self,
        token_hash: &SecretHash,
        account_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Appends a security event (failed log-in, reset, …). `details` must not hold secrets.
    async fn record_security_event(
        &self,
        kind: &str,
        account_id: Option<&str>,
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

/// An account's vault key (insomnia-wire.md §5.1): its SRP salt and verifier, and the pending
/// verifications of it. Each method acts for one account, in that account's [`Scope`];
/// `shared_sql.rs` implements this trait for both backends. The vault goes with the account
/// (deletion); a passphrase change or an account reset keeps it.
#[async_trait]
pub trait VaultStore: Send + Sync {
    /// The account's vault, if it has one.
    async fn vault(&self, account_id: &str) -> Result<Option<Vault>, StoreError>;

    /// Stores the account's first vault (`created_at` = `updated_at` = the vault's
    /// `updated_at`). If it has one already: `Conflict(VAULT_EXISTS)` and nothing changes; an
    /// unknown account gives `NotFound`.
    async fn create_vault(&self, vault: Vault) -> Result<(), StoreError>;

    /// Stores the account's vault, replacing the one it has (keeping its `created_at`), and
    /// deletes the account's pending vault verifications, in one transaction. An unknown account
    /// gives `NotFound`.
    async fn reset_vault(&self, vault: Vault) -> Result<(), StoreError>;

    /// Stores a started verification, but only while the account's vault still has `verifier`
    /// (the one the proofs were computed against); otherwise `Conflict(VAULT_CHANGED)` and
    /// nothing is written. A reused id gives `Conflict("vault verification")`.
    async fn put_vault_verification(
        &self,
        verification: VaultVerification,
        verifier: &str,
    ) -> Result<(), StoreError>;

    /// Removes and returns the account's verification with this id, atomically: of two
    /// concurrent takes at most one gets it. `None` if it does not exist, belongs to another
    /// account (which leaves it in place) or has expired.
    async fn take_vault_verification(
        &self,
        id: &str,
        account_id: &str,
        now_ms: i64,
    ) -> Result<Option<VaultVerification>, StoreError>;
}

// -- sign-up links and invitation rights (issue 12, "Tenants and roles") --

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
/// `shared_sql.rs` implements this trait for both backends.
#[async_trait]
pub trait SignupStore: Send + Sync {
    /// Stores a new token, and deletes the expired ones (tokens are few: this keeps the table
    /// small without a purge of its own). A reused hash gives `Conflict("signup token")`.
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

/// Whether a member with role `inviter` may invite at role `offered`: its role must allow
/// inviting at all ([`crate::permissions::Permission::CreateInvitation`]), nobody is invited as
/// owner, and nobody offers a role above its own. Checked when inviting and again when the
/// invitation is accepted; removing, demoting or the leaving of the inviter deletes the
/// invitations this no longer allows.
pub fn may_invite(inviter: Role, offered: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Owner => 2,
        Role::Admin => 1,
        Role::Member => 0,
    };
    crate::permissions::allows(inviter, crate::permissions::Permission::CreateInvitation)
        && offered != Role::Owner
        && rank(offered) <= rank(inviter)
}

/// The conflict label when an invitation is accepted after its inviter lost the right to make
/// it (no longer a member, or a role that may not invite at the invitation's role).
pub const INVITER_LOST_RIGHTS: &str = "the inviter may no longer invite at this role";

/// Synced projects: their keys, branches, snapshots and blobs (insomnia-wire.md §4). Every
/// method but [`SyncStore::project_of`] acts in the organization it is given, which the caller
/// took from [`SyncStore::project_of`] (the caller's membership); `shared_sql.rs` implements this
/// trait for both backends.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// The project and the account's role in its organization, if the account is a member of
    /// it. `None` for an unknown project and for a non-member alike.
    async fn project_of(
        &self,
        account_id: &str,
        project_id: &str,
    ) -> Result<Option<(Project, Role)>, StoreError>;

    /// The organization's projects, oldest first; only those under `team_project_id` if given.
    async fn projects_in(
        &self,
        organization_id: &str,
        team_project_id: Option<&str>,
    ) -> Result<Vec<Project>, StoreError>;

    /// Creates a project with a key for every member, with the audit event, in one transaction.
    /// The keys must name exactly the organization's current members (else
    /// `Conflict(KEYS_MISMATCH)`). The same project again in the same organization returns the
    /// stored one and writes nothing; its id in another organization gives `Conflict(_)`; an
    /// unknown team project `Conflict("reference")`.
    async fn create_project(
        &self,
        project: Project,
        keys: Vec<NewProjectKey>,
        event: AuditEvent,
    ) -> Result<Project, StoreError>;

    /// The account's key for the project, if it has one.
    async fn project_key(
        &self,
        organization_id: &str,
        project_id: &str,
        account_id: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Every member of the organization with its public key (JWK JSON), by account id.
    async fn member_public_keys(
        &self,
        organization_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Deletes the project with its keys, branches, snapshots and blobs, with the audit event.
    /// `NotFound` if the organization has no such project.
    async fn archive_project(
        &self,
        organization_id: &str,
        project_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The project's branch names, sorted.
    async fn branch_names(
        &self,
        organization_id: &str,
        project_id: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// One branch with its snapshot ids, oldest first.
    async fn branch(
        &self,
        organization_id: &str,
        project_id: &str,
        name: &str,
    ) -> Result<Option<Branch>, StoreError>;

    /// Deletes a branch (its snapshots stay: other branches may share them). `NotFound` if there
    /// is none with this name.
    async fn remove_branch(
        &self,
        organization_id: &str,
        project_id: &str,
        name: &str,
    ) -> Result<(), StoreError>;

    /// The project's snapshots with these ids, in the order asked; unknown ids are left out.
    async fn snapshots(
        &self,
        organization_id: &str,
        project_id: &str,
        ids: &[String],
    ) -> Result<Vec<Snapshot>, StoreError>;

    /// Appends `snapshots` (checked by the caller: ids recomputed, parents chained) to the branch,
    /// creating it if it is new, in one transaction. The first snapshot's parent must be the
    /// branch's tip (40 zeros for a new or empty branch), else `Conflict(NOT_FAST_FORWARD)`; of
    /// two pushes racing on one branch exactly one gets through and the other gets that. Every id
    /// in `blob_ids` must be a stored blob of the project, else `Conflict(MISSING_BLOBS)`.
    /// Nothing is written on any error.
    async fn push_snapshots(
        &self,
        organization_id: &str,
        project_id: &str,
        branch: &str,
        snapshots: Vec<Snapshot>,
        blob_ids: Vec<String>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Which of these blob ids the project lacks, in the order asked.
    async fn blobs_missing(
        &self,
        organization_id: &str,
        project_id: &str,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError>;

    /// Stores blobs; one the project has already is left as it is. Returns how many were new.
    async fn create_blobs(
        &self,
        organization_id: &str,
        project_id: &str,
        blobs: Vec<Blob>,
    ) -> Result<u64, StoreError>;

    /// The project's blobs with these ids, in the order asked; unknown ids are left out.
    async fn blobs(
        &self,
        organization_id: &str,
        project_id: &str,
        ids: &[String],
    ) -> Result<Vec<Blob>, StoreError>;

    // -- issue 12 (graphql): sizes before loading, authors in one query --

    /// The project's blobs with these ids, in the order asked (unknown ids left out), or `None`
    /// when their stored size passes `max_bytes`: then no content is loaded. One transaction,
    /// so a pull's batch costs one round of the database's begin and commit, not two.
    async fn blobs_within(
        &self,
        organization_id: &str,
        project_id: &str,
        ids: &[String],
        max_bytes: u64,
    ) -> Result<Option<Vec<Blob>>, StoreError>;

    /// The total length of the stored states of the project's snapshots with these ids (each
    /// id once), read without loading them.
    async fn snapshots_size(
        &self,
        organization_id: &str,
        project_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError>;

    /// Names and e-mails of those of `account_ids` who are members of the organization now;
    /// anyone else (a former member, an unknown id) is left out.
    async fn member_authors(
        &self,
        organization_id: &str,
        account_ids: &[String],
    ) -> Result<Vec<SnapshotAuthor>, StoreError>;

    /// The projects filed under a team project in every organization the account belongs to
    /// (`GET /v1/user/files`), acting for the account: by organization, then oldest first; at
    /// most `limit` of them.
    async fn filed_projects_of(
        &self,
        account_id: &str,
        limit: u32,
    ) -> Result<Vec<Project>, StoreError>;
}

/// A snapshot author's details, as `authorAccount` shows them to the author's teammates.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SnapshotAuthor {
    /// The account id.
    pub account_id: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// E-mail address.
    pub email: String,
}

/// The organizations' part of the storage: memberships, teams, members, team projects,
/// invitations, project keys and the audit log. Every method's transaction begins in the
/// [`Scope`] of the organization (or account) it names, so on PostgreSQL row-level security
/// confines it. Both backends run the same SQL: `shared_sql.rs` implements this trait for each.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Every organization the account belongs to, with its role: the personal organization
    /// first, then the teams, oldest first.
    async fn memberships_of(&self, account_id: &str) -> Result<Vec<Membership>, StoreError>;

    /// The account's membership of one organization; `None` if it is not a member (or the
    /// organization does not exist: the two are not told apart).
    async fn membership(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> Result<Option<Membership>, StoreError>;

    /// Creates a team organization with its owner's membership and the audit event, in one
    /// transaction.
    async fn create_team(
        &self,
        new: NewTeam,
        event: AuditEvent,
    ) -> Result<Organization, StoreError>;

    /// Deletes a team organization and everything it holds (members, invitations, projects,
    /// keys, sync data, audit log) in one transaction. A personal organization gives
    /// `Conflict(PERSONAL_ORGANIZATION)` and stays; an unknown one `NotFound`.
    async fn delete_team(&self, organization_id: &str) -> Result<(), StoreError>;

    /// Sets the organization's storage rule and records the audit event, in one transaction.
    async fn set_storage_rule(
        &self,
        organization_id: &str,
        rule: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's audit log, newest first: at most `limit` events from before
    /// `before_ms` (exclusive).
    async fn audit_events(
        &self,
        organization_id: &str,
        before_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// One page of an organization's members, ordered by e-mail, and how many match in all.
    /// `email_contains` keeps those whose e-mail contains it (case-insensitive).
    async fn members(
        &self,
        organization_id: &str,
        email_contains: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Member>, u64), StoreError>;

    /// Changes a member's role, with the audit event, in one transaction. `NotFound` if the
    /// account is not a member; `Conflict(OWNER_STAYS)` if it is the owner or `role` is
    /// [`Role::Owner`] (an organization has one owner).
    /// The pending invitations the member made that `role` may no longer make ([`may_invite`])
    /// go in the same transaction.
    async fn set_member_role(
        &self,
        organization_id: &str,
        account_id: &str,
        role: Role,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Removes a member with its project keys, any invitation to it in this organization and
    /// the pending invitations it made there, and records the audit event, in one transaction.
    /// `NotFound` if it is not a member; `Conflict(OWNER_STAYS)` for the owner.
    async fn remove_member(
        &self,
        organization_id: &str,
        account_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's team projects, oldest first.
    async fn team_projects(&self, organization_id: &str) -> Result<Vec<TeamProject>, StoreError>;

    /// Creates a team project and records the audit event, in one transaction.
    async fn create_team_project(
        &self,
        project: TeamProject,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Renames a team project of the organization and records the audit event. `NotFound` if
    /// the organization has no such team project.
    async fn rename_team_project(
        &self,
        organization_id: &str,
        team_project_id: &str,
        name: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Deletes a team project of the organization with the synced projects in it (their keys,
    /// branches, snapshots and blobs), and records the audit event, in one transaction.
    /// `NotFound` if the organization has no such team project.
    async fn delete_team_project(
        &self,
        organization_id: &str,
        team_project_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Invites an account, with the project keys the inviter encrypted to it, and records the
    /// audit event, in one transaction. `Conflict(ALREADY_MEMBER)` if the invitee belongs to the
    /// organization, `Conflict(ALREADY_INVITED)` if a live invitation to it exists (an expired
    /// one is replaced), `Conflict(KEY_NOT_SHAREABLE)` if a key names a project that is not the
    /// organization's or that the inviter holds no key for. Nothing is written on a conflict.
    async fn create_invitation(
        &self,
        invitation: Invitation,
        keys: Vec<InvitationKey>,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's invitations that have not expired, oldest first.
    async fn invitations_of(
        &self,
        organization_id: &str,
        now_ms: i64,
    ) -> Result<Vec<InvitationView>, StoreError>;

    /// The invitations addressed to the account that have not expired, oldest first.
    async fn invitations_for(
        &self,
        account_id: &str,
        now_ms: i64,
    ) -> Result<Vec<InvitationView>, StoreError>;

    /// Changes the role a live invitation of the organization offers, with the audit event.
    /// `NotFound` if there is none with this id.
    async fn set_invitation_role(
        &self,
        organization_id: &str,
        invitation_id: &str,
        role: Role,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Withdraws an invitation of the organization (and the keys it holds), with the audit
    /// event. `NotFound` if there is none with this id.
    async fn delete_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The invitee accepts: it becomes a member with the invited role, the invitation's keys
    /// become its project keys (for the projects that still exist), and the invitation goes, in
    /// one transaction with the audit event (its organization filled in here).
    /// Returns the organization joined. `NotFound` unless the invitation is addressed to the
    /// account and live.
    /// If its inviter is no longer a member allowed to invite at its role ([`may_invite`]),
    /// the invitation is deleted instead and the answer is `Conflict(INVITER_LOST_RIGHTS)`.
    async fn accept_invitation(
        &self,
        account_id: &str,
        invitation_id: &str,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<String, StoreError>;

    /// The invitee declines: the invitation and its keys go, with the audit event (its
    /// organization filled in here). `NotFound` unless it is addressed to the account and live.
    async fn decline_invitation(
        &self,
        account_id: &str,
        invitation_id: &str,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The account's project keys in the organization, and for each of those projects the
    /// members that lack a key for it, with their public keys.
    async fn my_project_keys(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> Result<(Vec<ProjectKey>, Vec<KeyGap>), StoreError>;

    /// Stores project keys one member encrypted for others, in one transaction with the audit
    /// event: every key must name a project of the organization that `sharer_account_id` holds a
    /// key for, and a member of the organization (else `Conflict(KEY_NOT_SHAREABLE)` and nothing
    /// is written). A key that exists already is left as it is. Returns how many were new.
    async fn reconcile_keys(
        &self,
        organization_id: &str,
        sharer_account_id: &str,
        keys: Vec<ProjectKey>,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<u64, StoreError>;

    // -- client survives a hostile server: key repair (issue 12) --
    /// [`TenantStore::reconcile_keys`], but a key the member holds already is replaced (the
    /// repair of a wrong key a member planted; the caller checks the sharer is an owner or
    /// admin). Returns how many keys were stored.
    async fn replace_project_keys(
        &self,
        organization_id: &str,
        sharer_account_id: &str,
        keys: Vec<ProjectKey>,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<u64, StoreError>;

    /// One page of the organization's collaborators, and how many match in all: its members
    /// (by e-mail), then, if `with_invitations`, its invitations (by e-mail), expired ones
    /// included (they stay until replaced, withdrawn or renewed). `filter` keeps the members
    /// whose e-mail or first and last name contain it and the invitations whose invitee's
    /// e-mail does (case-insensitive).
    async fn collaborators(
        &self,
        organization_id: &str,
        filter: Option<&str>,
        with_invitations: bool,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Collaborator>, u64), StoreError>;

    /// [`TenantStore::create_invitation`] for several invitees of one organization, each with
    /// its keys and audit event, all in one transaction: the first conflict (any of
    /// `create_invitation`'s) leaves nothing written.
    async fn create_invitations(
        &self,
        organization_id: &str,
        invitations: Vec<(Invitation, Vec<InvitationKey>, AuditEvent)>,
    ) -> Result<(), StoreError>;

    /// Sets when an invitation of the organization expires (a renewed, even an expired, one
    /// can be accepted again until then), with the audit event. `NotFound` if there is none
    /// with this id.
    async fn renew_invitation(
        &self,
        organization_id: &str,
        invitation_id: &str,
        expires_at: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// One page of the organizations the account belongs to, as the newest app's spaces, with
    /// each one's owner and counts, in one query (acting for the account): at most
    /// `query.limit` of them, in the direction of travel, i.e. those after `query.from` in
    /// `query.order`, or with `query.backwards` those before it, nearest first.
    async fn spaces_of(&self, query: SpaceQuery<'_>) -> Result<Vec<SpaceEntry>, StoreError>;
}

/// Whether a [`Collaborator`] is a member or an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollaboratorKind {
    /// A member of the organization.
    Member,
    /// An invitation to it.
    Invitation,
}

/// A member or an invitation of an organization, as the newest app's collaborator list shows
/// them side by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collaborator {
    /// Which of the two.
    pub kind: CollaboratorKind,
    /// The member's account id, or the invitation's id.
    pub id: String,
    /// The member's or the invitee's e-mail.
    pub email: String,
    /// The member's first name (empty for an invitation).
    pub first_name: String,
    /// The member's last name (empty for an invitation).
    pub last_name: String,
    /// The member's role, or the role the invitation offers.
    pub role: Role,
    /// When the member joined or the invitation was made.
    pub created_at: i64,
    /// When the invitation expires (`None` for a member).
    pub expires_at: Option<i64>,
}

/// The orders of the newest app's space list ([`TenantStore::spaces_of`]); each ends on the
/// organization id, so every order is total and a page boundary is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceOrder {
    /// As `/v1/organizations` lists them: the personal organization first, then the teams,
    /// oldest first.
    Default,
    /// By creation time, oldest first (newest first when descending).
    CreatedAt {
        /// Newest first.
        descending: bool,
    },
    /// By the name shown (the database's collation), then id.
    Name {
        /// Z to A.
        descending: bool,
    },
}

impl SpaceOrder {
    /// Where `entry` stands in this order.
    pub fn key_of(self, entry: &SpaceEntry) -> SpaceKey {
        let organization = &entry.organization;
        match self {
            SpaceOrder::Default => SpaceKey::Default {
                personal: organization.kind == OrganizationKind::Personal,
                created_at: organization.created_at,
                id: organization.id.clone(),
            },
            SpaceOrder::CreatedAt { .. } => SpaceKey::CreatedAt {
                created_at: organization.created_at,
                id: organization.id.clone(),
            },
            SpaceOrder::Name { .. } => SpaceKey::Name {
                name: organization.display_name.clone(),
                id: organization.id.clone(),
            },
        }
    }
}

/// A position in a [`SpaceOrder`]: the sort key of one space, of the order's own variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpaceKey {
    /// In [`SpaceOrder::Default`].
    Default {
        /// A personal organization (they come first).
        personal: bool,
        /// Its creation time.
        created_at: i64,
        /// Its id.
        id: String,
    },
    /// In [`SpaceOrder::CreatedAt`].
    CreatedAt {
        /// Its creation time.
        created_at: i64,
        /// Its id.
        id: String,
    },
    /// In [`SpaceOrder::Name`].
    Name {
        /// The name shown.
        name: String,
        /// Its id.
        id: String,
    },
}

/// What [`TenantStore::spaces_of`] reads.
#[derive(Clone, Copy, Debug)]
pub struct SpaceQuery<'a> {
    /// The member.
    pub account_id: &'a str,
    /// The order.
    pub order: SpaceOrder,
    /// Keeps the spaces whose shown name contains this (case-insensitive for ASCII on SQLite,
    /// for all of Unicode on PostgreSQL).
    pub name_contains: Option<&'a str>,
    /// Starts after this position (before it, with `backwards`); from the start when `None`.
    /// A key of another order than `order` is refused with `StoreError::Other`.
    pub from: Option<&'a SpaceKey>,
    /// Travels towards the start of the order.
    pub backwards: bool,
    /// The most spaces returned.
    pub limit: u32,
    /// Now: invitations that expired by then are not pending.
    pub now_ms: i64,
}

/// One space: the organization, the account's role there, its owner and its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceEntry {
    /// The organization.
    pub organization: Organization,
    /// The account's role in it.
    pub role: Role,
    /// The owner's first name.
    pub owner_first_name: String,
    /// The owner's last name.
    pub owner_last_name: String,
    /// The owner's e-mail.
    pub owner_email: String,
    /// Its members.
    pub total_members: u64,
    /// Its owner and admins.
    pub total_admins: u64,
    /// Its invitations that have not expired, counted only where the account is an owner or
    /// admin (`read:invitation`); 0 elsewhere.
    pub total_invites: u64,
}

/// A row of [`TenantStore::spaces_of`]'s query.
#[derive(sqlx::FromRow)]
struct SpaceRow {
    #[sqlx(flatten)]
    membership: rows::MembershipRow,
    owner_first_name: String,
    owner_last_name: String,
    owner_email: String,
    member_count: i64,
    admin_count: i64,
    invite_count: i64,
}

impl TryFrom<SpaceRow> for SpaceEntry {
    type Error = StoreError;

    fn try_from(row: SpaceRow) -> Result<Self, StoreError> {
        let Membership { organization, role } = row.membership.try_into()?;
        let count = |value: i64| {
            u64::try_from(value).map_err(|_| {
                StoreError::Other(format!(
                    "organization {} has a negative count",
                    organization.id
                ))
            })
        };
        Ok(Self {
            total_members: count(row.member_count)?,
            total_admins: count(row.admin_count)?,
            total_invites: count(row.invite_count)?,
            organization,
            role,
            owner_first_name: row.owner_first_name,
            owner_last_name: row.owner_last_name,
            owner_email: row.owner_email,
        })
    }
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

/// The conflict label when a personal organization is asked to go the way of a team.
pub const PERSONAL_ORGANIZATION: &str = "personal organization";

/// The conflict label when a change would take an organization's owner away.
pub const OWNER_STAYS: &str = "the owner stays";

/// The conflict label when the invitee already belongs to the organization.
pub const ALREADY_MEMBER: &str = "already a member";

/// The conflict label when a live invitation to the same account exists.
pub const ALREADY_INVITED: &str = "already invited";

/// The conflict label when a key names a project the sharer cannot share, or a non-member.
pub const KEY_NOT_SHAREABLE: &str = "key not shareable";

/// The conflict label when a new project's keys do not name exactly the organization's members.
pub const KEYS_MISMATCH: &str = "keys do not match the members";

/// The conflict label when a push does not continue its branch's tip.
pub const NOT_FAST_FORWARD: &str = "not a fast-forward";

/// The conflict label when a pushed snapshot names a blob the project lacks.
pub const MISSING_BLOBS: &str = "missing blobs";

/// The conflict label when an account that has a vault key asks to create one.
pub const VAULT_EXISTS: &str = "vault exists";

/// The conflict label when the vault key changed during a verification.
pub const VAULT_CHANGED: &str = "vault changed";

/// The conflict label when an account owns a team that others still belong to.
const OWNS_SHARED_TEAM: &str = "owns a team with other members";

/// Maps the errors that do not come from the database server itself (pool, network, decoding).
/// Each backend maps its database errors first and hands the rest here.
fn map_non_database_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("the database connection worker crashed".into())
        }
        sqlx::Error::Io(io) => StoreError::Unavailable(format!("database I/O error: {io}")),
        sqlx::Error::Tls(_) => StoreError::Unavailable("TLS error talking to the database".into()),
        sqlx::Error::Protocol(message) => {
            StoreError::Unavailable(format!("database protocol error: {message}"))
        }
        // The URL may hold a password: do not repeat it.
        sqlx::Error::Configuration(_) => StoreError::Other("invalid database URL".into()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Maps a migration failure, keeping "the database is down" apart from "the migration is bad".
fn map_migrate_error(
    error: sqlx::migrate::MigrateError,
    map_error: fn(sqlx::Error) -> StoreError,
) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(inner) => match map_error(inner) {
            unavailable @ StoreError::Unavailable(_) => unavailable,
            other => StoreError::Other(format!("migration failed: {other}")),
        },
        other => StoreError::Other(format!("migration failed: {other}")),
    }
}

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
