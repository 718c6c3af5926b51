//! Organizations (insomnia-wire.md §5, extensions.md "Organizations" and "Operations"): the list
//! the app loads after log-in, one organization, creating and deleting a team, the storage rule,
//! features, roles, the caller's permissions, profile and plan, and the audit log.
//!
//! One server serves the 10.x app and the newest (insomnia-wire-newer.md §3.2, §3.3, §5): the
//! storage rule, the features and the plan carry both apps' fields in one answer, and the
//! newest app's report of its Git projects is accepted.
//!
//! Every path that names an organization goes through [`membership::require`] first.

use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
};
use hypnos_crypto::{
    random,
    wire::orgs::{
        AuditLog, AuditLogEvent, BillingState, Branding, CreateOrganizationRequest, CurrentPlan,
        Feature, FeatureFlags, Features, Organization as WireOrganization, OrganizationList,
        OrganizationMetadata, RoleInfo, SetStorageRuleRequest, StorageRule, UserPermissions,
        UserProfile,
    },
    wire::v3::GitProjectCount,
};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{audit_event, rfc3339, validate};
use crate::{
    error::{ApiError, ApiResult},
    extract::Json,
    membership::{self, NOT_A_MEMBER},
    permissions::{self, Permission},
    session::Authenticated,
    state::AppState,
    storage::{Conflict, DEFAULT_STORAGE_RULE, NewTeam, Organization, Role, StoreError},
};

/// The storage rules an owner may choose (insomnia-wire.md §5).
const STORAGE_RULES: [&str; 3] = ["cloud_plus_local", "cloud_only", "local_only"];

/// The audit log's page size when the caller names none, and the most it may name.
const AUDIT_PAGE: u32 = 50;
const AUDIT_PAGE_MAX: u32 = 500;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, remove))
        .routes(routes!(storage_rule, set_storage_rule))
        .routes(routes!(features))
        .routes(routes!(user_permissions))
        .routes(routes!(audit_log))
        .routes(routes!(roles))
        .routes(routes!(profile))
        .routes(routes!(current_plan))
        .routes(routes!(git_projects))
}

/// An organization as the app reads it; `description` only in the answer for one organization.
fn to_wire(organization: Organization, with_description: bool) -> WireOrganization {
    WireOrganization {
        id: organization.id.into(),
        name: organization.name,
        display_name: organization.display_name,
        branding: Branding {
            logo_url: String::new(),
        },
        metadata: OrganizationMetadata {
            organization_type: organization.kind.as_str().into(),
            owner_account_id: organization.owner_account_id.into(),
            description: with_description.then(String::new),
        },
    }
}

/// The organizations the caller belongs to.
#[utoipa::path(
    get, operation_id = "orgs_list", path = "/v1/organizations", tag = "organizations", security(("session" = [])),
    responses((status = 200, body = OrganizationList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<axum::Json<OrganizationList>> {
    let organizations: Vec<WireOrganization> = state
        .store
        .memberships_of(&caller.account.id)
        .await?
        .into_iter()
        .map(|membership| to_wire(membership.organization, false))
        .collect();
    let count = organizations.len() as u64;
    Ok(axum::Json(OrganizationList {
        organizations,
        start: 0,
        limit: count,
        length: count,
        total: count,
    }))
}

/// Creates a team organization, owned by the caller.
#[utoipa::path(
    post, operation_id = "orgs_create", path = "/v1/organizations", tag = "organizations", security(("session" = [])),
    request_body = CreateOrganizationRequest,
    responses((status = 201, description = "Created.", body = WireOrganization))
)]
async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    Json(body): Json<CreateOrganizationRequest>,
) -> ApiResult<(StatusCode, axum::Json<WireOrganization>)> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    validate::name("name", name)?;
    let id = random::prefixed_id("org")?;
    let event = audit_event(
        &caller,
        &id,
        "organization.created",
        &id,
        json!({ "name": name }),
    )?;
    let organization = state
        .store
        .create_team(
            NewTeam {
                id: id.into(),
                name: name.into(),
                owner_account_id: caller.account.id.clone(),
                now_ms: event.at,
            },
            event,
        )
        .await?;
    tracing::info!(organization_id = %organization.id, "team created");
    Ok((
        StatusCode::CREATED,
        axum::Json(to_wire(organization, false)),
    ))
}

/// One organization the caller belongs to.
#[utoipa::path(
    get, operation_id = "orgs_show", path = "/v1/organizations/{org}", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = WireOrganization))
)]
async fn show(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<WireOrganization>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    Ok(axum::Json(to_wire(membership.organization, true)))
}

