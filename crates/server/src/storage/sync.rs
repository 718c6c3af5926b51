//! Synced projects: the [`SyncStore`] interface and its types (its SQL: `sql/sync.rs` and
//! `sql/history.rs`).

use async_trait::async_trait;

use super::StoreError;
use super::ids::{AccountId, OrgId, ProjectId};
use super::model::{AuditEvent, Blob, Branch, NewProjectKey, Project, Role, Snapshot};

/// Synced projects: their keys, branches, snapshots and blobs (insomnia-wire.md §4). Every
/// method but [`SyncStore::project_of`], [`SyncStore::filed_projects_of`] and
/// [`SyncStore::projects_of_account`] (which act for an account) acts in the organization it is
/// given, which the caller took from [`SyncStore::project_of`] (the caller's membership);
/// `sql/sync.rs` and `sql/history.rs` implement this trait for both backends.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// The project and the account's role in its organization, if the account is a member of
    /// it. `None` for an unknown project and for a non-member alike.
    async fn project_of(
        &self,
        account_id: &AccountId,
        project_id: &ProjectId,
    ) -> Result<Option<(Project, Role)>, StoreError>;

    /// The organization's projects, oldest first; only those under `team_project_id` if given.
    async fn projects_in(
        &self,
        organization_id: &OrgId,
        team_project_id: Option<&str>,
    ) -> Result<Vec<Project>, StoreError>;

    /// Creates a project with a key for every member, with the audit event, in one transaction.
    /// The keys must name exactly the organization's current members (else
    /// `Conflict(KeysMismatch)`). The same project again in the same organization returns the
    /// stored one and writes nothing; its id in another organization gives `Conflict(_)`; an
    /// unknown team project `Conflict(Reference)`.
    async fn create_project(
        &self,
        project: Project,
        keys: Vec<NewProjectKey>,
        event: AuditEvent,
    ) -> Result<Project, StoreError>;

    /// The account's key for the project, if it has one.
    async fn project_key(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        account_id: &AccountId,
    ) -> Result<Option<String>, StoreError>;

    /// Every member of the organization with its public key (JWK JSON), by account id.
    async fn member_public_keys(
        &self,
        organization_id: &OrgId,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Deletes the project with its keys, branches, snapshots and blobs, with the audit event.
    /// `NotFound` if the organization has no such project.
    async fn archive_project(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The project's branch names, sorted.
    async fn branch_names(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
    ) -> Result<Vec<String>, StoreError>;

    /// One branch with its snapshot ids, oldest first.
    async fn branch(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        name: &str,
    ) -> Result<Option<Branch>, StoreError>;

    /// Deletes a branch (its snapshots stay: other branches may share them). `NotFound` if there
    /// is none with this name.
    async fn remove_branch(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        name: &str,
    ) -> Result<(), StoreError>;

    /// The project's snapshots with these ids, in the order asked; unknown ids are left out.
    async fn snapshots(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        ids: &[String],
    ) -> Result<Vec<Snapshot>, StoreError>;

    /// Appends `snapshots` (checked by the caller: ids recomputed, parents chained) to the branch,
    /// creating it if it is new, in one transaction. The first snapshot's parent must be the
    /// branch's tip (40 zeros for a new or empty branch), else `Conflict(NotFastForward)`; of
    /// two pushes racing on one branch exactly one gets through and the other gets that. Every id
    /// in `blob_ids` must be a stored blob of the project, else `Conflict(MissingBlobs)`.
    /// Nothing is written on any error.
    async fn push_snapshots(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        branch: &str,
        snapshots: Vec<Snapshot>,
        blob_ids: Vec<String>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Which of these blob ids the project lacks, in the order asked.
    async fn blobs_missing(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError>;

    /// Stores blobs; one the project has already is left as it is. Returns how many were new.
    async fn create_blobs(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        blobs: Vec<Blob>,
    ) -> Result<u64, StoreError>;

    /// The project's blobs with these ids, in the order asked; unknown ids are left out.
    async fn blobs(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        ids: &[String],
    ) -> Result<Vec<Blob>, StoreError>;

    /// The project's blobs with these ids, in the order asked (unknown ids left out), or `None`
    /// when their stored size passes `max_bytes`: then no content is loaded. One transaction,
    /// so a pull's batch costs one round of the database's begin and commit, not two.
    async fn blobs_within(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        ids: &[String],
        max_bytes: u64,
    ) -> Result<Option<Vec<Blob>>, StoreError>;

    /// The total length of the stored states of the project's snapshots with these ids (each
    /// id once), read without loading them.
    async fn snapshots_size(
        &self,
        organization_id: &OrgId,
        project_id: &ProjectId,
        ids: &[String],
    ) -> Result<u64, StoreError>;

    /// Names and e-mails of those of `account_ids` who are members of the organization now;
    /// anyone else (a former member, an unknown id) is left out.
    async fn member_authors(
        &self,
        organization_id: &OrgId,
        account_ids: &[String],
    ) -> Result<Vec<SnapshotAuthor>, StoreError>;

    /// The projects filed under a team project in every organization the account belongs to
    /// (`GET /v1/user/files`), acting for the account: by organization, then oldest first; at
    /// most `limit` of them.
    async fn filed_projects_of(
        &self,
        account_id: &AccountId,
        limit: u32,
    ) -> Result<Vec<Project>, StoreError>;

    /// Every project of every organization the account belongs to, each with the name its
    /// organization is shown by (`display_name`), in one query acting for the account: the
    /// organizations in [`super::TenantStore::memberships_of`]'s order, each one's projects in
    /// [`SyncStore::projects_in`]'s; only those under `team_project_id` if given.
    async fn projects_of_account(
        &self,
        account_id: &AccountId,
        team_project_id: Option<&str>,
    ) -> Result<Vec<(Project, String)>, StoreError>;
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
