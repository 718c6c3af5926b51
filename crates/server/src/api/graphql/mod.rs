//! Cloud sync: the app's GraphQL version-control API (insomnia-wire.md §4.3), `POST /graphql`.
//!
//! The schema's argument names, input type names, nullability and fields are the app's. Every
//! operation names a project (or an organization); the caller must be a member of its
//! organization, and reading a project's key, branches, snapshots or blobs, or pushing, also
//! takes the caller's own key for the project; deleting one takes the role that deletes team
//! projects, not a key (the newest apps delete a remote file they never pulled). Every access
//! refusal is an error whose message contains "invalid access" (the app shows it as a lost
//! permission) and carries no data of the project. The server never decrypts anything: it
//! checks shapes and ids, and stores ciphertext.
//!
//! One schema serves the 10.x app and the newest (insomnia-wire-newer.md §6): `projects` takes
//! `allProjects` and a project has `teamProjectId`, branch names may hold `/`, and every answer
//! has a `data` object, errors included ([`transport`]).
//!
//! What one request may cost (nesting, fields, aliases, answer bytes, database connections) is
//! bounded in [`limits`]. A failure is never answered as a plausible empty value: a stored
//! snapshot that does not parse, or a read that fails, fails the field.

pub mod limits;
mod transport;

use std::collections::{BTreeSet, HashMap};

use async_graphql::{
    Context, EmptySubscription, Error, ID, InputObject, Object, Result, Schema, SimpleObject,
};
use axum::{Router, routing::post};
use hypnos_crypto::{
    aes::AesMessage,
    sync::{is_branch_name, is_object_id, snapshot_id},
};
use serde_json::json;

use super::{audit_event, validate};
use crate::{
    permissions::{self, Permission},
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{
        Blob, Conflict, NewProjectKey, OrgId, Project, ProjectId, Role, Snapshot, StoreError,
    },
};
use limits::{AnswerBudget, StorePermits};

/// The schema the server answers with.
pub type SyncSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// The most ids one query may name, and snapshots or blobs one mutation may carry: well above
/// the app's batches (50 blobs, 20 snapshots, 200 blobs per upload).
const MAX_BATCH: usize = 1_000;

/// `blobsMissing` is asked about every blob of a push at once (the app does not batch it).
const MAX_MISSING_IDS: usize = 100_000;

/// Longest `created` of a pushed snapshot: the app sends an ISO date (24 characters).
const MAX_CREATED: usize = 64;
/// Longest snapshot message (`name`), in bytes.
const MAX_SNAPSHOT_NAME: usize = 8 * 1024;
/// Longest snapshot description, in bytes.
const MAX_DESCRIPTION: usize = 64 * 1024;
/// Longest document id (`key`) of a state entry, in bytes (the app's are about 36).
const MAX_ENTRY_KEY: usize = 256;
/// Longest document name of a state entry, in bytes.
const MAX_ENTRY_NAME: usize = 16 * 1024;

/// Builds the schema (once, at start). Selections nest at most 8 deep (the app's deepest is
/// 3) and 16 counting fragment spreads; the configurable limits are in [`limits`].
pub fn schema() -> SyncSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .limit_depth(8)
        .limit_recursive_depth(16)
        .limit_directives(4)
        .finish()
}

/// The route: `POST /graphql` (the app adds `?<label>`, which is only a tag); how requests come
/// in and answers go out is in [`transport`].
pub fn routes() -> Router<AppState> {
    Router::new().route("/graphql", post(transport::graphql))
}

/// Holds one of this request's [`limits::STORE_PERMITS`] while a top-level resolver uses the
/// store: async-graphql resolves sibling query fields concurrently, and each would otherwise
/// hold a connection of the pool at the same time.
async fn store_permit<'a>(ctx: &Context<'a>) -> Result<tokio::sync::SemaphorePermit<'a>> {
    ctx.data::<StorePermits>()?
        .0
        .acquire()
        .await
        .map_err(|_| Error::new("the request was cancelled"))
}

/// What a refusal says: the app looks for "invalid access".
fn invalid_access(why: &str) -> Error {
    Error::new(format!("invalid access: {why}"))
}

fn internal(error: StoreError) -> Error {
    tracing::warn!(%error, "sync storage failed");
    Error::new("the server could not complete this request; try again")
}

/// This request's [`AnswerBudget`].
fn budget<'a>(ctx: &Context<'a>) -> Result<&'a AnswerBudget> {
    ctx.data::<AnswerBudget>()
}

