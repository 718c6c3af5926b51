//! An organization's members (insomnia-wire.md §5): the list, a member's role, changing it
//! (`PUT` from 10.x, `PATCH` from the newest app, insomnia-wire-newer.md §3.4), removing a member
//! or leaving.

use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
};
use hypnos_crypto::wire::orgs::{MemberInfo, MemberList, MemberRole, SetMemberRoleRequest};
use serde::Deserialize;
use serde_json::json;

use super::{audit_event, rfc3339, validate};
use crate::{
    error::{ApiError, ApiResult},
    extract::Json,
    membership::{self, NOT_A_MEMBER},
    permissions::{self, Permission},
    session::Authenticated,
    state::AppState,
    storage::{AccountId, Conflict, Role, StoreError},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The member list's page size when the caller names none, and the most it may name.
const PAGE: u32 = 50;
const PAGE_MAX: u32 = 100;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(remove))
        .routes(routes!(role, set_role))
}

const NO_SUCH_MEMBER: ApiError = ApiError::NotFound("no member with this id in the organization");
const OWNER_STAYS_ERROR: ApiError = ApiError::Conflict {
    code: "OWNER_STAYS",
    message: "the organization's owner can be neither removed nor given another role",
};

/// `?per_page=N&page=P&email=TEXT`: page P (from 0) of N members (default 50, at most 100)
/// whose e-mail contains TEXT.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    per_page: Option<u32>,
    page: Option<u64>,
    email: Option<String>,
}

/// A page of the organization's members.
#[utoipa::path(
    get, operation_id = "members_list", path = "/v1/organizations/{org}/members", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ListQuery),
    responses((status = 200, body = MemberList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<axum::Json<MemberList>> {
    let Query(query) = query
        .map_err(|_| ApiError::BadRequest("per_page and page must be whole numbers".into()))?;
    let per_page = validate::per_page(query.per_page, PAGE, PAGE_MAX)?;
    let start = query.page.unwrap_or(0).saturating_mul(u64::from(per_page));
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    let (members, total) = state
        .store
        .members(
            &membership.organization.id,
            query
                .email
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty()),
            start,
            per_page,
        )
        .await?;
    let members: Vec<MemberInfo> = members
        .into_iter()
        .map(|member| MemberInfo {
            name: format!("{} {}", member.first_name, member.last_name)
                .trim()
                .to_owned(),
            user_id: member.account_id.into(),
            picture: String::new(),
            email: member.email,
            role_name: member.role.as_str().into(),
            created: rfc3339(member.joined_at),
        })
        .collect();
    Ok(axum::Json(MemberList {
        length: members.len() as u64,
        members,
        start,
        limit: u64::from(per_page),
        total,
    }))
}

/// A member's role.
#[utoipa::path(
    get, operation_id = "members_role", path = "/v1/organizations/{org}/members/{account}/roles", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("account" = String, Path, description = "The member's account id (`acct_…`)")),
    responses((status = 200, body = MemberRole))
)]
async fn role(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, account)): Path<(String, AccountId)>,
) -> ApiResult<axum::Json<MemberRole>> {
    validate::id("account", account.as_str())?;
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    let target = state
        .store
        .membership(&membership.organization.id, &account)
        .await?
        .ok_or(NO_SUCH_MEMBER)?;
    Ok(axum::Json(member_role(target.role)))
}

fn member_role(role: Role) -> MemberRole {
    MemberRole {
        role_id: role.as_str().into(),
        name: role.as_str().into(),
        description: permissions::describe(role).into(),
    }
}

/// Changes a member's role.
#[utoipa::path(
    method(put, patch), operation_id = "members_set_role", path = "/v1/organizations/{org}/members/{account}/roles", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("account" = String, Path, description = "The member's account id (`acct_…`)")),
    request_body = SetMemberRoleRequest,
    responses((status = 200, body = MemberRole))
)]
async fn set_role(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, account)): Path<(String, AccountId)>,
    Json(body): Json<SetMemberRoleRequest>,
) -> ApiResult<axum::Json<MemberRole>> {
    validate::id("account", account.as_str())?;
    let role = match body.roles.as_slice() {
        [one] => {
            Role::parse(one)
                .filter(|role| *role != Role::Owner)
                .ok_or(ApiError::BadRequest(
                    "roles must name one role: admin or member".into(),
                ))?
        }
        _ => {
            return Err(ApiError::BadRequest(
                "roles must name exactly one role: admin or member".into(),
            ));
        }
    };
    let membership =
        membership::require(&state, &caller, &org, Permission::UpdateMembership).await?;
    let org_id = membership.organization.id;
    let event = audit_event(
        &caller,
        &org_id,
        "membership.role_changed",
        &account,
        json!({ "role": role.as_str() }),
    )?;
    match state
        .store
        .set_member_role(&org_id, &account, role, event)
        .await
    {
        Ok(()) => {
            state.events.organization_changed(&org_id);
            Ok(axum::Json(member_role(role)))
        }
        Err(StoreError::NotFound) => Err(NO_SUCH_MEMBER),
        Err(StoreError::Conflict(Conflict::OwnerStays)) => Err(OWNER_STAYS_ERROR),
        Err(other) => Err(other.into()),
    }
}

/// Removes a member, or the caller leaves.
#[utoipa::path(
    delete, operation_id = "members_remove", path = "/v1/organizations/{org}/members/{account}", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("account" = String, Path, description = "The member's account id (`acct_…`)")),
    responses((status = 204, description = "Done."))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, account)): Path<(String, AccountId)>,
) -> ApiResult<StatusCode> {
    validate::id("account", account.as_str())?;
    // Leaving is one's own choice; removing someone else takes the permission.
    let leaving = account == caller.account.id;
    let permission = if leaving {
        Permission::LeaveOrganization
    } else {
        Permission::DeleteMembership
    };
    let membership = match membership::require(&state, &caller, &org, permission).await {
        // The owner asking to leave: say why not, rather than a bare 403.
        Err(ApiError::Forbidden(_)) if leaving => return Err(OWNER_STAYS_ERROR),
        other => other?,
    };
    let org_id = membership.organization.id;
    let action = if leaving {
        "membership.left"
    } else {
        "membership.removed"
    };
    let event = audit_event(&caller, &org_id, action, &account, json!({}))?;
    match state.store.remove_member(&org_id, &account, event).await {
        Ok(()) => {
            state.events.member_left(&org_id, &account);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) if leaving => Err(NOT_A_MEMBER),
        Err(StoreError::NotFound) => Err(NO_SUCH_MEMBER),
        Err(StoreError::Conflict(Conflict::OwnerStays)) => Err(OWNER_STAYS_ERROR),
        Err(other) => Err(other.into()),
    }
}