/// Deletes a team organization and everything in it (its owner only).
#[utoipa::path(
    delete, operation_id = "orgs_remove", path = "/v1/organizations/{org}", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 204, description = "Done."))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<StatusCode> {
    let membership =
        membership::require(&state, &caller, &org, Permission::OwnOrganization).await?;
    match state.store.delete_team(&membership.organization.id).await {
        Ok(()) => {
            tracing::info!(organization_id = %membership.organization.id, "team deleted");
            state.events.team_closed(&membership.organization.id);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::Conflict(Conflict::PersonalOrganization)) => Err(ApiError::Conflict {
            code: "PERSONAL_ORGANIZATION",
            message: "a personal organization goes only with its account",
        }),
        // Deleted by a concurrent request since the membership was read.
        Err(StoreError::NotFound) => Err(NOT_A_MEMBER),
        Err(other) => Err(other.into()),
    }
}

/// Where the organization's projects may be kept.
#[utoipa::path(
    get, operation_id = "orgs_storage_rule", path = "/v1/organizations/{org}/storage-rule", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = StorageRule))
)]
async fn storage_rule(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<StorageRule>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    Ok(axum::Json(storage_rule_answer(
        membership.organization.storage_rule,
    )))
}

/// The stored rule in both apps' forms: 10.x reads `storage`, the newest the three booleans
/// (and treats a missing one as off, so all are sent). "Local vault" means local-only projects.
/// Git sync has no 10.x rule: the app talks to the Git host itself, so it is always allowed.
fn storage_rule_answer(storage: String) -> StorageRule {
    StorageRule {
        is_overridden: storage != DEFAULT_STORAGE_RULE,
        enable_cloud_sync: storage != "local_only",
        enable_local_vault: storage != "cloud_only",
        enable_git_sync: true,
        storage,
    }
}

/// Sets where the organization's projects may be kept (its owner only).
#[utoipa::path(
    put, operation_id = "orgs_set_storage_rule", path = "/v1/organizations/{org}/storage-rule", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = SetStorageRuleRequest,
    responses((status = 200, body = StorageRule))
)]
async fn set_storage_rule(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<SetStorageRuleRequest>,
) -> ApiResult<axum::Json<StorageRule>> {
    if !STORAGE_RULES.contains(&body.storage.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "storage must be one of {}",
            STORAGE_RULES.join(", ")
        )));
    }
    let membership =
        membership::require(&state, &caller, &org, Permission::OwnOrganization).await?;
    let id = membership.organization.id;
    let event = audit_event(
        &caller,
        &id,
        "storage_rule.changed",
        &id,
        json!({ "from": membership.organization.storage_rule, "to": body.storage }),
    )?;
    match state
        .store
        .set_storage_rule(&id, &body.storage, event)
        .await
    {
        Ok(()) => state.events.storage_rule_changed(&id),
        Err(StoreError::NotFound) => return Err(NOT_A_MEMBER),
        Err(other) => return Err(other.into()),
    }
    Ok(axum::Json(storage_rule_answer(body.storage)))
}

/// The organization's features (all on).
#[utoipa::path(
    get, operation_id = "orgs_features", path = "/v1/organizations/{org}/features", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = Features))
)]
async fn features(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<Features>> {
    membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    let on = || Feature {
        enabled: true,
        reason: None,
    };
    // Kong's hosted services: the app must not offer them against this server.
    let hosted = || Feature {
        enabled: false,
        reason: Some("not available on a self-hosted Hypnos server".into()),
    };
    // Both apps' keys (insomnia-wire-newer.md §3.3). On: what works here or needs nothing of
    // the server (Git sync and bulk import happen in the app, the roles are this server's own).
    Ok(axum::Json(Features {
        features: FeatureFlags {
            git_sync: on(),
            org_basic_rbac: on(),
            cloud_sync: on(),
            local_vault: on(),
            bulk_import: on(),
            ai_mock_servers: hosted(),
            ai_commit_messages: hosted(),
            ai_mcp_client: hosted(),
            konnect_sync: hosted(),
        },
        billing: BillingState {
            is_active: true,
            expiration_warning_message: String::new(),
            expiration_error_message: String::new(),
            access_denied: false,
        },
    }))
}

/// What the caller may do in the organization.
#[utoipa::path(
    get, operation_id = "orgs_user_permissions", path = "/v1/organizations/{org}/user-permissions", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = UserPermissions))
)]
async fn user_permissions(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<UserPermissions>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    Ok(axum::Json(
        permissions::user_permissions(membership.role)
            .into_iter()
            .map(|(name, granted)| (name.to_owned(), granted))
            .collect(),
    ))
}

