//! The storage layer's domain types: plain structs, no serde, no database types.
//!
//! Times are unix milliseconds (`i64`) chosen by the caller; ids are opaque strings, typed for
//! organizations, projects and accounts ([`super::ids`]). Values that help an attacker (SRP
//! verifiers and proofs, session-key hashes) are kept out of `Debug`.

use std::fmt;

use super::ids::{AccountId, OrgId, ProjectId};

/// The length of a SHA-256 digest: how session ids and reset tokens are stored.
pub const HASH_LEN: usize = 32;

/// A SHA-256 digest of a secret the server hands out (a session id, a reset token).
pub type SecretHash = [u8; HASH_LEN];

/// An account as stored: identity, SRP parameters and the encrypted key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// The account id (`acct_…`).
    pub id: AccountId,
    /// The e-mail address, already trimmed and lowercased.
    pub email: String,
    /// First name, as the user typed it.
    pub first_name: String,
    /// Last name, as the user typed it.
    pub last_name: String,
    /// The salt for deriving the key-encryption key (hex).
    pub salt_key: String,
    /// The salt for deriving the SRP secret (hex).
    pub salt_auth: String,
    /// The vault / encryption salt (hex).
    pub salt_enc: String,
    /// The SRP verifier (hex).
    pub verifier: String,
    /// The account's RSA public key (JWK JSON).
    pub public_key: String,
    /// The account's RSA private key, encrypted with its symmetric key (AES message JSON).
    pub enc_private_key: String,
    /// The account's symmetric key, encrypted with the passphrase-derived key (AES message JSON).
    pub enc_symmetric_key: String,
    /// When the account was created.
    pub created_at: i64,
    /// When the account's credentials or profile last changed.
    pub updated_at: i64,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Everything needed to sign up: the account as it will be stored (created and last changed at
/// its `created_at`) and the id of its personal organization, made with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    /// The new account.
    pub account: Account,
    /// The id of the personal organization created with the account.
    pub personal_org_id: OrgId,
}

/// A passphrase change (and optionally a new e-mail or name), guarded by the current values.
#[derive(Clone, PartialEq, Eq)]
pub struct ChangeCredentials {
    /// The account that changes its passphrase.
    pub account_id: AccountId,
    /// The verifier the caller believes is stored (proof of the current passphrase).
    pub expected_verifier: String,
    /// The encrypted symmetric key the caller believes is stored (optimistic concurrency).
    pub expected_enc_symmetric_key: String,
    /// The e-mail address afterwards (may equal the current one), trimmed and lowercased.
    pub new_email: String,
    /// A new first name, or `None` to keep it.
    pub new_first_name: Option<String>,
    /// A new last name, or `None` to keep it.
    pub new_last_name: Option<String>,
    /// The new SRP verifier.
    pub new_verifier: String,
    /// The symmetric key re-encrypted with the new passphrase-derived key.
    pub new_enc_symmetric_key: String,
    /// The session that made the change: every other session of the account is revoked.
    pub keep_session_hash: SecretHash,
    /// The current time.
    pub now_ms: i64,
}

impl fmt::Debug for ChangeCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeCredentials")
            .field("account_id", &self.account_id)
            .field("new_email", &self.new_email)
            .finish_non_exhaustive()
    }
}

/// A lost-passphrase reset: new salts, verifier and key pair for an existing account.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetAccount {
    /// The account being reset.
    pub account_id: AccountId,
    /// See [`Account::salt_key`].
    pub salt_key: String,
    /// See [`Account::salt_auth`].
    pub salt_auth: String,
    /// See [`Account::salt_enc`].
    pub salt_enc: String,
    /// See [`Account::verifier`].
    pub verifier: String,
    /// See [`Account::public_key`].
    pub public_key: String,
    /// See [`Account::enc_private_key`].
    pub enc_private_key: String,
    /// See [`Account::enc_symmetric_key`].
    pub enc_symmetric_key: String,
    /// The current time.
    pub now_ms: i64,
}

impl fmt::Debug for ResetAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResetAccount")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

/// The kind of an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrganizationKind {
    /// The one organization every account gets at sign-up.
    Personal,
    /// An organization created to share projects.
    Team,
}

impl OrganizationKind {
    /// The value stored in `organizations.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Personal => "personal",
            Self::Team => "team",
        }
    }

    /// Parses a stored `organizations.kind`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "personal" => Some(Self::Personal),
            "team" => Some(Self::Team),
            _ => None,
        }
    }
}

