//! A synced project's history, read through the sync API: its branches and a branch's log.

use hypnos_crypto::wire::sync::{
    BRANCH, BRANCHES, BranchData, BranchesData, SNAPSHOT_LOG, SNAPSHOTS_PER_QUERY, SnapshotsData,
};
use serde_json::json;

use crate::{
    api::{Api, ClientError},
    sync::remote::query,
};

/// One entry of a branch's log, newest first.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The snapshot id.
    pub id: String,
    /// When the client made it.
    pub created: String,
    /// The author's e-mail.
    pub author: String,
    /// The message.
    pub message: String,
    /// How many documents it holds.
    pub documents: usize,
}

/// The project's branch names.
pub async fn branches(api: &Api, session: &str, project: &str) -> Result<Vec<String>, ClientError> {
    let data: BranchesData = query(api, session, BRANCHES, json!({"project": project})).await?;
    Ok(data
        .branches
        .into_iter()
        .map(|branch| branch.name)
        .collect())
}

/// A branch's snapshots, newest first (asked for in the app's batches).
pub async fn log(
    api: &Api,
    session: &str,
    project: &str,
    branch: &str,
) -> Result<Vec<LogEntry>, ClientError> {
    let data: BranchData = query(
        api,
        session,
        BRANCH,
        json!({"project": project, "name": branch}),
    )
    .await?;
    let ids = data
        .branch
        .map(|branch| branch.snapshots)
        .unwrap_or_default();
    let mut entries = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(SNAPSHOTS_PER_QUERY) {
        let data: SnapshotsData = query(
            api,
            session,
            SNAPSHOT_LOG,
            json!({"ids": chunk, "project": project}),
        )
        .await?;
        for snapshot in data.snapshots {
            entries.push(LogEntry {
                id: snapshot.id,
                created: snapshot.created,
                author: snapshot.author_account.email,
                message: snapshot.name,
                documents: snapshot.state.len(),
            });
        }
    }
    entries.reverse();
    Ok(entries)
}
