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
//! GraphQL operations), [`local`] (the base snapshots and the encrypted blob cache); the
//! [`Syncer`]'s steps: `plan` (what a sync would do, and its checks), `push`, `pull`.

pub mod export;
pub mod local;
pub mod merge;
mod plan;
mod pull;
mod push;
pub mod remote;
pub mod state;

use std::collections::{BTreeMap, HashMap};

use hypnos_crypto::rsa::RsaPrivateKey;
use serde::Serialize;

use crate::api::ClientError;
use export::Export;
use local::Local;
use merge::Conflict;
pub use push::PushOptions;
use remote::{Project, Remote, SyncFailure};
use state::State;

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
    /// A teammate pushed to the branch between the push's merge and its snapshot: the file
    /// holds the merge, nothing was pushed; pushing again merges their change too.
    #[error("{0}")]
    BranchMoved(String),
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