/// A project of one of the caller's organizations, with the caller's role there: what deleting
/// the project needs (no key: deleting reads nothing of it).
struct ProjectMembership<'a> {
    state: &'a AppState,
    caller: &'a Authenticated,
    project: Project,
    /// The caller's role in the project's organization.
    role: Role,
}

/// The project, if the caller is a member of its organization. Unknown projects and those of
/// other organizations are refused alike, so the refusal tells nothing of them.
async fn project_member<'a>(ctx: &Context<'a>, project_id: &str) -> Result<ProjectMembership<'a>> {
    let state = ctx.data::<AppState>()?;
    let caller = ctx.data::<Authenticated>()?;
    let (project, role) = state
        .store
        .project_of(&caller.account.id, &ProjectId::from(project_id))
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_access("no such project among your organizations"))?;
    Ok(ProjectMembership {
        state,
        caller,
        project,
        role,
    })
}

/// What a caller may use of a project: every project operation but `project` and
/// `projectArchive` needs it.
struct ProjectAccess<'a> {
    state: &'a AppState,
    caller: &'a Authenticated,
    project: Project,
    /// The caller's own key for the project (its link), which reading and pushing require.
    key: String,
}

/// The project, if the caller is a member of its organization and holds a key for it.
async fn project_for<'a>(ctx: &Context<'a>, project_id: &str) -> Result<ProjectAccess<'a>> {
    let ProjectMembership {
        state,
        caller,
        project,
        ..
    } = project_member(ctx, project_id).await?;
    let key = state
        .store
        .project_key(&project.organization_id, &project.id, &caller.account.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_access("you hold no key for this project"))?;
    Ok(ProjectAccess {
        state,
        caller,
        project,
        key,
    })
}

/// The name of the project's organization as the caller sees it (the caller is a member: a
/// membership that vanished since is a refusal, a failed read an error).
async fn team_name_of(
    state: &AppState,
    caller: &Authenticated,
    project: &Project,
) -> Result<String> {
    state
        .store
        .membership(&project.organization_id, &caller.account.id)
        .await
        .map_err(internal)?
        .map(|membership| membership.organization.display_name)
        .ok_or_else(|| invalid_access("you are not a member of this organization"))
}

/// The caller's membership of an organization named by `teamId`.
async fn organization_for<'a>(
    ctx: &Context<'a>,
    team_id: &str,
) -> Result<(&'a AppState, &'a Authenticated, crate::storage::Membership)> {
    let state = ctx.data::<AppState>()?;
    let caller = ctx.data::<Authenticated>()?;
    let membership = state
        .store
        .membership(&OrgId::from(team_id), &caller.account.id)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_access("you are not a member of this organization"))?;
    Ok((state, caller, membership))
}

/// A branch name some version of the app could have made (with `/` from the newest apps on), or
/// the refusal saying what is allowed. Reads are held to it too: no stored branch has another
/// name, and it bounds what a request may ask for.
fn check_branch_name(name: &str) -> Result<()> {
    if is_branch_name(name) {
        return Ok(());
    }
    Err(Error::new(
        "branch names are 3 to 100 letters, digits, -, _, . or /, starting with a letter or \
         digit; with a /, no //, .., trailing / or ., part starting with . or ending in .lock",
    ))
}

fn check_batch(what: &str, len: usize) -> Result<()> {
    if len > MAX_BATCH {
        return Err(Error::new(format!("{what}: at most {MAX_BATCH} at once")));
    }
    Ok(())
}

fn ids_of(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}

/// A project as the app reads it.
#[derive(SimpleObject)]
#[graphql(name = "Project")]
struct ProjectOut {
    id: ID,
    name: String,
    #[graphql(name = "rootDocumentId")]
    root_document_id: ID,
    /// The team project the project is filed under (null for a project created without one).
    #[graphql(name = "teamProjectId")]
    team_project_id: Option<ID>,
    teams: Vec<TeamOut>,
}

/// The organization a project belongs to.
#[derive(SimpleObject)]
#[graphql(name = "Team")]
struct TeamOut {
    id: ID,
    name: String,
}

/// What a listed project weighs in an answer: its ids and names.
fn project_bytes(project: &Project, team_name: &str) -> u64 {
    (project.id.len()
        + project.name.len()
        + project.root_document_id.len()
        + project.team_project_id.as_ref().map_or(0, String::len)
        + project.organization_id.len()
        + team_name.len()) as u64
}

/// The project as the app reads it, in the organization named `team_name`.
fn project_out(project: Project, team_name: String) -> ProjectOut {
    ProjectOut {
        id: ID(project.id.into()),
        name: project.name,
        root_document_id: ID(project.root_document_id),
        team_project_id: project.team_project_id.map(ID),
        teams: vec![TeamOut {
            id: ID(project.organization_id.into()),
            name: team_name,
        }],
    }
}

