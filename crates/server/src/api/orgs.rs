//! Organizations (insomnia-wire.md §5, extensions.md "Organizations" and "Operations"): the list
//! the app loads after log-in, one organization, creating and deleting a team, the storage rule,
//! features, roles, the caller's permissions, profile and plan, and the audit log.
//!
//! Every path that names an organization goes through [`membership::require`] first.

use axum::{
    Router,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    routing::get,
};
use hypnos_crypto::{
    random,
    wire::orgs::{
        AuditLog, AuditLogEvent, BillingState, Branding, CreateOrganizationRequest, CurrentPlan,
        Feature, FeatureFlags, Features, Organization as WireOrganization, OrganizationList,
        OrganizationMetadata, RoleInfo, SetStorageRuleRequest, StorageRule, UserPermissions,
        UserProfile,
    },
};
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
    storage::{
        DEFAULT_STORAGE_RULE, NewTeam, Organization, PERSONAL_ORGANIZATION, Role, StoreError,
    },
};

/// The storage rules an owner may choose (insomnia-wire.md §5).
const STORAGE_RULES: [&str; 3] = ["cloud_plus_local", "cloud_only", "local_only"];

/// The audit log's page size when the caller names none, and the most it may name.
const AUDIT_PAGE: u32 = 50;
const AUDIT_PAGE_MAX: u32 = 500;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations", get(list).post(create))
        .route("/v1/organizations/roles", get(roles))
        .route("/v1/organizations/{org}", get(show).delete(remove))
        .route(
            "/v1/organizations/{org}/storage-rule",
            get(storage_rule).put(set_storage_rule),
        )
        .route("/v1/organizations/{org}/features", get(features))
        .route(
            "/v1/organizations/{org}/user-permissions",
            get(user_permissions),
        )
        .route("/v1/organizations/{org}/audit-log", get(audit_log))
        .route("/v1/user/profile", get(profile))
        .route("/v1/billing/current-plan", get(current_plan))
}

/// An organization as the app reads it; `description` only in the answer for one organization.
fn to_wire(organization: Organization, with_description: bool) -> WireOrganization {
    WireOrganization {
        id: organization.id,
        name: organization.name,
        display_name: organization.display_name,
        branding: Branding {
            logo_url: String::new(),
        },
        metadata: OrganizationMetadata {
            organization_type: organization.kind.as_str().into(),
            owner_account_id: organization.owner_account_id,
            description: with_description.then(String::new),
        },
    }
}

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
                id,
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

async fn show(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<WireOrganization>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    Ok(axum::Json(to_wire(membership.organization, true)))
}

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
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::Conflict(PERSONAL_ORGANIZATION)) => Err(ApiError::Conflict {
            code: "PERSONAL_ORGANIZATION",
            message: "a personal organization goes only with its account",
        }),
        // Deleted by a concurrent request since the membership was read.
        Err(StoreError::NotFound) => Err(NOT_A_MEMBER),
        Err(other) => Err(other.into()),
    }
}

async fn storage_rule(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<StorageRule>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadMembership).await?;
    let storage = membership.organization.storage_rule;
    Ok(axum::Json(StorageRule {
        is_overridden: storage != DEFAULT_STORAGE_RULE,
        storage,
    }))
}

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
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(NOT_A_MEMBER),
        Err(other) => return Err(other.into()),
    }
    Ok(axum::Json(StorageRule {
        is_overridden: body.storage != DEFAULT_STORAGE_RULE,
        storage: body.storage,
    }))
}

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
    Ok(axum::Json(Features {
        features: FeatureFlags {
            git_sync: on(),
            org_basic_rbac: on(),
            cloud_sync: on(),
            local_vault: on(),
        },
        billing: BillingState {
            is_active: true,
            expiration_warning_message: String::new(),
            expiration_error_message: String::new(),
            access_denied: false,
        },
    }))
}

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
#[derive(Deserialize)]
struct AuditLogQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

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
            actor_account_id: event.actor_account_id,
            action: event.action,
            target: event.target,
        })
        .collect();
    Ok(axum::Json(AuditLog { events }))
}

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

async fn profile(caller: Authenticated) -> axum::Json<UserProfile> {
    let account = caller.account;
    axum::Json(UserProfile {
        name: format!("{} {}", account.first_name, account.last_name)
            .trim()
            .to_owned(),
        id: account.id,
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
    })
}
