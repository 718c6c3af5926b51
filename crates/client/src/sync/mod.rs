//! Sync of the app's export files with the server, end to end: what `hypnos push`, `pull` and
//! `status` do.
//!
//! Each workspace of an export is one backend project (its `rootDocumentId` is the workspace's
//! id). Pushing makes one snapshot of the workspace's synced documents on a branch; if the
//! branch moved since this machine last synced it, the file and the branch are merged three
//! ways first (the app's rules, [`merge`]), and the file is rewritten with the teammates'
//! changes before anything is pushed, so nothing of theirs is lost. Conflicts stop everything
//! before a byte is written, unless the caller said which side wins.
//!
//! Modules: [`export`] (the file), [`state`] (snapshot states), [`merge`], [`remote`] (the
//! GraphQL operations), [`local`] (the base snapshots and the encrypted blob cache).

pub mod export;
pub mod local;
pub mod merge;
pub mod remote;
pub mod state;

use std::collections::{BTreeMap, HashMap};

use hypnos_crypto::{
    aes::AesKey,
    rsa::{RsaPrivateKey, RsaPublicKey},
    sync::{EMPTY_HASH, snapshot_id},
};
use serde::Serialize;
use serde_json::Value;

use crate::api::ClientError;
use export::{Export, Workspace};
use local::Local;
use merge::{Conflict, Merged, Prefer, three_way};
use remote::{KeyCheck, NewSnapshot, Project, Remote, Snapshot, SyncFailure};
use state::{State, state_of};

/// Told how a long step advances (the command line draws a bar).
pub trait Progress: Sync {
    /// A step of `total` units starts.
    fn begin(&self, step: &str, total: u64);
    /// `units` more are done.
    fn advance(&self, units: u64);
    /// The step is over.
    fn end(&self);
}

/// Progress nobody watches.
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
}

/// Why a sync did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server, the network or the crypto failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Both sides changed the same documents; nothing was written or pushed.
    #[error("{} conflicting documents", conflicts.iter().map(|(_, c)| c.len()).sum::<usize>())]
    Conflicts {
        /// By workspace id.
        conflicts: Vec<(String, Vec<Conflict>)>,
    },
    /// The file or the request is unusable.
    #[error("{0}")]
    Invalid(String),
    /// The caller's check refused a teammate's public key.
    #[error("{0}")]
    Refused(String),
    /// A local file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The branch on the server no longer holds the tip this machine saw: the server went
    /// back (a restored backup, or tampering). Nothing was written or pushed.
    #[error("{0}")]
    Rollback(String),
    /// The caller's key for a project does not open the project's data. Nothing was written
    /// or pushed.
    #[error("{0}")]
    BadProjectKey(String),
}

impl From<SyncFailure> for SyncError {
    fn from(failure: SyncFailure) -> Self {
        match failure {
            SyncFailure::Client(err) => Self::Client(err),
            SyncFailure::Refused(message) => Self::Refused(message),
        }
    }
}

/// Documents added, changed and removed between two states (their names, by key).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    /// Added.
    pub added: BTreeMap<String, String>,
    /// Changed.
    pub modified: BTreeMap<String, String>,
    /// Removed.
    pub removed: BTreeMap<String, String>,
}

impl Changes {
    /// What turns `from` into `to`.
    pub fn between(from: &State, to: &State) -> Self {
        let mut changes = Self::default();
        for (key, entry) in to {
            match from.get(key) {
                None => {
                    changes.added.insert(key.clone(), entry.name.clone());
                }
                Some(old) if old.blob != entry.blob => {
                    changes.modified.insert(key.clone(), entry.name.clone());
                }
                Some(_) => {}
            }
        }
        for (key, entry) in from {
            if !to.contains_key(key) {
                changes.removed.insert(key.clone(), entry.name.clone());
            }
        }
        changes
    }