#[derive(SimpleObject)]
#[graphql(name = "ProjectKey")]
struct ProjectKeyOut {
    #[graphql(name = "encSymmetricKey")]
    enc_symmetric_key: String,
}

#[derive(SimpleObject)]
#[graphql(name = "TeamMemberKeys")]
struct TeamMemberKeysOut {
    #[graphql(name = "memberKeys")]
    member_keys: Vec<MemberKeyOut>,
}

#[derive(SimpleObject)]
#[graphql(name = "MemberKey")]
struct MemberKeyOut {
    #[graphql(name = "accountId")]
    account_id: ID,
    #[graphql(name = "publicKey")]
    public_key: String,
    #[graphql(name = "autoLinked")]
    auto_linked: bool,
}

#[derive(SimpleObject)]
#[graphql(name = "Branch")]
struct BranchOut {
    created: String,
    modified: String,
    name: String,
    snapshots: Vec<ID>,
}

#[derive(SimpleObject)]
#[graphql(name = "Snapshot")]
struct SnapshotOut {
    id: ID,
    parent: ID,
    created: String,
    author: ID,
    #[graphql(name = "authorAccount")]
    author_account: AuthorOut,
    name: String,
    description: String,
    state: Vec<StateEntryOut>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "AuthorAccount")]
struct AuthorOut {
    #[graphql(name = "firstName")]
    first_name: String,
    #[graphql(name = "lastName")]
    last_name: String,
    email: String,
}

#[derive(SimpleObject, serde::Serialize, serde::Deserialize)]
#[graphql(name = "SnapshotStateEntry")]
struct StateEntryOut {
    blob: ID,
    key: ID,
    name: String,
}

/// What snapshots weigh in an answer: their states and texts.
fn answer_bytes(snapshots: &[Snapshot]) -> u64 {
    snapshots
        .iter()
        .map(|snapshot| {
            (snapshot.state.len()
                + snapshot.name.len()
                + snapshot.description.len()
                + snapshot.created.len()) as u64
        })
        .sum()
}

fn author_out(first_name: String, last_name: String, email: String) -> AuthorOut {
    AuthorOut {
        first_name,
        last_name,
        email,
    }
}

/// The details of the snapshots' authors who are members of the project's organization now,
/// in one read: a former member, or any other account id a stored snapshot names, shows
/// nothing. A failed read is an error, not blank authors.
async fn member_authors(
    state: &AppState,
    organization_id: &OrgId,
    snapshots: &[Snapshot],
) -> Result<HashMap<String, AuthorOut>> {
    let author_ids: Vec<String> = snapshots
        .iter()
        .map(|snapshot| snapshot.author.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let authors: HashMap<String, AuthorOut> = state
        .store
        .member_authors(organization_id, &author_ids)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|author| {
            (
                author.account_id,
                author_out(author.first_name, author.last_name, author.email),
            )
        })
        .collect();
    Ok(authors)
}

/// Snapshots as the app reads them, with `authors` from [`member_authors`] (blank for anyone
/// else). A stored state that does not parse is an error: answered as empty, a pull would
/// delete every document.
fn snapshots_out(
    snapshots: Vec<Snapshot>,
    authors: &HashMap<String, AuthorOut>,
) -> Result<Vec<SnapshotOut>> {
    snapshots
        .into_iter()
        .map(|snapshot| {
            let entries: Vec<StateEntryOut> =
                serde_json::from_str(&snapshot.state).map_err(|error| {
                    tracing::error!(snapshot = %snapshot.id, %error, "a stored snapshot state does not parse");
                    Error::new(format!(
                        "snapshot {} is damaged on the server (its state does not parse); \
                         nothing was changed, ask the server's operator to restore it",
                        snapshot.id
                    ))
                })?;
            let author_account = authors
                .get(&snapshot.author)
                .cloned()
                .unwrap_or_else(|| author_out(String::new(), String::new(), String::new()));
            Ok(SnapshotOut {
                id: ID(snapshot.id),
                parent: ID(snapshot.parent),
                created: snapshot.created,
                author: ID(snapshot.author),
                author_account,
                name: snapshot.name,
                description: snapshot.description,
                state: entries,
            })
        })
        .collect()
}

#[derive(SimpleObject)]
#[graphql(name = "BlobsMissing")]
struct BlobsMissingOut {
    missing: Vec<ID>,
}

#[derive(SimpleObject)]
#[graphql(name = "BlobsCreate")]
struct BlobsCreateOut {
    count: u64,
}

