//! Working out a sync before anything is written: the plan of each workspace (the three-way
//! merge with its branch), the checks of the project key and of the branch's history, the
//! merged documents, and the record of what was synced.

use hypnos_crypto::aes::AesKey;
use serde_json::Value;

use super::{
    Changes, Plan, SyncError, Syncer,
    export::{self, Export, Workspace},
    identity_of, local,
    merge::{Merged, Prefer, three_way},
    remote::{KeyCheck, Project, Snapshot},
    state::{State, state_of},
};
use crate::api::ClientError;

impl Syncer<'_> {
    /// Refuses a project key that does not open the project's data (`state`, the branch's
    /// tip); says whether there was data to check it against.
    pub(super) async fn check_key(
        &self,
        org: &str,
        project: &Project,
        key: &AesKey,
        state: &State,
    ) -> Result<bool, SyncError> {
        match self.remote.key_opens_state(&project.id, key, state).await? {
            KeyCheck::Opens => Ok(true),
            KeyCheck::NoData => Ok(false),
            KeyCheck::DoesNotOpen => Err(SyncError::BadProjectKey(format!(
                "the key the server holds for you for project \"{}\" ({}) does not open the \
                 documents your teammates pushed: it is not the project's key (a member may \
                 have given you a wrong one). Nothing was pushed or written. Ask the \
                 organization's owner or an admin to give you the right key: hypnos share {org} \
                 --repair {}",
                project.name, project.id, self.email
            ))),
        }
    }

    /// Refuses a branch whose history no longer holds the tip this machine saw (at the same
    /// place), unless told to accept it.
    fn check_history(
        &self,
        project: &str,
        branch: &str,
        history: &[String],
    ) -> Result<(), SyncError> {
        let Some(seen) = self.local.seen(project, branch) else {
            return Ok(());
        };
        let holds = match seen.length {
            Some(length) => {
                length >= 1
                    && history
                        .get(length - 1)
                        .is_some_and(|id| *id == seen.snapshot)
            }
            None => history.contains(&seen.snapshot),
        };
        if holds || self.accept_rollback {
            return Ok(());
        }
        let length = seen
            .length
            .map_or_else(String::new, |length| format!(" of {length} snapshots"));
        Err(SyncError::Rollback(format!(
            "the server's history went back: branch {branch} of {project} no longer holds \
             snapshot {} that this machine saw as its tip{length} (the server now shows {} \
             snapshots{}). A server restored from a backup shows this, and so does a server that \
             hides or rewrites history. Nothing was pushed or written. If you know why, run again \
             with --accept-rollback (your file may hold changes the server lost: push them \
             again).",
            &seen.snapshot[..12],
            history.len(),
            history.last().map_or_else(String::new, |tip| format!(
                ", tip {}",
                &tip[..tip.len().min(12)]
            )),
        )))
    }

    /// Records what this machine and `file` synced: the branch's tip and length.
    pub(super) fn record(
        &self,
        file: &str,
        project: &str,
        branch: &str,
        tip: &str,
        length: usize,
    ) -> Result<(), SyncError> {
        self.local
            .set_base(file, project, branch, tip)
            .and_then(|()| {
                self.local.set_seen(
                    project,
                    branch,
                    &local::Seen {
                        snapshot: tip.to_owned(),
                        length: Some(length),
                    },
                )
            })
            .map_err(|err| SyncError::Io(format!("cannot record the sync: {err}")))
    }

    /// What pushing `file`, read from `path`, would do (`hypnos status`): one plan a
    /// workspace.
    pub async fn status(
        &self,
        path: &std::path::Path,
        file: &Export,
        branch: &str,
    ) -> Result<Vec<Plan>, SyncError> {
        let identity = identity_of(path)?;
        let mut plans = Vec::new();
        for workspace in file.workspaces() {
            let project = self
                .remote
                .project_of_workspace(None, &workspace.id)
                .await?;
            plans.push(
                self.plan(&identity, &workspace, project, branch, None, false)
                    .await?,
            );
        }
        Ok(plans)
    }
    /// Works out one workspace's merge with the branch, from the snapshot the file `file`
    /// ([`local::file_identity`]) was last synced at; `fresh` for a file that never held the
    /// workspace (no common root: the branch comes in whole).
    pub(super) async fn plan(
        &self,
        file: &str,
        workspace: &Workspace,
        project: Option<Project>,
        branch: &str,
        prefer: Option<Prefer>,
        fresh: bool,
    ) -> Result<Plan, SyncError> {
        let (ours, contents) = state_of(&workspace.documents);
        let (history, tip, base) = match &project {
            Some(project) => {
                let history = self.remote.branch(&project.id, branch).await?;
                self.check_history(&project.id, branch, &history)?;
                let tip = match history.last() {
                    Some(id) => Some(self.remote.snapshot(&project.id, id).await?),
                    None => None,
                };
                let base = self
                    .local
                    .base(file, &project.id, branch)
                    .filter(|_| !fresh);
                (history, tip, base)
            }
            None => (Vec::new(), None, None),
        };
        let theirs = tip
            .as_ref()
            .map(|tip| tip.state.clone())
            .unwrap_or_default();
        // The common root: the snapshot this machine synced last, if the branch still holds
        // it. Without one (a first sync here, or a rewritten branch) nothing is common, and
        // documents that differ conflict as "both added" rather than one side winning.
        let root = match (&project, &tip, &base) {
            (_, Some(Snapshot { id, state, .. }), Some(base)) if id == base => state.clone(),
            (Some(project), Some(_), Some(base)) if history.contains(base) => {
                self.remote.snapshot(&project.id, base).await?.state
            }
            _ => State::new(),
        };
        let Merged { state, conflicts } = three_way(&root, &ours, &theirs, prefer);
        let history_len = history.len();
        Ok(Plan {
            workspace_id: workspace.id.clone(),
            name: workspace.name.clone(),
            project,
            branch: branch.to_owned(),
            remote_tip: tip.map(|tip| tip.id),
            base,
            outgoing: Changes::between(&theirs, &state),
            incoming: Changes::between(&ours, &state),
            conflicts,
            history_len,
            remote_state: theirs,
            merged: state,
            contents,
        })
    }

    /// The merged documents, the workspace first: the file's own where it has them, the rest
    /// from the cache or the server.
    pub(super) async fn documents_of(
        &self,
        project: &str,
        key: &AesKey,
        plan: &Plan,
    ) -> Result<Vec<Value>, SyncError> {
        let wanted: Vec<String> = plan
            .merged
            .values()
            .map(|entry| entry.blob.clone())
            .filter(|blob| !plan.contents.contains_key(blob))
            .collect();
        let mut fetched = self.local.cached(project, &wanted);
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|blob| !fetched.contains_key(blob))
            .collect();
        if !missing.is_empty() {
            self.progress.begin("downloading", missing.len() as u64);
            let downloaded = self
                .remote
                .download_blobs(project, key, &missing, self.progress)
                .await;
            self.progress.end();
            fetched.extend(downloaded?);
        }
        let mut documents = Vec::with_capacity(plan.merged.len());
        for (key, entry) in &plan.merged {
            let content = plan
                .contents
                .get(&entry.blob)
                .or_else(|| fetched.get(&entry.blob))
                .ok_or_else(|| ClientError::Protocol(format!("no content for {key}")))?;
            let document: Value = serde_json::from_str(content).map_err(|err| {
                ClientError::Protocol(format!("document {key} is not JSON: {err}"))
            })?;
            documents.push(document);
        }
        self.local.keep(
            project,
            &plan
                .merged
                .values()
                .filter_map(|entry| {
                    let content = plan
                        .contents
                        .get(&entry.blob)
                        .or_else(|| fetched.get(&entry.blob))?;
                    Some((entry.blob.as_str(), content.as_str()))
                })
                .collect(),
        );
        // The workspace first, then folders, then the rest: the order the app exports in.
        documents.sort_by_key(|document| {
            let rank = match document["type"].as_str() {
                Some("Workspace") => 0,
                Some("RequestGroup") => 1,
                _ => 2,
            };
            (rank, export::id_of(document).to_owned())
        });
        Ok(documents)
    }
}
