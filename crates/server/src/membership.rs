//! The one gate of every organization-scoped request: the caller must be a member of the
//! organization the path names, with a role that has the action's [`Permission`].
//!
//! What a handler does next uses the [`Membership`] this returns (its organization's id comes
//! from the verified membership row, never from the request body). A caller that is not a member
//! gets the same 404 as for an organization that does not exist, so it learns nothing of it.

use crate::{
    error::{ApiError, ApiResult},
    permissions::{Permission, allows},
    session::Authenticated,
    state::AppState,
    storage::{Membership, OrgId},
};

/// What a non-member (or anyone, for an unknown id) is told.
pub const NOT_A_MEMBER: ApiError = ApiError::NotFound("no organization with this id among yours");

/// The caller's membership of `organization_id`, if its role allows `permission`. The id comes
/// from the request as text; the handler goes on with the typed one of the membership.
pub async fn require(
    state: &AppState,
    caller: &Authenticated,
    organization_id: &str,
    permission: Permission,
) -> ApiResult<Membership> {
    let membership = state
        .store
        .membership(&OrgId::from(organization_id), &caller.account.id)
        .await?
        .ok_or(NOT_A_MEMBER)?;
    if !allows(membership.role, permission) {
        return Err(ApiError::Forbidden(
            "your role in this organization does not allow this",
        ));
    }
    Ok(membership)
}