    /// How many documents changed.
    pub fn len(&self) -> usize {
        self.added.len() + self.modified.len() + self.removed.len()
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One workspace's sync, worked out before anything is written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The workspace's id.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// Its backend project, if the server has one.
    pub project: Option<Project>,
    /// The branch.
    pub branch: String,
    /// The branch's tip on the server.
    pub remote_tip: Option<String>,
    /// The snapshot this machine synced last.
    pub base: Option<String>,
    /// What a push would change on the server.
    pub outgoing: Changes,
    /// What the teammates changed that the file lacks (the merge brings it in).
    pub incoming: Changes,
    /// Documents both sides changed.
    pub conflicts: Vec<Conflict>,
    /// How many snapshots the branch holds on the server.
    #[serde(skip)]
    history_len: usize,
    /// The server's tip's documents.
    #[serde(skip)]
    remote_state: State,
    #[serde(skip)]
    merged: State,
    #[serde(skip)]
    contents: HashMap<String, String>,
}

/// What a push did for one workspace.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    /// The backend project's id.
    pub id: String,
    /// The workspace's id.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// The branch.
    pub branch: String,
    /// Whether this push created the project.
    pub created_project: bool,
    /// The snapshot pushed (none when the server already held these documents).
    pub snapshot: Option<String>,
    /// Blobs uploaded.
    pub uploaded_blobs: usize,
    /// What the push changed on the server.
    pub outgoing: Changes,
    /// What the merge brought into the file from teammates.
    pub incoming: Changes,
    /// Conflicts settled by the preference given.
    pub conflicts: Vec<Conflict>,
    /// The project existed but held no documents, so the caller's key for it could not be
    /// checked against its data.
    pub key_unchecked: bool,
}

/// What a pull wrote.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pulled {
    /// The backend project's id.
    pub id: String,
    /// The workspace's id.
    pub workspace_id: String,
    /// Its name.
    pub name: String,
    /// The branch.
    pub branch: String,
    /// The snapshot pulled.
    pub snapshot: String,
    /// Documents of the workspace now in the file.
    pub documents: usize,
    /// What the pull changed in the file.
    pub incoming: Changes,
    /// Changes of the file's that the server lacks (push them).
    pub outgoing: Changes,
    /// Conflicts settled by the preference given.
    pub conflicts: Vec<Conflict>,
}

/// Which project a pull reads.
pub enum Target<'a> {
    /// By project id (`prj_…`).
    Project(&'a str),
    /// By workspace id (`wrk_…`).
    Workspace(&'a str),
}

/// A logged-in account's sync: the server, its private key and this machine's state.
pub struct Syncer<'a> {
    remote: Remote,
    private: RsaPrivateKey,
    local: Local,
    progress: &'a dyn Progress,
    /// The caller's e-mail, for the advice on a bad project key.
    email: String,
    /// Accept a branch that no longer holds the tip this machine saw.
    accept_rollback: bool,
}

impl<'a> Syncer<'a> {
    /// Sync as `session` on `api`'s server, keeping state under `dir`.
    pub fn new(
        api: &crate::Api,
        session: &crate::Session,
        dir: &std::path::Path,
        progress: &'a dyn Progress,
    ) -> Result<Self, ClientError> {
        Ok(Self {
            remote: Remote::new(api, &session.id),
            private: crate::orgs::private_key(session)?,
            local: Local::new(dir, api.base(), session.account_key.key()),
            progress,
            email: session.account.email.clone(),
            accept_rollback: false,
        })
    }

    /// Accept (`true`) a branch whose history no longer holds the tip this machine saw last,
    /// instead of refusing it: after the operator restored a backup, say.
    pub fn accept_rollback(mut self, accept: bool) -> Self {
        self.accept_rollback = accept;
        self
    }

