//! `hypnos push`: every workspace of an export to its project's branch, merged first with what
//! teammates pushed.

use std::collections::{HashMap, HashSet};

use hypnos_crypto::{
    aes::AesKey,
    rsa::RsaPublicKey,
    sync::{EMPTY_HASH, snapshot_id},
};

use super::{
    Plan, Pushed, SyncError, Syncer, identity_of,
    merge::{Conflict, Prefer},
    read_export,
    remote::{NewSnapshot, Project},
    write_export,
};
use crate::api::ClientError;

/// What a push is asked to do, besides which file: the command's options.
#[derive(Debug, Clone, Copy)]
pub struct PushOptions<'a> {
    /// The organization the projects belong to.
    pub org: &'a str,
    /// The team project new projects go into; without one, a workspace the server does not
    /// have yet is refused ([`SyncError::Invalid`]).
    pub team_project: Option<&'a str>,
    /// The branch.
    pub branch: &'a str,
    /// The snapshot's message.
    pub message: &'a str,
    /// The side that wins conflicts; `None` stops at the first.
    pub prefer: Option<Prefer>,
}

impl Syncer<'_> {
    /// Pushes every workspace of the export at `path` to `branch`, creating projects in the
    /// organization's team project as needed, merging first where teammates pushed since this
    /// machine last synced (the file is rewritten with their changes before anything is
    /// pushed). `check` sees each member's public key before a new project's key is
    /// encrypted to it.
    pub async fn push(
        &self,
        path: &std::path::Path,
        options: &PushOptions<'_>,
        mut check: impl FnMut(&str, &RsaPublicKey) -> Result<(), String>,
    ) -> Result<Vec<Pushed>, SyncError> {
        let PushOptions {
            org,
            team_project,
            branch,
            message,
            prefer,
        } = *options;
        let mut file = read_export(path)?;
        let identity = identity_of(path)?;
        let workspaces = file.workspaces();
        if workspaces.is_empty() {
            return Err(SyncError::Invalid(format!(
                "{} holds no workspace to push",
                path.display()
            )));
        }
        // Every plan first: a conflict anywhere stops the push before anything changes.
        let mut plans = Vec::new();
        for workspace in &workspaces {
            let project = self
                .remote
                .project_of_workspace(Some(org), &workspace.id)
                .await?;
            plans.push(
                self.plan(&identity, workspace, project, branch, prefer, false)
                    .await?,
            );
        }
        let conflicts: Vec<(String, Vec<Conflict>)> = plans
            .iter()
            .filter(|plan| !plan.conflicts.is_empty())
            .map(|plan| (plan.workspace_id.clone(), plan.conflicts.clone()))
            .collect();
        if prefer.is_none() && !conflicts.is_empty() {
            return Err(SyncError::Conflicts { conflicts });
        }
        if team_project.is_none()
            && let Some(new) = plans.iter().find(|plan| plan.project.is_none())
        {
            return Err(SyncError::Invalid(format!(
                "workspace {} is not on the server yet: name the team project to create it in \
                 (--team-project)",
                new.workspace_id
            )));
        }

        // The teammates' changes go into the file before anything is pushed.
        let mut keys = HashMap::new();
        let mut unchecked = HashSet::new();
        let mut file_changed = false;
        for plan in &mut plans {
            let Some(project) = &plan.project else {
                continue;
            };
            let key = self.remote.project_key(&project.id, &self.private).await?;
            if !self
                .check_key(org, project, &key, &plan.remote_state)
                .await?
            {
                unchecked.insert(project.id.clone());
            }
            if !plan.incoming.is_empty() {
                let documents = self.documents_of(&project.id, &key, plan).await?;
                file.replace_workspace(&plan.workspace_id, &documents);
                file_changed = true;
            }
            keys.insert(project.id.clone(), key);
        }
        if file_changed {
            write_export(path, &file)?;
        }

        let mut pushed = Vec::new();
        for plan in plans {
            let (project, key, created) = match &plan.project {
                Some(project) => {
                    let key = keys.remove(&project.id).ok_or_else(|| {
                        SyncError::Invalid("two workspaces share one project".into())
                    })?;
                    (project.clone(), key, false)
                }
                None => {
                    let team_project = team_project.ok_or_else(|| {
                        SyncError::Invalid("no team project for a new project".into())
                    })?;
                    let project = Project {
                        id: hypnos_crypto::random::prefixed_id("prj").map_err(ClientError::from)?,
                        name: plan.name.clone(),
                        root_document_id: plan.workspace_id.clone(),
                    };
                    let key = self
                        .remote
                        .create_project(&project, org, team_project, &mut check)
                        .await?;
                    (project, key, true)
                }
            };
            let mut outcome = Pushed {
                id: project.id.clone(),
                workspace_id: plan.workspace_id.clone(),
                name: plan.name.clone(),
                branch: branch.to_owned(),
                created_project: created,
                snapshot: None,
                uploaded_blobs: 0,
                outgoing: plan.outgoing.clone(),
                incoming: plan.incoming.clone(),
                conflicts: plan.conflicts.clone(),
                key_unchecked: unchecked.contains(&project.id),
            };
            let tip = if plan.outgoing.is_empty() && plan.remote_tip.is_some() {
                plan.remote_tip.clone().map(|tip| (tip, plan.history_len))
            } else {
                let (id, uploaded) = self
                    .push_snapshot(&project.id, &key, &plan, branch, message)
                    .await?;
                outcome.uploaded_blobs = uploaded;
                outcome.snapshot = Some(id.clone());
                Some((id, plan.history_len + 1))
            };
            if let Some((tip, length)) = tip {
                self.record(&identity, &project.id, branch, &tip, length)?;
            }
            pushed.push(outcome);
        }
        Ok(pushed)
    }
    /// Uploads what the server lacks of the merged state and appends its snapshot.
    async fn push_snapshot(
        &self,
        project: &str,
        key: &AesKey,
        plan: &Plan,
        branch: &str,
        message: &str,
    ) -> Result<(String, usize), SyncError> {
        let blobs: Vec<&str> = plan.merged.values().map(|e| e.blob.as_str()).collect();
        let missing = self.remote.missing_blobs(project, &blobs).await?;
        let mut upload: Vec<(&str, &str)> = Vec::with_capacity(missing.len());
        for id in &missing {
            // The server lacks only blobs of this file: the teammates' are there already.
            let content = plan.contents.get(id).ok_or_else(|| {
                ClientError::Protocol(format!("the server lacks blob {id}, which is not ours"))
            })?;
            upload.push((id.as_str(), content.as_str()));
        }
        if !upload.is_empty() {
            self.progress.begin("uploading", upload.len() as u64);
            let done = self
                .remote
                .upload_blobs(project, key, &upload, self.progress)
                .await;
            self.progress.end();
            done?;
        }
        let parent = plan.remote_tip.as_deref().unwrap_or(EMPTY_HASH);
        let id = snapshot_id(project, parent, &blobs);
        self.remote
            .push_snapshot(
                project,
                branch,
                &NewSnapshot {
                    id: &id,
                    parent,
                    message,
                    state: &plan.merged,
                },
            )
            .await
            .map_err(|err| match err {
                // The branch moved on since the plan was made.
                ClientError::Conflict(refusal) => SyncError::BranchMoved(format!(
                    "a teammate pushed to {branch} meanwhile ({}): run the push again to merge",
                    refusal.message
                )),
                other => SyncError::Client(other),
            })?;
        Ok((id, upload.len()))
    }
}