/// A member's role in an organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Owns the organization (exactly one per organization).
    Owner,
    /// May manage members and projects.
    Admin,
    /// May use the projects shared with it.
    Member,
}

impl Role {
    /// The value stored in `memberships.role` and `invitations.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }

    /// Parses a stored role.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(Self::Owner),
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
}

/// An organization as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// `org_…`.
    pub id: OrgId,
    /// The short name.
    pub name: String,
    /// The name shown.
    pub display_name: String,
    /// Personal (one per account, made at sign-up) or team.
    pub kind: OrganizationKind,
    /// The one owner.
    pub owner_account_id: AccountId,
    /// `cloud_plus_local`, `cloud_only` or `local_only`.
    pub storage_rule: String,
    /// When it was created.
    pub created_at: i64,
}

/// An account's place in an organization: the organization and the account's role there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The organization.
    pub organization: Organization,
    /// The member's role.
    pub role: Role,
}

/// A team organization to create, with its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTeam {
    /// The new organization's id.
    pub id: OrgId,
    /// Its name (also its display name).
    pub name: String,
    /// The account that creates it and becomes its owner.
    pub owner_account_id: AccountId,
    /// The current time.
    pub now_ms: i64,
}

/// A member of an organization, as the member list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's account.
    pub account_id: AccountId,
    /// Its e-mail.
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Its role here.
    pub role: Role,
    /// When it joined.
    pub joined_at: i64,
}

/// A team project: a folder of synced projects in an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamProject {
    /// `proj_…`.
    pub id: String,
    /// The organization it belongs to.
    pub organization_id: OrgId,
    /// Its name.
    pub name: String,
    /// When it was created.
    pub created_at: i64,
}

/// An invitation of an existing account into an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// `inv_…`.
    pub id: String,
    /// The organization invited into.
    pub organization_id: OrgId,
    /// The account invited.
    pub invitee_account_id: AccountId,
    /// The member who invited it.
    pub inviter_account_id: AccountId,
    /// The role it gets on accepting.
    pub role: Role,
    /// When it was made.
    pub created_at: i64,
    /// It cannot be accepted from this time on.
    pub expires_at: i64,
}

/// A project key held with an invitation: the project's key encrypted to the invitee's public
/// key, which becomes the invitee's own project key when it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationKey {
    /// The synced project (`prj_…`).
    pub project_id: ProjectId,
    /// The key, RSA-OAEP-256 encrypted to the invitee (hex).
    pub enc_symmetric_key: String,
    /// The app's `autoLinked` flag, kept as given.
    pub auto_linked: bool,
}

/// An invitation with the names a list shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationView {
    /// The invitation.
    pub invitation: Invitation,
    /// The organization's display name.
    pub organization_name: String,
    /// The inviter's first and last name.
    pub inviter_name: String,
    /// The inviter's e-mail.
    pub inviter_email: String,
    /// The invitee's e-mail.
    pub invitee_email: String,
}

/// A project key: a synced project's key encrypted to one member's public key (a "link").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectKey {
    /// The synced project (`prj_…`).
    pub project_id: ProjectId,
    /// The member it is for.
    pub account_id: AccountId,
    /// The key, RSA-OAEP-256 encrypted to that member (hex).
    pub enc_symmetric_key: String,
}

/// A member without a key for a project that the asking member has a key for: whom the asking
/// member can re-share to (after a reset, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyGap {
    /// The member lacking the key.
    pub account_id: AccountId,
    /// The project.
    pub project_id: ProjectId,
    /// The member's public key (JWK JSON), to encrypt the project key to.
    pub public_key: String,
}

/// A synced project (the app's "backend project", `prj_…`): one workspace's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// `prj_…`, made by the client.
    pub id: ProjectId,
    /// The organization it belongs to.
    pub organization_id: OrgId,
    /// The team project it hangs under, if any.
    pub team_project_id: Option<String>,
    /// The workspace's name.
    pub name: String,
    /// The workspace's id (`wrk_…`).
    pub root_document_id: String,
    /// When it was created.
    pub created_at: i64,
}

/// A member's key for a new project: the project key encrypted to the member's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewProjectKey {
    /// The member.
    pub account_id: AccountId,
    /// The project key, RSA-OAEP-256 encrypted to it (hex).
    pub enc_symmetric_key: String,
    /// The app's `autoLinked` flag, kept as given.
    pub auto_linked: bool,
}