    /// Refuses a project key that does not open the project's data (`state`, the branch's
    /// tip); says whether there was data to check it against.
    async fn check_key(
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
    fn record(
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

    /// Pushes every workspace of the export at `path` to `branch`, creating projects in the
    /// organization's team project as needed, merging first where teammates pushed since this
    /// machine last synced (the file is rewritten with their changes before anything is
    /// pushed). `check` sees each member's public key before a new project's key is
    /// encrypted to it.
    #[allow(
        clippy::too_many_arguments,
        reason = "each is one of the command's options"
    )]
    pub async fn push(
        &self,
        path: &std::path::Path,
        org: &str,
        team_project: &str,
        branch: &str,
        message: &str,
        prefer: Option<Prefer>,
        mut check: impl FnMut(&str, &RsaPublicKey) -> Result<(), String>,
    ) -> Result<Vec<Pushed>, SyncError> {
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

        // The teammates' changes go into the file before anything is pushed.
        let mut keys = HashMap::new();
        let mut unchecked = std::collections::HashSet::new();
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

    /// Pulls a project's branch into the export at `path`: a new file, or the workspace merged
    /// into the file's own (three ways, from the snapshot this machine synced last).
    pub async fn pull(
        &self,
        org: &str,
        target: Target<'_>,
        branch: &str,
        path: &std::path::Path,
        format: Option<export::Format>,
        prefer: Option<Prefer>,
    ) -> Result<Pulled, SyncError> {
        let project = match target {
            Target::Project(id) => self.remote.project(id).await?,
            Target::Workspace(id) => self.remote.project_of_workspace(Some(org), id).await?,
        }
        .ok_or_else(|| {
            SyncError::Invalid(
                "no such project in this organization (hypnos status FILE or the app shows the \
                 ids)"
                    .into(),
            )
        })?;
        let mut file = match std::fs::read_to_string(path) {
            Ok(text) => Export::parse(&text).map_err(|err| {
                SyncError::Invalid(format!(
                    "{} exists and is not an export the pull can merge into ({err}); choose \
                     another -o FILE",
                    path.display()
                ))
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Export::new(format.unwrap_or_else(|| export::Format::from_path(path)))
            }
            Err(err) => {
                return Err(SyncError::Io(format!(
                    "cannot read {}: {err}",
                    path.display()
                )));
            }
        };
        if let Some(format) = format {
            file.format = format;
        }
        // A file without the workspace deleted nothing: it takes the branch as it is.
        let present = file
            .workspaces()
            .into_iter()
            .find(|workspace| workspace.id == project.root_document_id);
        let fresh = present.is_none();
        let workspace = present.unwrap_or_else(|| Workspace {
            id: project.root_document_id.clone(),
            name: project.name.clone(),
            documents: Vec::new(),
        });
        let identity = identity_of(path)?;
        let plan = self
            .plan(
                &identity,
                &workspace,
                Some(project.clone()),
                branch,
                prefer,
                fresh,
            )
            .await?;
        let Some(tip) = plan.remote_tip.clone() else {
            return Err(SyncError::Invalid(format!(
                "branch {branch} of {} has no snapshots yet",
                project.id
            )));
        };
        if prefer.is_none() && !plan.conflicts.is_empty() {
            return Err(SyncError::Conflicts {
                conflicts: vec![(plan.workspace_id.clone(), plan.conflicts.clone())],
            });
        }
        let key = self.remote.project_key(&project.id, &self.private).await?;
        self.check_key(org, &project, &key, &plan.remote_state)
            .await?;
        let documents = self.documents_of(&project.id, &key, &plan).await?;
        file.replace_workspace(&plan.workspace_id, &documents);
        write_export(path, &file)?;
        // The written file's own identity (it may not have existed before).
        let identity = identity_of(path)?;
        self.record(&identity, &project.id, branch, &tip, plan.history_len)?;
        Ok(Pulled {
            id: project.id,
            workspace_id: plan.workspace_id,
            name: plan.name,
            branch: branch.to_owned(),
            snapshot: tip,
            documents: documents.len(),
            incoming: plan.incoming,
            outgoing: plan.outgoing,
            conflicts: plan.conflicts,
        })
    }

    /// Works out one workspace's merge with the branch, from the snapshot the file `file`
    /// ([`local::file_identity`]) was last synced at; `fresh` for a file that never held the
    /// workspace (no common root: the branch comes in whole).
    async fn plan(
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
    async fn documents_of(
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
                ClientError::Server { ref message, .. } if message.contains("not a fast-forward") => {
                    SyncError::Invalid(format!(
                        "a teammate pushed to {branch} meanwhile ({message}): run the push again to merge"
                    ))
                }
                other => SyncError::Client(other),
            })?;
        Ok((id, upload.len()))
    }
}

/// A file's identity for the records of what it synced.
fn identity_of(path: &std::path::Path) -> Result<String, SyncError> {
    local::file_identity(path)
        .map_err(|err| SyncError::Io(format!("cannot resolve {}: {err}", path.display())))
}

/// Reads an export file.
pub fn read_export(path: &std::path::Path) -> Result<Export, SyncError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| SyncError::Io(format!("cannot read {}: {err}", path.display())))?;
    Export::parse(&text).map_err(|err| SyncError::Invalid(format!("{}: {err}", path.display())))
}

/// Writes an export file whole or not at all, keeping an existing file's permissions.
fn write_export(path: &std::path::Path, file: &Export) -> Result<(), SyncError> {
    let text = file
        .render()
        .map_err(|err| SyncError::Invalid(err.to_string()))?;
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    local::write_atomically(path, text.as_bytes())
        .and_then(|()| match permissions {
            Some(permissions) => std::fs::set_permissions(path, permissions),
            None => Ok(()),
        })
        .map_err(|err| SyncError::Io(format!("cannot write {}: {err}", path.display())))
}
