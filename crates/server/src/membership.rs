//! The one gate of every organization-scoped request, REST and GraphQL alike: the caller must be
//! a member of the organization the request names (by its id, or by one of its projects), with
//! a role that has the action's [`Permission`].
//!
//! What a handler does next uses the [`Membership`] this returns (its organization's id comes
//! from the verified membership row, never from the request body). The gate answers a typed
//! [`Refusal`]; each API words it its own way. REST ([`require`]) gives a caller that is not a
//! member the same 404 as for an organization that does not exist, so it learns nothing of it,
//! and a missing permission a 403; GraphQL answers its "invalid access" errors.

use crate::{
    error::{ApiError, ApiResult},
    permissions::{Permission, allows},
    session::Authenticated,
    state::AppState,
    storage::{Membership, OrgId, Project, ProjectId, Role, StoreError},
};

/// What a non-member (or anyone, for an unknown id) is told.
pub const NOT_A_MEMBER: ApiError = ApiError::NotFound("no organization with this id among yours");

/// Why the gate did not let the caller through.
#[derive(Debug)]
pub enum Refusal {
    /// The caller is not a member of the organization, or there is no such organization (or
    /// project): the two are not told apart.
    NotMember,
    /// The caller is a member whose role lacks this permission.
    Forbidden(Permission),
    /// The membership could not be read.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotMember => NOT_A_MEMBER,
            Refusal::Forbidden(_) => {
                ApiError::Forbidden("your role in this organization does not allow this")
            }
            Refusal::Store(error) => error.into(),
        }
    }
}

/// Whether `value` has the shape of an id this server made or accepted: 1 to 64 ASCII letters,
/// digits, `_` or `-` (what `projectCreate` requires of a project id; organization ids are
/// `org_` and hex).
pub fn is_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

/// Whether `value` can be a project's id: any id ([`is_id`]), or `prj_` and up to 64 hex digits,
/// longer than other ids, which `projectCreate` has always accepted (earlier clients' projects
/// keep theirs).
pub fn is_project_id(value: &str) -> bool {
    is_id(value)
        || value.strip_prefix("prj_").is_some_and(|hex| {
            !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

/// The caller's membership of `organization_id`, whatever its role. An id of no possible
/// organization is refused as an unknown one, without asking the store (PostgreSQL refuses a
/// text with a NUL in it as an error, not as a row it lacks).
pub async fn member(
    state: &AppState,
    caller: &Authenticated,
    organization_id: &str,
) -> Result<Membership, Refusal> {
    if !is_id(organization_id) {
        return Err(Refusal::NotMember);
    }
    state
        .store
        .membership(&OrgId::from(organization_id), &caller.account.id)
        .await?
        .ok_or(Refusal::NotMember)
}

/// The project `project_id` with the caller's role in its organization, if the caller is a
/// member of it (one read: the project and the membership together).
pub async fn project_member(
    state: &AppState,
    caller: &Authenticated,
    project_id: &str,
) -> Result<(Project, Role), Refusal> {
    // As in `member`: an id no project can have is an unknown project.
    if !is_project_id(project_id) {
        return Err(Refusal::NotMember);
    }
    state
        .store
        .project_of(&caller.account.id, &ProjectId::from(project_id))
        .await?
        .ok_or(Refusal::NotMember)
}

/// Whether a member with `role` may do what needs `permission`.
pub fn permit(role: Role, permission: Permission) -> Result<(), Refusal> {
    if allows(role, permission) {
        Ok(())
    } else {
        Err(Refusal::Forbidden(permission))
    }
}

/// The caller's membership of `organization_id`, if its role allows `permission`, refused as
/// the REST API answers.
pub async fn require(
    state: &AppState,
    caller: &Authenticated,
    organization_id: &str,
    permission: Permission,
) -> ApiResult<Membership> {
    let membership = member(state, caller, organization_id).await?;
    permit(membership.role, permission)?;
    Ok(membership)
}