#[derive(SimpleObject)]
#[graphql(name = "Blob")]
struct BlobOut {
    id: ID,
    content: String,
}

/// The read operations.
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The projects of an organization (`teamId`), only those under `teamProjectId` if given;
    /// without `teamId`, those of every organization the caller belongs to. `allProjects: true`
    /// (the newest apps' dashboard and "pull remote file") lists them across all team projects,
    /// whatever `teamProjectId` says. Every member sees every team project of its
    /// organization, so that is every project of the organization, with or without a key.
    async fn projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "teamId")] team_id: Option<ID>,
        #[graphql(name = "teamProjectId")] team_project_id: Option<ID>,
        #[graphql(name = "allProjects")] all_projects: Option<bool>,
    ) -> Result<Vec<ProjectOut>> {
        let _permit = store_permit(ctx).await?;
        let state = ctx.data::<AppState>()?;
        let caller = ctx.data::<Authenticated>()?;
        let organizations = match &team_id {
            Some(team_id) => vec![organization_for(ctx, team_id).await?.2.organization],
            None => state
                .store
                .memberships_of(&caller.account.id)
                .await
                .map_err(internal)?
                .into_iter()
                .map(|membership| membership.organization)
                .collect(),
        };
        let under = match all_projects {
            Some(true) => None,
            _ => team_project_id.as_ref().map(|id| id.as_str()),
        };
        let budget = budget(ctx)?;
        let mut out = Vec::new();
        for organization in organizations {
            let projects = state
                .store
                .projects_in(&organization.id, under)
                .await
                .map_err(internal)?;
            for project in projects {
                // An organization's projects are not otherwise bounded: the list is held to
                // the answer's budget like blobs and snapshots.
                budget.charge(project_bytes(&project, &organization.display_name))?;
                out.push(project_out(project, organization.display_name.clone()));
            }
        }
        Ok(out)
    }

    /// One project, or null when the caller's organizations have none with this id.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ProjectOut>> {
        let _permit = store_permit(ctx).await?;
        let state = ctx.data::<AppState>()?;
        let caller = ctx.data::<Authenticated>()?;
        let found = state
            .store
            .project_of(&caller.account.id, &ProjectId::from(id.as_str()))
            .await
            .map_err(internal)?;
        Ok(match found {
            Some((project, _)) => {
                let team_name = team_name_of(state, caller, &project).await?;
                Some(project_out(project, team_name))
            }
            None => None,
        })
    }

    /// The caller's key for the project (its project key encrypted to the caller).
    #[graphql(name = "projectKey")]
    async fn project_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "projectId")] project_id: ID,
    ) -> Result<ProjectKeyOut> {
        let _permit = store_permit(ctx).await?;
        let access = project_for(ctx, &project_id).await?;
        Ok(ProjectKeyOut {
            enc_symmetric_key: access.key,
        })
    }

    /// Every member of the organization with its public key (the caller included), to encrypt
    /// a new project's key to.
    #[graphql(name = "teamMemberKeys")]
    async fn team_member_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "teamId")] team_id: ID,
    ) -> Result<TeamMemberKeysOut> {
        let _permit = store_permit(ctx).await?;
        let (state, _, membership) = organization_for(ctx, &team_id).await?;
        let keys = state
            .store
            .member_public_keys(&membership.organization.id)
            .await
            .map_err(internal)?;
        Ok(TeamMemberKeysOut {
            member_keys: keys
                .into_iter()
                .map(|(account_id, public_key)| MemberKeyOut {
                    account_id: ID(account_id),
                    public_key,
                    auto_linked: false,
                })
                .collect(),
        })
    }

    /// The project's branches.
    async fn branches(&self, ctx: &Context<'_>, project: ID) -> Result<Vec<BranchOut>> {
        let _permit = store_permit(ctx).await?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let names = state
            .store
            .branch_names(&project.organization_id, &project.id)
            .await
            .map_err(internal)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if let Some(branch) = state
                .store
                .branch(&project.organization_id, &project.id, &name)
                .await
                .map_err(internal)?
            {
                budget(ctx)?.charge(40 * branch.snapshots.len() as u64)?;
                out.push(branch_out(branch));
            }
        }
        Ok(out)
    }

    /// One branch, or null.
    async fn branch(
        &self,
        ctx: &Context<'_>,
        project: ID,
        name: String,
    ) -> Result<Option<BranchOut>> {
        let _permit = store_permit(ctx).await?;
        check_branch_name(&name)?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let found = state
            .store
            .branch(&project.organization_id, &project.id, &name)
            .await
            .map_err(internal)?;
        if let Some(branch) = &found {
            budget(ctx)?.charge(40 * branch.snapshots.len() as u64)?;
        }
        Ok(found.map(branch_out))
    }

    /// Snapshots by id, in the order asked (unknown ids left out).
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        project: ID,
    ) -> Result<Vec<SnapshotOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("ids", ids.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let ids = ids_of(ids);
        // The states' size first, so that an answer too large is refused before it is loaded;
        // the reservation is then replaced by the exact size.
        let budget = budget(ctx)?;
        let reserved = state
            .store
            .snapshots_size(&project.organization_id, &project.id, &ids)
            .await
            .map_err(internal)?;
        budget.charge(reserved)?;
        let snapshots = state
            .store
            .snapshots(&project.organization_id, &project.id, &ids)
            .await
            .map_err(internal)?;
        budget.refund(reserved);
        budget.charge(answer_bytes(&snapshots))?;
        let authors = member_authors(state, &project.organization_id, &snapshots).await?;
        snapshots_out(snapshots, &authors)
    }

    /// Which of these blobs the project lacks, in the order asked.
    #[graphql(name = "blobsMissing")]
    async fn blobs_missing(
        &self,
        ctx: &Context<'_>,
        project: ID,
        ids: Vec<ID>,
    ) -> Result<BlobsMissingOut> {
        let _permit = store_permit(ctx).await?;
        if ids.len() > MAX_MISSING_IDS {
            return Err(Error::new(format!(
                "ids: at most {MAX_MISSING_IDS} at once"
            )));
        }
        // Blob ids only: the answer echoes the missing ones, so it is at most 40 bytes an id.
        if !ids.iter().all(|id| is_object_id(id)) {
            return Err(Error::new("a blob id must be 40 lowercase hex digits"));
        }
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let missing = state
            .store
            .blobs_missing(&project.organization_id, &project.id, &ids_of(ids))
            .await
            .map_err(internal)?;
        budget(ctx)?.charge(40 * missing.len() as u64)?;
        Ok(BlobsMissingOut {
            missing: missing.into_iter().map(ID).collect(),
        })
    }

    /// Blobs by id, in the order asked (unknown ids left out).
    async fn blobs(&self, ctx: &Context<'_>, ids: Vec<ID>, project: ID) -> Result<Vec<BlobOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("ids", ids.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let ids = ids_of(ids);
        // The stored sizes first, in the same transaction: an answer that would pass the
        // budget is refused before a byte of content is loaded.
        let budget = budget(ctx)?;
        let blobs = state
            .store
            .blobs_within(
                &project.organization_id,
                &project.id,
                &ids,
                budget.remaining(),
            )
            .await
            .map_err(internal)?;
        let produced: usize = blobs.as_ref().map_or(usize::MAX, |blobs| {
            blobs.iter().map(|blob| blob.content.len()).sum()
        });
        budget.charge(produced as u64)?;
        let blobs = blobs.unwrap_or_default();
        Ok(blobs
            .into_iter()
            .map(|blob| BlobOut {
                id: ID(blob.id),
                content: blob.content,
            })
            .collect())
    }
}