/// A branch: a name and its snapshots, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    /// Its name (lower-case).
    pub name: String,
    /// When it was created.
    pub created_at: i64,
    /// When a push last changed it.
    pub modified_at: i64,
    /// Its snapshots' ids, oldest first; the last is the tip.
    pub snapshots: Vec<String>,
}

/// A snapshot (a commit), as the client made it: the server checks its id, stores it and hands it
/// back unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// `sha1(project ‖ parent ‖ sorted blob ids)`, 40 hex.
    pub id: String,
    /// The previous snapshot's id, or 40 zeros.
    pub parent: String,
    /// When the client made it (ISO date, as the client wrote it).
    pub created: String,
    /// The author's account id.
    pub author: String,
    /// The message.
    pub name: String,
    /// A longer description.
    pub description: String,
    /// The documents: JSON `[{key, blob, name}]`, as the client sent it.
    pub state: String,
}

/// An encrypted, content-addressed document version.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha1(plaintext)`, 40 hex.
    pub id: String,
    /// The AES message (JSON text); the server never decrypts it.
    pub content: String,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blob")
            .field("id", &self.id)
            .field("content_len", &self.content.len())
            .finish()
    }
}

/// One line of an organization's audit log: who did what to what, never key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// The event's id (made by the caller).
    pub id: String,
    /// The organization it belongs to.
    pub organization_id: OrgId,
    /// When.
    pub at: i64,
    /// Who, when an account did it.
    pub actor_account_id: Option<AccountId>,
    /// What, e.g. `organization.created`, `storage_rule.changed`.
    pub action: String,
    /// The id it was done to.
    pub target: String,
    /// A short JSON document with the particulars (never secrets).
    pub details: String,
}

/// A logged-in session. The session id itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the session id.
    pub id_hash: SecretHash,
    /// The account the session belongs to.
    pub account_id: AccountId,
    /// When the session was created.
    pub created_at: i64,
    /// When a use of the session was last recorded (the server records at most one a minute).
    pub last_seen_at: i64,
    /// How far each use pushes `idle_expires_at` forward.
    pub idle_ttl_ms: i64,
    /// The session ends at this time unless it is used before.
    pub idle_expires_at: i64,
    /// The session ends at this time whatever happens.
    pub absolute_expires_at: i64,
}

/// A session to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the session id handed to the client.
    pub id_hash: SecretHash,
    /// The account that logged in.
    pub account_id: AccountId,
    /// The current time.
    pub now_ms: i64,
    /// Idle lifetime: the session ends this long after its last use.
    pub idle_ttl_ms: i64,
    /// Absolute lifetime: the session ends this long after its creation.
    pub absolute_ttl_ms: i64,
}

/// The server's state between the two steps of an SRP log-in.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    /// The `sessionStarterId` handed to the client (random text).
    pub id: String,
    /// The account logging in, or `None` when the e-mail is unknown (a decoy exchange).
    pub account_id: Option<AccountId>,
    /// The e-mail the log-in was started for (known or not): a wrong proof at login-m1 counts
    /// against its brute-force limits.
    pub email: String,
    /// The client proof the server expects.
    pub m1: Vec<u8>,
    /// The server proof to send back.
    pub m2: Vec<u8>,
    /// A hash of the shared SRP session key.
    pub key_hash: Vec<u8>,
    /// When the attempt started.
    pub created_at: i64,
    /// The attempt cannot be completed from this time on.
    pub expires_at: i64,
}

impl fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An account's vault key (insomnia-wire.md §5.1): the SRP salt and verifier of a key the user
/// keeps. The key itself never reaches the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vault {
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The SRP salt as the client sent it (hex).
    pub salt: String,
    /// `PAD(g^x)`, 512 lowercase hex.
    pub verifier: String,
    /// When the account first made a vault key.
    pub created_at: i64,
    /// When it was last made or replaced.
    pub updated_at: i64,
}

/// The server's state between the two steps of a vault key verification: only the proofs (the
/// SRP key K of this exchange is unused).
#[derive(Clone, PartialEq, Eq)]
pub struct VaultVerification {
    /// The `sessionStarterId` handed to the client (random text).
    pub id: String,
    /// The account whose vault key is being proven; no other account can finish it.
    pub account_id: AccountId,
    /// The client proof the server expects.
    pub m1: Vec<u8>,
    /// The server proof to send back.
    pub m2: Vec<u8>,
    /// When the verification started.
    pub created_at: i64,
    /// It cannot be completed from this time on.
    pub expires_at: i64,
}

impl fmt::Debug for VaultVerification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultVerification")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
