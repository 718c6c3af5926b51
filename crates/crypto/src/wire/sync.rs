//! The sync API's GraphQL operations (insomnia-wire.md §4.3), written once for every program that
//! speaks it: each document as the client sends it, the shapes of the `data` it gets back and of
//! the inputs it sends, and the batch sizes the app's protocol implies. Argument and field names
//! are the app's, byte for byte.
//!
//! Documents that select fewer fields of a type than another leave the others out: those fields
//! are `#[serde(default)]` in the one response type both use.

use serde::{Deserialize, Serialize};

/// Blob ids asked for in one `blobs` query (the app's download batch).
pub const BLOBS_PER_QUERY: usize = 50;
/// Snapshot ids asked for in one `snapshots` query (the app's batch).
pub const SNAPSHOTS_PER_QUERY: usize = 20;
/// An upload batch (`blobsCreate`) closes at this many blobs…
pub const UPLOAD_BLOBS: usize = 200;
/// …or before its sealed contents pass this many bytes.
pub const UPLOAD_BYTES: usize = 2 * 1024 * 1024;

/// `project(id)`: one project, or `null`. Answer: [`ProjectData`].
pub const PROJECT: &str = "query ($id: ID!) { project(id: $id) { id name rootDocumentId } }";

/// `projects(teamId)`: an organization's projects (every organization's without `teamId`).
/// Answer: [`ProjectsData`].
pub const PROJECTS: &str =
    "query ($teamId: ID) { projects(teamId: $teamId) { id name rootDocumentId } }";

/// `teamMemberKeys(teamId)`: every member's public key. Answer: [`TeamMemberKeysData`].
pub const TEAM_MEMBER_KEYS: &str = "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey autoLinked } } }";

/// `projectCreate`: a project with its key encrypted to each member ([`ProjectCreateKeyInput`]).
pub const PROJECT_CREATE: &str = "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!], $teamProjectId: ID) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys, teamProjectId: $teamProjectId) { id } }";

/// `projectKey(projectId)`: the project's key encrypted to the caller. Answer:
/// [`ProjectKeyData`].
pub const PROJECT_KEY: &str =
    "query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }";

/// `branches(project)`: a project's branch names. Answer: [`BranchesData`].
pub const BRANCHES: &str = "query ($project: ID!) { branches(project: $project) { name } }";

/// `branch(project, name)`: a branch's snapshot ids, oldest first. Answer: [`BranchData`].
pub const BRANCH: &str = "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }";

/// `snapshots(ids, project)` for syncing: parents and states. Answer: [`SnapshotsData`].
pub const SNAPSHOTS: &str = "query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { id parent state { blob key name } } }";

/// `snapshots(ids, project)` for a branch's log: when, by whom, the message and the document
/// keys. Answer: [`SnapshotsData`].
pub const SNAPSHOT_LOG: &str = "query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { id created name authorAccount { email } state { key } } }";

/// `blobs(ids, project)`: sealed blob contents. Answer: [`BlobsData`].
pub const BLOBS: &str =
    "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }";

/// `blobsMissing(project, ids)`: which of these blobs the server lacks. Answer:
/// [`BlobsMissingData`].
pub const BLOBS_MISSING: &str = "query ($project: ID!, $ids: [ID!]!) { blobsMissing(project: $project, ids: $ids) { missing } }";

/// `blobsCreate(project, blobs)`: uploads a batch of [`BlobInput`]s.
pub const BLOBS_CREATE: &str = "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }";

/// `snapshotsCreate(project, snapshots, branch)`: appends [`SnapshotInput`]s to a branch.
pub const SNAPSHOTS_CREATE: &str = "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id } }";

/// A backend project (one synced workspace).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// `prj_…`.
    pub id: String,
    /// The workspace's name.
    pub name: String,
    /// The workspace's `_id`.
    pub root_document_id: String,
}

/// The answer to [`PROJECT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectData {
    /// The project, if the caller may see it.
    pub project: Option<Project>,
}

/// The answer to [`PROJECTS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectsData {
    /// The projects.
    pub projects: Vec<Project>,
}

/// One member's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberKey {
    /// The member's account id.
    pub account_id: String,
    /// The member's RSA public key, JWK JSON.
    pub public_key: String,
    /// Whether the app links the member to new projects by itself.
    pub auto_linked: bool,
}