fn branch_out(branch: crate::storage::Branch) -> BranchOut {
    BranchOut {
        created: super::rfc3339(branch.created_at),
        modified: super::rfc3339(branch.modified_at),
        name: branch.name,
        snapshots: branch.snapshots.into_iter().map(ID).collect(),
    }
}

/// A member's key for a new project.
#[derive(InputObject)]
#[graphql(name = "ProjectCreateKeyInput")]
struct ProjectCreateKeyInput {
    #[graphql(name = "accountId")]
    account_id: ID,
    #[graphql(name = "encSymmetricKey")]
    enc_symmetric_key: String,
    #[graphql(name = "autoLinked")]
    auto_linked: Option<bool>,
}

/// A snapshot to push.
#[derive(InputObject)]
#[graphql(name = "SnapshotInput")]
struct SnapshotInput {
    created: String,
    name: String,
    description: Option<String>,
    parent: ID,
    id: ID,
    /// Not trusted: the author of a pushed snapshot is the pusher (see `check_snapshot`).
    author: Option<ID>,
    state: Vec<SnapshotStateEntryInput>,
}

/// One document of a snapshot.
#[derive(InputObject)]
#[graphql(name = "SnapshotStateEntryInput")]
struct SnapshotStateEntryInput {
    blob: ID,
    key: ID,
    name: String,
}

/// A blob to upload.
#[derive(InputObject)]
#[graphql(name = "BlobInput")]
struct BlobInput {
    id: ID,
    content: String,
}