/// `?limit=N&before=MS`: at most N events (default 50, at most 500) older than unix
/// milliseconds MS (default: now).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditLogQuery {
    /// At most this many events (default 50, at most 500).
    limit: Option<u32>,
    /// Only events older than this, in unix milliseconds (default: now).
    before: Option<i64>,
}

/// The organization's audit log, newest first.
#[utoipa::path(
    get, operation_id = "orgs_audit_log", path = "/v1/organizations/{org}/audit-log", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), AuditLogQuery),
    responses((status = 200, body = AuditLog))
)]
async fn audit_log(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    query: Result<Query<AuditLogQuery>, QueryRejection>,
) -> ApiResult<axum::Json<AuditLog>> {
    let Query(query) = query.map_err(|_| {
        ApiError::BadRequest(format!(
            "limit must be a whole number from 1 to {AUDIT_PAGE_MAX}, before unix milliseconds"
        ))
    })?;
    let limit = query.limit.unwrap_or(AUDIT_PAGE);
    if !(1..=AUDIT_PAGE_MAX).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be a whole number from 1 to {AUDIT_PAGE_MAX}"
        )));
    }
    let membership = membership::require(&state, &caller, &org, Permission::ReadAuditLog).await?;
    let events = state
        .store
        .audit_events(
            &membership.organization.id,
            query.before.unwrap_or(i64::MAX),
            limit,
        )
        .await?
        .into_iter()
        .map(|event| AuditLogEvent {
            at: rfc3339(event.at),
            details: serde_json::from_str(&event.details).unwrap_or(serde_json::Value::Null),
            id: event.id,
            actor_account_id: event.actor_account_id.map(Into::into),
            action: event.action,
            target: event.target,
        })
        .collect();
    Ok(axum::Json(AuditLog { events }))
}

/// The roles a member may have.
#[utoipa::path(
    get, operation_id = "orgs_roles", path = "/v1/organizations/roles", tag = "organizations", security(("session" = [])),
    responses((status = 200, body = Vec<RoleInfo>))
)]
async fn roles(_caller: Authenticated) -> axum::Json<Vec<RoleInfo>> {
    axum::Json(
        [Role::Owner, Role::Admin, Role::Member]
            .into_iter()
            .map(|role| RoleInfo {
                id: role.as_str().into(),
                name: role.as_str().into(),
                description: permissions::describe(role).into(),
            })
            .collect(),
    )
}

/// The caller's profile.
#[utoipa::path(
    get, operation_id = "orgs_profile", path = "/v1/user/profile", tag = "organizations", security(("session" = [])),
    responses((status = 200, body = UserProfile))
)]
async fn profile(caller: Authenticated) -> axum::Json<UserProfile> {
    let account = caller.account;
    axum::Json(UserProfile {
        name: format!("{} {}", account.first_name, account.last_name)
            .trim()
            .to_owned(),
        id: account.id.into(),
        email: account.email,
        picture: String::new(),
        bio: String::new(),
        github: String::new(),
        linkedin: String::new(),
        twitter: String::new(),
        identities: Vec::new(),
        given_name: account.first_name,
        family_name: account.last_name,
    })
}

/// The plan: one, self-hosted, everything on.
#[utoipa::path(
    get, operation_id = "orgs_current_plan", path = "/v1/billing/current-plan", tag = "app", security(("session" = [])),
    responses((status = 200, body = CurrentPlan))
)]
async fn current_plan(_caller: Authenticated) -> axum::Json<CurrentPlan> {
    // A self-hosted server has one plan: active, everything on, no seat limit (whoami's
    // maxTeamMembers says the same).
    axum::Json(CurrentPlan {
        is_active: true,
        period: "year".into(),
        plan_id: "self-hosted".into(),
        price: 0,
        quantity: 1_000_000,
        kind: "team".into(),
        plan_name: "Self-hosted".into(),
        status: "active".into(),
    })
}

/// The most Git projects a report may name: a bound, far above any real organization.
const MAX_GIT_PROJECTS: u64 = 1_000_000;

/// The newest app reports how many Git-backed projects it has in the organization (Kong bills
/// by it; the app retries three times, then ignores a failure). Any member may report; the
/// count is checked and not kept: it means nothing here, and an audit line per report would
/// flood the log with the app's repeats.
#[utoipa::path(
    patch, operation_id = "orgs_git_projects", path = "/v1/organizations/{org}/git-projects", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = GitProjectCount,
    responses((status = 204, description = "Done."))
)]
async fn git_projects(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<GitProjectCount>,
) -> ApiResult<StatusCode> {
    if body.count > MAX_GIT_PROJECTS {
        return Err(ApiError::BadRequest(format!(
            "count must be at most {MAX_GIT_PROJECTS}"
        )));
    }
    membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    Ok(StatusCode::NO_CONTENT)
}
