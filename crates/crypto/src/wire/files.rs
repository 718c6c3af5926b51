//! `GET /v1/user/files` (insomnia-wire.md §5, insomnia-wire-newer.md §9): the synced projects
//! of every organization the caller belongs to, which the app's command palette offers to pull.
//!
//! What the app does with each field (Kong/insomnia `packages/insomnia/src/routes/remote-files.tsx`
//! and the command palette that uses it): `id` is compared with the ids of the local workspaces
//! to leave out files already on this machine, and with the presence events' `file`, so it is the
//! workspace id (the backend project's `rootDocumentId`); `projectId` is handed to "pull remote
//! file" as the backend project id (`prj_…`); `teamProjectId` finds the local project to pull
//! into (its `remoteId`); `organizationId` names the organization to open.

use serde::{Deserialize, Serialize};

/// One synced file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RemoteFile {
    /// The workspace id (the backend project's `rootDocumentId`).
    pub id: String,
    /// The workspace's name (the backend project's name).
    pub name: String,
    /// The organization (`org_…`).
    pub organization_id: String,
    /// The team project it is filed under (`proj_…`).
    pub team_project_id: String,
    /// The backend project (`prj_…`).
    pub project_id: String,
}