/// The write operations.
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Creates a project in an organization, with its key encrypted to every member.
    #[graphql(name = "projectCreate")]
    #[allow(clippy::too_many_arguments, reason = "the app's argument list")]
    async fn project_create(
        &self,
        ctx: &Context<'_>,
        name: String,
        id: ID,
        #[graphql(name = "rootDocumentId")] root_document_id: ID,
        #[graphql(name = "teamId")] team_id: Option<ID>,
        #[graphql(name = "teamKeys")] team_keys: Option<Vec<ProjectCreateKeyInput>>,
        #[graphql(name = "teamProjectId")] team_project_id: Option<ID>,
    ) -> Result<ProjectOut> {
        let _permit = store_permit(ctx).await?;
        let state = ctx.data::<AppState>()?;
        let caller = ctx.data::<Authenticated>()?;
        // Normally `prj_<32 hex>` (and up to 64 hex digits were always accepted, which
        // existing projects may use); the newest apps fall back to the workspace id (`wrk_…`)
        // when no backend project is active (insomnia-wire-newer.md §6.3).
        let is_project_id = id.strip_prefix("prj_").is_some_and(|hex| {
            !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !is_project_id {
            validate::id("id", &id).map_err(|error| Error::new(error.to_string()))?;
        }
        validate::name("name", &name).map_err(|error| Error::new(error.to_string()))?;
        validate::id("rootDocumentId", &root_document_id)
            .map_err(|error| Error::new(error.to_string()))?;
        check_batch("teamKeys", team_keys.as_ref().map_or(0, Vec::len))?;
        // Without a team, the caller's personal organization.
        let organization = match &team_id {
            Some(team_id) => organization_for(ctx, team_id).await?.2.organization,
            None => state
                .store
                .memberships_of(&caller.account.id)
                .await
                .map_err(internal)?
                .into_iter()
                .next()
                .map(|membership| membership.organization)
                .ok_or_else(|| invalid_access("you have no organization"))?,
        };
        let organization_id = organization.id.clone();
        let keys: Vec<NewProjectKey> = team_keys
            .unwrap_or_default()
            .into_iter()
            .map(|key| NewProjectKey {
                account_id: key.account_id.0.into(),
                enc_symmetric_key: key.enc_symmetric_key,
                auto_linked: key.auto_linked.unwrap_or(false),
            })
            .collect();
        for key in &keys {
            validate::wrapped_key("teamKeys.encSymmetricKey", &key.enc_symmetric_key)
                .map_err(|error| Error::new(error.to_string()))?;
        }
        let project = Project {
            id: id.0.clone().into(),
            organization_id: organization_id.clone(),
            team_project_id: team_project_id.map(|id| id.0),
            name,
            root_document_id: root_document_id.0,
            created_at: now_ms(),
        };
        let event = audit_event(caller, &organization_id, "project.created", &id, json!({}))
            .map_err(|error| Error::new(error.to_string()))?;
        match state
            .store
            .create_project(project, keys.clone(), event)
            .await
        {
            Ok(project) => Ok(project_out(project, organization.display_name)),
            Err(StoreError::Conflict(Conflict::KeysMismatch)) => {
                let members: BTreeSet<String> = state
                    .store
                    .member_public_keys(&organization_id)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .map(|(account, _)| account)
                    .collect();
                let keyed: BTreeSet<String> =
                    keys.into_iter().map(|k| k.account_id.into()).collect();
                let missing: Vec<&String> = members.difference(&keyed).collect();
                let strangers: Vec<&String> = keyed.difference(&members).collect();
                Err(Error::new(format!(
                    "teamKeys must hold one key for each member of the organization, no more: \
                     missing {missing:?}, not members {strangers:?}"
                )))
            }
            Err(StoreError::Conflict(Conflict::Reference)) => Err(Error::new(
                "teamProjectId names no team project of this organization",
            )),
            // Project ids are unique across the server (the sync API names a project by its id
            // alone). The refusal says nothing of where the id is used, or of what.
            Err(StoreError::Conflict(_)) => Err(invalid_access(
                "this project id cannot be used; create the project with a new id",
            )),
            Err(other) => Err(internal(other)),
        }
    }

    /// Deletes a project with its keys, branches, snapshots and blobs (owner and admins). The
    /// caller needs no key for it: the newest apps delete a remote file by the id that
    /// `projects(allProjects: true)` listed, without pulling it (insomnia-wire-newer.md §5).
    #[graphql(name = "projectArchive")]
    async fn project_archive(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let _permit = store_permit(ctx).await?;
        let ProjectMembership {
            state,
            caller,
            project,
            role,
        } = project_member(ctx, &id).await?;
        // Deleting a team's shared history takes the role that deletes team projects, not
        // just a key.
        if !permissions::allows(role, Permission::DeleteTeamProject) {
            return Err(invalid_access(
                "only an organization's owner or admins may delete its projects",
            ));
        }
        let event = audit_event(
            caller,
            &project.organization_id,
            "project.archived",
            &project.id,
            json!({}),
        )
        .map_err(|error| Error::new(error.to_string()))?;
        state
            .store
            .archive_project(&project.organization_id, &project.id, event)
            .await
            .map_err(|error| match error {
                // Archived by someone else since it was looked up.
                StoreError::NotFound => invalid_access("no such project among your organizations"),
                other => internal(other),
            })?;
        Ok(true)
    }

    /// Deletes a branch (never `master`).
    #[graphql(name = "branchRemove")]
    async fn branch_remove(&self, ctx: &Context<'_>, project: ID, name: String) -> Result<bool> {
        let _permit = store_permit(ctx).await?;
        check_branch_name(&name)?;
        if name.eq_ignore_ascii_case("master") {
            return Err(Error::new("the master branch cannot be removed"));
        }
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        match state
            .store
            .remove_branch(&project.organization_id, &project.id, &name)
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::NotFound) => Err(Error::new("no branch with this name")),
            Err(other) => Err(internal(other)),
        }
    }

    /// Appends snapshots to a branch: all of them or none.
    #[graphql(name = "snapshotsCreate")]
    async fn snapshots_create(
        &self,
        ctx: &Context<'_>,
        project: ID,
        snapshots: Vec<SnapshotInput>,
        branch: String,
    ) -> Result<Vec<SnapshotOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("snapshots", snapshots.len())?;
        check_branch_name(&branch)?;
        let ProjectAccess {
            state,
            caller,
            project,
            ..
        } = project_for(ctx, &project).await?;
        let mut checked = Vec::with_capacity(snapshots.len());
        let mut blob_ids = BTreeSet::new();
        let mut previous: Option<String> = None;
        for input in snapshots {
            let snapshot = check_snapshot(&project.id, &caller.account.id, input)?;
            if let Some(previous) = &previous
                && snapshot.snapshot.parent != *previous
            {
                return Err(Error::new(
                    "each snapshot's parent must be the snapshot before it in the batch",
                ));
            }
            blob_ids.extend(snapshot.blobs.iter().cloned());
            previous = Some(snapshot.snapshot.id.clone());
            checked.push(snapshot.snapshot);
        }
        // The answer repeats the snapshots: refused before anything is written if too large.
        budget(ctx)?.charge(answer_bytes(&checked))?;
        match state
            .store
            .push_snapshots(
                &project.organization_id,
                &project.id,
                &branch,
                checked.clone(),
                blob_ids.into_iter().collect(),
                now_ms(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::NotFastForward)) => {
                return Err(Error::new(
                    "not a fast-forward: the branch moved on; pull, then push again",
                ));
            }
            Err(StoreError::Conflict(Conflict::MissingBlobs)) => {
                return Err(Error::new(
                    "a snapshot names a blob the project does not have: upload it first",
                ));
            }
            Err(other) => return Err(internal(other)),
        }
        // The pusher is the author of every snapshot pushed (and a member: `project_for`).
        let me = &caller.account;
        let authors = HashMap::from([(
            me.id.to_string(),
            author_out(
                me.first_name.clone(),
                me.last_name.clone(),
                me.email.clone(),
            ),
        )]);
        snapshots_out(checked, &authors)
    }

    /// Stores blobs; one the project has already is kept as it is.
    #[graphql(name = "blobsCreate")]
    async fn blobs_create(
        &self,
        ctx: &Context<'_>,
        project: ID,
        blobs: Vec<BlobInput>,
    ) -> Result<BlobsCreateOut> {
        let _permit = store_permit(ctx).await?;
        check_batch("blobs", blobs.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let limit = state.config.max_blob_bytes;
        let mut checked = Vec::with_capacity(blobs.len());
        for blob in blobs {
            if !is_object_id(&blob.id) {
                return Err(Error::new("a blob id must be 40 lowercase hex digits"));
            }
            if blob.content.len() > limit {
                return Err(Error::new(format!(
                    "blob {} is larger than {limit} bytes",
                    blob.id.0
                )));
            }
            if AesMessage::from_json(&blob.content).is_err() {
                return Err(Error::new(format!(
                    "blob {} is not an AES-GCM message",
                    blob.id.0
                )));
            }
            checked.push(Blob {
                id: blob.id.0,
                content: blob.content,
            });
        }
        let count = checked.len() as u64;
        state
            .store
            .create_blobs(&project.organization_id, &project.id, checked)
            .await
            .map_err(internal)?;
        Ok(BlobsCreateOut { count })
    }
}

