//! Team projects (insomnia-wire.md §5): the folders of synced projects in an organization.
//! Deleting one deletes the synced projects in it, as the app's "convert to local" expects.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use hypnos_crypto::{
    random,
    wire::orgs::{CreatedTeamProject, TeamProjectInfo, TeamProjectList, TeamProjectName},
};
use serde_json::json;

use super::{audit_event, validate};
use crate::{
    error::{ApiError, ApiResult},
    extract::Json,
    membership,
    permissions::Permission,
    session::Authenticated,
    state::AppState,
    storage::{StoreError, TeamProject},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(rename, remove))
}

const NO_SUCH_PROJECT: ApiError =
    ApiError::NotFound("no team project with this id in the organization");

/// A team project's name: trimmed, not empty, at most 100 characters.
fn project_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".into()));
    }
    validate::name("name", name)?;
    Ok(name)
}

/// The organization's team projects.
#[utoipa::path(
    get, operation_id = "team_projects_list", path = "/v1/organizations/{org}/team-projects", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = TeamProjectList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<TeamProjectList>> {
    let membership =
        membership::require(&state, &caller, &org, Permission::ReadTeamProject).await?;
    let data = state
        .store
        .team_projects(&membership.organization.id)
        .await?
        .into_iter()
        .map(|project| TeamProjectInfo {
            id: project.id,
            name: project.name,
        })
        .collect();
    Ok(axum::Json(TeamProjectList { data }))
}

/// Creates a team project.
#[utoipa::path(
    post, operation_id = "team_projects_create", path = "/v1/organizations/{org}/team-projects", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = TeamProjectName,
    responses((status = 201, description = "Created.", body = CreatedTeamProject))
)]
async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<TeamProjectName>,
) -> ApiResult<(StatusCode, axum::Json<CreatedTeamProject>)> {
    let name = project_name(&body.name)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::CreateTeamProject).await?;
    let project = TeamProject {
        id: random::prefixed_id("proj")?,
        organization_id: membership.organization.id,
        name: name.into(),
        created_at: crate::state::now_ms(),
    };
    let event = audit_event(
        &caller,
        &project.organization_id,
        "team_project.created",
        &project.id,
        json!({ "name": name }),
    )?;
    state
        .store
        .create_team_project(project.clone(), event)
        .await?;
    state
        .events
        .team_project_changed(&project.organization_id, &project.id);
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedTeamProject {
            id: project.id,
            name: project.name,
            organization_id: project.organization_id.into(),
        }),
    ))
}

/// Renames a team project.
#[utoipa::path(
    patch, operation_id = "team_projects_rename", path = "/v1/organizations/{org}/team-projects/{id}", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "The team project's id")),
    request_body = TeamProjectName,
    responses((status = 204, description = "Done."))
)]
async fn rename(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
    Json(body): Json<TeamProjectName>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let name = project_name(&body.name)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::UpdateTeamProject).await?;
    let org_id = membership.organization.id;
    let event = audit_event(
        &caller,
        &org_id,
        "team_project.renamed",
        &id,
        json!({ "name": name }),
    )?;
    match state
        .store
        .rename_team_project(&org_id, &id, name, event)
        .await
    {
        Ok(()) => {
            state.events.team_project_changed(&org_id, &id);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(NO_SUCH_PROJECT),
        Err(other) => Err(other.into()),
    }
}

/// Deletes a team project.
#[utoipa::path(
    delete, operation_id = "team_projects_remove", path = "/v1/organizations/{org}/team-projects/{id}", tag = "organizations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "The team project's id")),
    responses((status = 204, description = "Done."))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::DeleteTeamProject).await?;
    let org_id = membership.organization.id;
    let event = audit_event(&caller, &org_id, "team_project.deleted", &id, json!({}))?;
    match state.store.delete_team_project(&org_id, &id, event).await {
        // The synced projects in it went with it: the app's refresh of its team projects
        // takes them off its dashboards too.
        Ok(()) => {
            state.events.team_project_changed(&org_id, &id);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(NO_SUCH_PROJECT),
        Err(other) => Err(other.into()),
    }
}
