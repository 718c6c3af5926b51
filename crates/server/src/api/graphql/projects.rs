//! Projects: listing, reading, creating and deleting them, the caller's key for one, and the
//! members' public keys a new project's key is encrypted to.

use std::collections::BTreeSet;

use async_graphql::{Context, Error, ID, InputObject, Object, Result, SimpleObject};
use serde_json::json;

use super::{
    access::{
        NO_SUCH_PROJECT, ProjectMembership, invalid_access, organization_for, project_for,
        project_member, team_name_of, visible_project,
    },
    request::{budget, check_batch, internal, store_permit},
};
use crate::{
    api::{audit_event, validate},
    permissions::Permission,
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{Conflict, NewProjectKey, Project, StoreError},
};

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

/// The project queries.
#[derive(Default)]
pub(super) struct ProjectsQuery;

#[Object]
impl ProjectsQuery {
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
        let under = match all_projects {
            Some(true) => None,
            _ => team_project_id.as_ref().map(|id| id.as_str()),
        };
        let budget = budget(ctx)?;
        // With `teamId`: the caller's membership there, then its projects (two reads). Without:
        // the projects of every organization the caller belongs to, in one read.
        let listed: Vec<(Project, String)> = match &team_id {
            Some(team_id) => {
                let organization = organization_for(ctx, team_id).await?.2.organization;
                state
                    .store
                    .projects_in(&organization.id, under)
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .map(|project| (project, organization.display_name.clone()))
                    .collect()
            }
            None => state
                .store
                .projects_of_account(&caller.account.id, under)
                .await
                .map_err(internal)?,
        };
        let mut out = Vec::with_capacity(listed.len());
        for (project, team_name) in listed {
            // An organization's projects are not otherwise bounded: the list is held to the
            // answer's budget like blobs and snapshots.
            budget.charge(project_bytes(&project, &team_name))?;
            out.push(project_out(project, team_name));
        }
        Ok(out)
    }

    /// One project, or null when the caller's organizations have none with this id.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ProjectOut>> {
        let _permit = store_permit(ctx).await?;
        let state = ctx.data::<AppState>()?;
        let caller = ctx.data::<Authenticated>()?;
        Ok(match visible_project(state, caller, &id).await? {
            Some(project) => {
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
}

/// The project mutations.
#[derive(Default)]
pub(super) struct ProjectsMutation;

#[Object]
impl ProjectsMutation {
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
        if !crate::membership::is_project_id(&id) {
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
            Ok(project) => {
                // Empty branch: a new file, which the teammates' dashboards list.
                state.events.file_changed(&project, "");
                Ok(project_out(project, organization.display_name))
            }
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
        // Deleting a team's shared history takes the role that deletes team projects, not
        // just a key.
        let ProjectMembership {
            state,
            caller,
            project,
        } = project_member(ctx, &id, Permission::DeleteTeamProject).await?;
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
                StoreError::NotFound => invalid_access(NO_SUCH_PROJECT),
                other => internal(other),
            })?;
        state.events.file_deleted(&project);
        Ok(true)
    }
}
