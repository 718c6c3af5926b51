//! What an operator sees of the whole server (`hypnos admin accounts`, `hypnos admin orgs`): the
//! [`OperatorStore`] interface; its SQL is `sql/operator.rs`.

use async_trait::async_trait;

use super::StoreError;

/// One account as the operator's list shows it: who, since when, how much it holds open.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountOverview {
    /// `acct_…`.
    pub id: String,
    /// The e-mail it logs in with.
    pub email: String,
    /// First and last name, as the account gave them.
    pub name: String,
    /// When it signed up (milliseconds since the epoch).
    pub created_at: i64,
    /// Its sessions not yet ended (expired ones are swept every minute).
    pub sessions: i64,
    /// The teams it owns.
    pub teams_owned: i64,
}

/// One organization as the operator's list shows it, with the storage it uses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationOverview {
    /// `org_…`.
    pub id: String,
    /// The name shown.
    pub name: String,
    /// `personal` or `team`.
    pub kind: String,
    /// The owner's e-mail.
    pub owner: String,
    /// When it was made (milliseconds since the epoch).
    pub created_at: i64,
    /// Its members, the owner included.
    pub members: i64,
    /// Its synced projects (archived ones are deleted, so not counted).
    pub projects: i64,
    /// Snapshots over all its projects' histories.
    pub snapshots: i64,
    /// Distinct encrypted documents stored (each is stored once per project).
    pub blobs: i64,
    /// Their bytes as stored (ciphertext, base64).
    pub blob_bytes: i64,
}

/// Reads across every tenant, for the operator's commands alone (never a request's handler).
/// On PostgreSQL each organization's counts are read in that organization's scope, so
/// row-level security holds for these reads as for every other.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Every account, oldest first.
    async fn accounts_overview(&self) -> Result<Vec<AccountOverview>, StoreError>;

    /// Every organization with its counts and storage, oldest first.
    async fn organizations_overview(&self) -> Result<Vec<OrganizationOverview>, StoreError>;
}
