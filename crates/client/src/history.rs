//! A synced project's history, read through the sync API: its branches and a branch's log.

use serde_json::json;

use crate::api::{Api, ClientError};

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
    let data = api
        .graphql(
            session,
            "query ($project: ID!) { branches(project: $project) { name } }",
            json!({"project": project}),
        )
        .await?;
    Ok(data["branches"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|branch| branch["name"].as_str().map(str::to_owned))
        .collect())
}

/// A branch's snapshots, newest first (the app asks 20 at a time, so does this).
pub async fn log(
    api: &Api,
    session: &str,
    project: &str,
    branch: &str,
) -> Result<Vec<LogEntry>, ClientError> {
    let data = api
        .graphql(
        session,
        "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }",
        json!({"project": project, "name": branch}),
    )
    .await?;
    let ids: Vec<String> = data["branch"]["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|id| id.as_str().map(str::to_owned))
        .collect();
    let mut entries = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(20) {
        let data = api
            .graphql(
            session,
            "query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { id created name authorAccount { email } state { key } } }",
            json!({"ids": chunk, "project": project}),
        )
        .await?;
        for snapshot in data["snapshots"].as_array().into_iter().flatten() {
            entries.push(LogEntry {
                id: snapshot["id"].as_str().unwrap_or_default().to_owned(),
                created: snapshot["created"].as_str().unwrap_or_default().to_owned(),
                author: snapshot["authorAccount"]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                message: snapshot["name"].as_str().unwrap_or_default().to_owned(),
                documents: snapshot["state"].as_array().map_or(0, Vec::len),
            });
        }
    }
    entries.reverse();
    Ok(entries)
}