/// A pushed snapshot, checked, with the blob ids its state names.
struct CheckedSnapshot {
    snapshot: Snapshot,
    blobs: Vec<String>,
}

/// Checks a pushed snapshot's shape and sizes and recomputes its id from its parent and blobs.
/// Its author is the pusher, whatever `author` says: the app sends its own account id, or,
/// pushing a teammate's snapshot to a new branch, the teammate's — a snapshot the project has
/// already keeps the author it was first pushed with.
fn check_snapshot(project_id: &str, caller: &str, input: SnapshotInput) -> Result<CheckedSnapshot> {
    if !is_object_id(&input.id) || !is_object_id(&input.parent) {
        return Err(Error::new(
            "a snapshot's id and parent are 40 lowercase hex digits",
        ));
    }
    let description = input.description.unwrap_or_default();
    if input.created.len() > MAX_CREATED
        || input.name.len() > MAX_SNAPSHOT_NAME
        || description.len() > MAX_DESCRIPTION
    {
        return Err(Error::new(format!(
            "a snapshot's created is at most {MAX_CREATED} bytes, its name {MAX_SNAPSHOT_NAME} \
             and its description {MAX_DESCRIPTION}"
        )));
    }
    let mut blobs = Vec::with_capacity(input.state.len());
    for entry in &input.state {
        if !is_object_id(&entry.blob) || entry.key.is_empty() {
            return Err(Error::new(
                "each state entry needs a key and a blob id of 40 lowercase hex digits",
            ));
        }
        if entry.key.len() > MAX_ENTRY_KEY || entry.name.len() > MAX_ENTRY_NAME {
            return Err(Error::new(format!(
                "a state entry's key is at most {MAX_ENTRY_KEY} bytes and its name \
                 {MAX_ENTRY_NAME}"
            )));
        }
        blobs.push(entry.blob.0.as_str());
    }
    let expected = snapshot_id(project_id, &input.parent, &blobs);
    if expected != input.id.0 {
        return Err(Error::new(format!(
            "snapshot {} does not match its content (expected {expected})",
            input.id.0
        )));
    }
    let blobs: Vec<String> = blobs.into_iter().map(str::to_owned).collect();
    let state: Vec<StateEntryOut> = input
        .state
        .into_iter()
        .map(|entry| StateEntryOut {
            blob: entry.blob,
            key: entry.key,
            name: entry.name,
        })
        .collect();
    let state = serde_json::to_string(&state).map_err(|error| {
        tracing::error!(%error, "a snapshot state could not be serialized");
        Error::new("the server could not store this snapshot's state")
    })?;
    Ok(CheckedSnapshot {
        snapshot: Snapshot {
            id: input.id.0,
            parent: input.parent.0,
            created: input.created,
            author: caller.to_owned(),
            name: input.name,
            description,
            state,
        },
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypnos_crypto::sync::EMPTY_HASH;

    #[test]
    fn a_snapshot_must_match_its_content() {
        let blob = "a".repeat(40);
        let id = snapshot_id("prj_1", EMPTY_HASH, &[blob.as_str()]);
        let input = |id: &str| SnapshotInput {
            created: "2026-01-01T00:00:00.000Z".into(),
            name: "m".into(),
            description: None,
            parent: ID(EMPTY_HASH.into()),
            id: ID(id.into()),
            author: None,
            state: vec![SnapshotStateEntryInput {
                blob: ID(blob.clone()),
                key: ID("req_1".into()),
                name: "R".into(),
            }],
        };
        let ok = check_snapshot("prj_1", "acct_me", input(&id))
            .expect("the snapshot matches its content");
        assert_eq!(
            ok.snapshot.author, "acct_me",
            "an empty author is the pusher"
        );
        let mut named = input(&id);
        named.author = Some(ID("acct_someone_else".into()));
        let named = check_snapshot("prj_1", "acct_me", named).expect("it matches");
        assert_eq!(
            named.snapshot.author, "acct_me",
            "a named author is the pusher too"
        );
        let mut long = input(&id);
        long.created = "x".repeat(MAX_CREATED + 1);
        assert!(check_snapshot("prj_1", "acct_me", long).is_err());
        assert!(check_snapshot("prj_2", "acct_me", input(&id)).is_err());
        assert!(check_snapshot("prj_1", "acct_me", input(&"b".repeat(40))).is_err());
    }
}