/// `teamMemberKeys`' object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeamMemberKeys {
    /// Every member's key, the caller's included.
    pub member_keys: Vec<MemberKey>,
}

/// The answer to [`TEAM_MEMBER_KEYS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TeamMemberKeysData {
    /// The organization's member keys.
    pub team_member_keys: TeamMemberKeys,
}

/// A member's copy of a new project's key, for [`PROJECT_CREATE`]'s `teamKeys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectCreateKeyInput {
    /// The member's account id.
    pub account_id: String,
    /// The project's JWK, RSA-encrypted to the member, hex.
    pub enc_symmetric_key: String,
    /// As the member's [`MemberKey::auto_linked`].
    pub auto_linked: bool,
}

/// `projectKey`'s object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectKey {
    /// The project's JWK, RSA-encrypted to the caller, hex.
    pub enc_symmetric_key: String,
}

/// The answer to [`PROJECT_KEY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProjectKeyData {
    /// The caller's copy of the key, if the server holds one.
    pub project_key: Option<ProjectKey>,
}

/// A branch's name, as [`BRANCHES`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchName {
    /// The name.
    pub name: String,
}

/// The answer to [`BRANCHES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchesData {
    /// The project's branches.
    pub branches: Vec<BranchName>,
}

/// A branch's history, as [`BRANCH`] selects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branch {
    /// Snapshot ids, oldest first.
    pub snapshots: Vec<String>,
}

/// The answer to [`BRANCH`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchData {
    /// The branch, or `None` where it does not exist.
    pub branch: Option<Branch>,
}

/// One document of a snapshot's state: its key (`_id`), its blob and its name. Also the
/// `SnapshotStateEntryInput` of a pushed snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StateEntry {
    /// The document's `_id`.
    pub key: String,
    /// The blob id (not selected by [`SNAPSHOT_LOG`]).
    #[serde(default)]
    pub blob: String,
    /// The document's name (not selected by [`SNAPSHOT_LOG`]).
    #[serde(default)]
    pub name: String,
}

/// A snapshot's author, as [`SNAPSHOT_LOG`] selects it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorAccount {
    /// The author's e-mail.
    pub email: String,
}

/// A snapshot, as [`SNAPSHOTS`] or [`SNAPSHOT_LOG`] selects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Its id.
    pub id: String,
    /// Its parent's id ([`SNAPSHOTS`]).
    #[serde(default)]
    pub parent: String,
    /// When the client made it ([`SNAPSHOT_LOG`]).
    #[serde(default)]
    pub created: String,
    /// Its message ([`SNAPSHOT_LOG`]).
    #[serde(default)]
    pub name: String,
    /// Who pushed it ([`SNAPSHOT_LOG`]).
    #[serde(default)]
    pub author_account: AuthorAccount,
    /// Its documents.
    pub state: Vec<StateEntry>,
}

/// The answer to [`SNAPSHOTS`] and [`SNAPSHOT_LOG`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotsData {
    /// The snapshots found, in the order asked.
    pub snapshots: Vec<Snapshot>,
}

/// A snapshot to append, for [`SNAPSHOTS_CREATE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotInput {
    /// Its id (`snapshot_id(project, parent, blobs)`).
    pub id: String,
    /// The branch's tip it follows.
    pub parent: String,
    /// When it was made (RFC 3339 with milliseconds).
    pub created: String,
    /// Not trusted by the server (the pusher is the author); the app sends its account id.
    pub author: String,
    /// Its message.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its documents, in key order.
    pub state: Vec<StateEntry>,
}

/// A sealed blob, for [`BLOBS_CREATE`], and as [`BLOBS`] answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Blob {
    /// The blob id (SHA-1 of the content before sealing).
    pub id: String,
    /// The sealed content: an AES-GCM message's JSON.
    pub content: String,
}

/// The answer to [`BLOBS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlobsData {
    /// The blobs found (those the server lacks are left out).
    pub blobs: Vec<Blob>,
}

/// `blobsMissing`' object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlobsMissing {
    /// The ids the server lacks.
    pub missing: Vec<String>,
}

/// The answer to [`BLOBS_MISSING`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BlobsMissingData {
    /// What the server lacks.
    pub blobs_missing: BlobsMissing,
}
