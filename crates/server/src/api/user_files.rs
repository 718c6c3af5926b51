//! `GET /v1/user/files`: the synced files of every organization the caller belongs to, which the
//! app's command palette offers to pull (insomnia-wire-newer.md §9; the shape and what each id
//! means are in [`hypnos_crypto::wire::files`]).
//!
//! A file is a backend project filed under a team project. One created without a team project
//! (the sync API allows it) is left out: the app pulls a file into the local project whose
//! `remoteId` is its `teamProjectId`, so such a file could be listed but never pulled.

use axum::{Json, extract::State};
use hypnos_crypto::wire::files::RemoteFile;

use crate::{error::ApiResult, session::Authenticated, state::AppState};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The most files one answer lists. The palette is a list to pick from, not a complete
/// inventory: past this many (about 7 MB of ids and names), the first ones by organization and
/// age are listed, and the dashboard (`projects(allProjects: true)`, per organization) still
/// shows every file.
pub const MAX_FILES: u32 = 10_000;

/// The route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(files))
}

/// The caller's cloud files (none: projects sync through GraphQL).
#[utoipa::path(
    get, operation_id = "user_files_files", path = "/v1/user/files", tag = "app", security(("session" = [])),
    responses((status = 200, body = Vec<RemoteFile>))
)]
async fn files(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<Json<Vec<RemoteFile>>> {
    let projects = state
        .store
        .filed_projects_of(&caller.account.id, MAX_FILES)
        .await?;
    Ok(Json(
        projects
            .into_iter()
            .filter_map(|project| {
                Some(RemoteFile {
                    team_project_id: project.team_project_id?,
                    id: project.root_document_id,
                    name: project.name,
                    organization_id: project.organization_id.into(),
                    project_id: project.id.into(),
                })
            })
            .collect(),
    ))
}
