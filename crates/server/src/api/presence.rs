//! `POST /v1/organizations/{org}/collaborators`: the app says where its user is (a team project,
//! and the workspace open in it; no workspace on the project's dashboard) and gets back everyone
//! present in the organization (insomnia-wire.md §5, insomnia-wire-newer.md §7). Not the
//! newest app's list of who has access, `/v1/desktop/organizations/{org}/collaborators`
//! (`api::collaborators`).
//!
//! Any member may post, at a team project of that organization; the place is kept as
//! `crate::presence` says. Teammates' apps hear `PresentStateChanged` on their streams, and,
//! when the caller moved, `PresentUserLeave` for the place it left first. The app sends the
//! organization id with its first `proj_` removed, which leaves an `org_…` id as it is: the id
//! is taken as sent.

use axum::extract::{Path, State};
use hypnos_crypto::wire::events::{PresenceList, PresenceRequest};

use super::validate;
use crate::{
    error::{ApiError, ApiResult},
    extract::Json,
    membership,
    presence::{Timing, row},
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{MAX_PRESENCE_ROWS, PresenceEntry, PresentMember, StoreError},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(present))
}

const NO_SUCH_PROJECT: ApiError =
    ApiError::NotFound("no team project with this id in the organization");

/// Who else has the caller's project open.
#[utoipa::path(
    post, operation_id = "presence_present", path = "/v1/organizations/{org}/collaborators", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = PresenceRequest,
    responses((status = 200, body = PresenceList))
)]
async fn present(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<PresenceRequest>,
) -> ApiResult<axum::Json<PresenceList>> {
    validate::id("project", &body.project)?;
    if let Some(file) = &body.file {
        validate::id("file", file)?;
    }
    let membership = membership::member(&state, &caller, &org).await?;
    let now = now_ms();
    let here = PresenceEntry {
        organization_id: membership.organization.id,
        account_id: caller.account.id.clone(),
        team_project_id: body.project,
        workspace_id: body.file,
        expires_at: Timing::of(&state.config).expiry(now),
    };
    let before = state
        .store
        .set_presence(here.clone())
        .await
        .map_err(|error| match error {
            StoreError::NotFound => NO_SUCH_PROJECT,
            other => other.into(),
        })?;
    let left = before.filter(|before| !before.same_place(&here));
    let organization_id = here.organization_id.clone();
    state.events.presence_moved(
        left.as_ref(),
        row(&PresentMember {
            entry: here,
            first_name: caller.account.first_name.clone(),
            last_name: caller.account.last_name.clone(),
        }),
    );
    let present = state
        .store
        .present_members(&organization_id, now, MAX_PRESENCE_ROWS)
        .await?;
    Ok(axum::Json(PresenceList {
        data: present.iter().map(row).collect(),
    }))
}
