//! Who may use what, through the [`membership`] gate the REST handlers use, with its refusals
//! worded as the app reads them: every one contains "invalid access" (the app shows it as a lost
//! permission) and carries no data of the project.

use async_graphql::{Context, Error, Result};

use super::request::internal;
use crate::{
    membership::{self, Refusal},
    permissions::Permission,
    session::Authenticated,
    state::AppState,
    storage::{Membership, Project},
};

/// What a refusal says: the app looks for "invalid access".
pub(super) fn invalid_access(why: &str) -> Error {
    Error::new(format!("invalid access: {why}"))
}

/// The gate's refusal as this API words it, `not_member` for a caller that is not a member.
fn refused(refusal: Refusal, not_member: &str) -> Error {
    match refusal {
        Refusal::NotMember => invalid_access(not_member),
        Refusal::Forbidden(Permission::DeleteTeamProject) => {
            invalid_access("only an organization's owner or admins may delete its projects")
        }
        Refusal::Forbidden(_) => {
            invalid_access("your role in this organization does not allow this")
        }
        Refusal::Store(error) => internal(error),
    }
}

/// What a non-member of a project's organization is told: unknown projects and those of other
/// organizations are refused alike, so the refusal tells nothing of them.
pub(super) const NO_SUCH_PROJECT: &str = "no such project among your organizations";

/// What a non-member of an organization is told.
const NOT_A_MEMBER: &str = "you are not a member of this organization";

/// A project of one of the caller's organizations: what deleting the project needs (no key:
/// deleting reads nothing of it).
pub(super) struct ProjectMembership<'a> {
    pub state: &'a AppState,
    pub caller: &'a Authenticated,
    pub project: Project,
}

/// The project, if the caller is a member of its organization with a role that has
/// `permission`.
pub(super) async fn project_member<'a>(
    ctx: &Context<'a>,
    project_id: &str,
    permission: Permission,
) -> Result<ProjectMembership<'a>> {
    let state = ctx.data::<AppState>()?;
    let caller = ctx.data::<Authenticated>()?;
    let refused = |refusal| refused(refusal, NO_SUCH_PROJECT);
    let (project, role) = membership::project_member(state, caller, project_id)
        .await
        .map_err(refused)?;
    membership::permit(role, permission).map_err(refused)?;
    Ok(ProjectMembership {
        state,
        caller,
        project,
    })
}

/// The project, or `None` if the caller is not a member of its organization (or there is no
/// such project): what the `project` query answers null for.
pub(super) async fn visible_project(
    state: &AppState,
    caller: &Authenticated,
    project_id: &str,
) -> Result<Option<Project>> {
    match membership::project_member(state, caller, project_id).await {
        Ok((project, _)) => Ok(Some(project)),
        Err(Refusal::NotMember) => Ok(None),
        Err(refusal) => Err(refused(refusal, NO_SUCH_PROJECT)),
    }
}

/// What a caller may use of a project: every project operation but `project` and
/// `projectArchive` needs it.
pub(super) struct ProjectAccess<'a> {
    pub state: &'a AppState,
    pub caller: &'a Authenticated,
    pub project: Project,
    /// The caller's own key for the project (its link), which reading and pushing require.
    pub key: String,
}

/// The project, if the caller is a member of its organization and holds a key for it.
pub(super) async fn project_for<'a>(
    ctx: &Context<'a>,
    project_id: &str,
) -> Result<ProjectAccess<'a>> {
    let state = ctx.data::<AppState>()?;
    let caller = ctx.data::<Authenticated>()?;
    let (project, _) = membership::project_member(state, caller, project_id)
        .await
        .map_err(|refusal| refused(refusal, NO_SUCH_PROJECT))?;
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
pub(super) async fn team_name_of(
    state: &AppState,
    caller: &Authenticated,
    project: &Project,
) -> Result<String> {
    membership::member(state, caller, &project.organization_id)
        .await
        .map(|membership| membership.organization.display_name)
        .map_err(|refusal| refused(refusal, NOT_A_MEMBER))
}

/// The caller's membership of an organization named by `teamId`.
pub(super) async fn organization_for<'a>(
    ctx: &Context<'a>,
    team_id: &str,
) -> Result<(&'a AppState, &'a Authenticated, Membership)> {
    let state = ctx.data::<AppState>()?;
    let caller = ctx.data::<Authenticated>()?;
    let membership = membership::member(state, caller, team_id)
        .await
        .map_err(|refusal| refused(refusal, NOT_A_MEMBER))?;
    Ok((state, caller, membership))
}
