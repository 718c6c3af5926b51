//! The sync API's operations (insomnia-wire.md §4.3), with the app's argument names and its
//! batch sizes, as typed calls.

use std::collections::HashMap;

use hypnos_crypto::{
    CryptoError,
    aes::AesKey,
    jwk::SymmetricJwk,
    rsa::{RsaPrivateKey, RsaPublicKey},
    sync::{open_blob, seal_blob},
    wire::sync::{
        BLOBS, BLOBS_CREATE, BLOBS_MISSING, BLOBS_PER_QUERY, BRANCH, Blob, BlobsData,
        BlobsMissingData, BranchData, PROJECT, PROJECT_CREATE, PROJECT_KEY, PROJECTS,
        ProjectCreateKeyInput, ProjectData, ProjectKeyData, ProjectsData, SNAPSHOTS,
        SNAPSHOTS_CREATE, SnapshotInput, SnapshotsData, TEAM_MEMBER_KEYS, TeamMemberKeysData,
        UPLOAD_BLOBS, UPLOAD_BYTES,
    },
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::state::{State, from_wire, to_wire};
use crate::api::{Api, ClientError};

pub use hypnos_crypto::wire::sync::Project;

/// Uploads in flight at once: enough to keep the server's cores busy while this one seals.
const UPLOADS_IN_FLIGHT: usize = 4;
/// The largest blob content a download may inflate to.
const MAX_BLOB_BYTES: usize = 64 << 20;

/// A snapshot as the server returns it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Its id.
    pub id: String,
    /// Its parent's id.
    pub parent: String,
    /// Its documents.
    pub state: State,
}

/// A session's view of the sync API.
#[derive(Clone)]
pub struct Remote {
    api: Api,
    session: String,
}

/// One sync API operation (a document of [`hypnos_crypto::wire::sync`]) as `session`, its
/// `data` read as the document's answer type.
pub(crate) async fn query<T: DeserializeOwned>(
    api: &Api,
    session: &str,
    document: &str,
    variables: Value,
) -> Result<T, ClientError> {
    let data = api.graphql(session, document, variables).await?;
    serde_json::from_value(data)
        .map_err(|err| ClientError::Protocol(format!("an unreadable GraphQL answer: {err}")))
}

impl Remote {
    /// The sync API of `api`'s server, as the holder of `session`.
    pub fn new(api: &Api, session: &str) -> Self {
        Self {
            api: api.clone(),
            session: session.to_owned(),
        }
    }

    async fn query<T: DeserializeOwned>(
        &self,
        document: &str,
        variables: Value,
    ) -> Result<T, ClientError> {
        query(&self.api, &self.session, document, variables).await
    }

    /// A project by id, if the caller may see it.
    pub async fn project(&self, id: &str) -> Result<Option<Project>, ClientError> {
        let data: ProjectData = self.query(PROJECT, json!({"id": id})).await?;
        Ok(data.project)
    }

    /// The project of the workspace `root`, among an organization's projects (every
    /// organization's when `org` is `None`).
    pub async fn project_of_workspace(
        &self,
        org: Option<&str>,
        root: &str,
    ) -> Result<Option<Project>, ClientError> {
        let data: ProjectsData = self.query(PROJECTS, json!({"teamId": org})).await?;
        Ok(data
            .projects
            .into_iter()
            .find(|project| project.root_document_id == root))
    }

    /// Creates a project for `workspace` with a new key encrypted to every member's public key
    /// (`check` sees each key first and may refuse it); returns the project key.
    pub async fn create_project(
        &self,
        project: &Project,
        org: &str,
        team_project: &str,
        mut check: impl FnMut(&str, &RsaPublicKey) -> Result<(), String>,
    ) -> Result<AesKey, SyncFailure> {
        let data: TeamMemberKeysData = self.query(TEAM_MEMBER_KEYS, json!({"teamId": org})).await?;
        let key = AesKey::generate().map_err(ClientError::from)?;
        let jwk = key.to_jwk().to_json();
        let mut team_keys = Vec::new();
        for member in data.team_member_keys.member_keys {
            let public =
                RsaPublicKey::from_jwk_json(&member.public_key).map_err(ClientError::from)?;
            check(&member.account_id, &public).map_err(SyncFailure::Refused)?;
            team_keys.push(ProjectCreateKeyInput {
                enc_symmetric_key: public.encrypt_string(&jwk).map_err(ClientError::from)?,
                account_id: member.account_id,
                auto_linked: member.auto_linked,
            });
        }
        self.query::<Value>(
            PROJECT_CREATE,
            json!({
                "name": project.name, "id": project.id, "rootDocumentId": project.root_document_id,
                "teamId": org, "teamKeys": team_keys, "teamProjectId": team_project,
            }),
        )
        .await?;
        Ok(key)
    }

    /// The project's key, decrypted with the caller's private key.
    pub async fn project_key(
        &self,
        project: &str,
        private: &RsaPrivateKey,
    ) -> Result<AesKey, ClientError> {
        let data: ProjectKeyData = self
            .query(PROJECT_KEY, json!({"projectId": project}))
            .await?;
        let encrypted = data
            .project_key
            .map(|key| key.enc_symmetric_key)
            .ok_or_else(|| {
                ClientError::Protocol(format!(
                    "the server holds no key of {project} for you: ask a teammate to run hypnos share"
                ))
            })?;
        Ok(SymmetricJwk::from_json(&private.decrypt_string(&encrypted)?)?.key())
    }

    /// A branch's snapshot ids, oldest first (empty for a branch that does not exist).
    pub async fn branch(&self, project: &str, name: &str) -> Result<Vec<String>, ClientError> {
        let data: BranchData = self
            .query(BRANCH, json!({"project": project, "name": name}))
            .await?;
        Ok(data
            .branch
            .map(|branch| branch.snapshots)
            .unwrap_or_default())
    }

    /// One snapshot.
    pub async fn snapshot(&self, project: &str, id: &str) -> Result<Snapshot, ClientError> {
        let data: SnapshotsData = self
            .query(SNAPSHOTS, json!({"ids": [id], "project": project}))
            .await?;
        let Some(found) = data
            .snapshots
            .into_iter()
            .next()
            .filter(|found| found.id == id)
        else {
            return Err(ClientError::Protocol(format!("snapshot {id} is missing")));
        };
        Ok(Snapshot {
            id: found.id,
            parent: found.parent,
            state: from_wire(found.state),
        })
    }

    /// Whether `key` opens the data of `state` (a snapshot's): one of its blobs is downloaded
    /// and opened. A key that a member planted opens nothing the team pushed.
    pub async fn key_opens_state(
        &self,
        project: &str,
        key: &AesKey,
        state: &State,
    ) -> Result<KeyCheck, ClientError> {
        let Some(entry) = state.values().next() else {
            return Ok(KeyCheck::NoData);
        };
        let data: BlobsData = self
            .query(BLOBS, json!({"ids": [entry.blob], "project": project}))
            .await?;
        let Some(Blob { content, .. }) = data.blobs.into_iter().find(|blob| blob.id == entry.blob)
        else {
            return Err(ClientError::Protocol(format!(
                "the server lacks blob {}",
                entry.blob
            )));
        };
        match open_blob(key, &content, MAX_BLOB_BYTES) {
            Ok(text) if hypnos_crypto::sync::blob_id(&text) == entry.blob => Ok(KeyCheck::Opens),
            Ok(_) => Err(ClientError::Protocol(format!(
                "blob {} does not match its content",
                entry.blob
            ))),
            Err(CryptoError::Decrypt) => Ok(KeyCheck::DoesNotOpen),
            Err(other) => Err(other.into()),
        }
    }

    /// Whether `key` opens the project's data: the tip of its `master` branch, else of its
    /// other branches in turn, until one holds documents.
    pub async fn key_opens_project(
        &self,
        project: &str,
        key: &AesKey,
    ) -> Result<KeyCheck, ClientError> {
        let mut names = crate::history::branches(&self.api, &self.session, project).await?;
        names.sort_by_key(|name| name != "master");
        for name in names {
            let Some(tip) = self.branch(project, &name).await?.pop() else {
                continue;
            };
            let snapshot = self.snapshot(project, &tip).await?;
            match self.key_opens_state(project, key, &snapshot.state).await? {
                KeyCheck::NoData => continue,
                found => return Ok(found),
            }
        }
        Ok(KeyCheck::NoData)
    }

    /// Which of these blobs the server lacks.
    pub async fn missing_blobs(
        &self,
        project: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashSet<String>, ClientError> {
        let data: BlobsMissingData = self
            .query(BLOBS_MISSING, json!({"project": project, "ids": ids}))
            .await?;
        Ok(data.blobs_missing.missing.into_iter().collect())
    }

    /// Seals and uploads blobs (id, content), in the app's batches, a few in flight;
    /// `progress` is told of each batch's blobs as it lands.
    pub async fn upload_blobs(
        &self,
        project: &str,
        key: &AesKey,
        blobs: &[(&str, &str)],
        progress: &dyn super::Progress,
    ) -> Result<usize, ClientError> {
        let sealed = seal_blobs(key, blobs)?;
        self.upload_sealed(project, sealed, progress).await
    }

    /// Uploads sealed blobs ([`seal_blobs`]) in the app's batches, a few in flight; `progress`
    /// is told of each batch's blobs as it lands. The second half of [`Self::upload_blobs`],
    /// apart so that a benchmark can time the sealing; returns the bytes uploaded.
    pub async fn upload_sealed(
        &self,
        project: &str,
        sealed: Vec<Blob>,
        progress: &dyn super::Progress,
    ) -> Result<usize, ClientError> {
        let mut in_flight = tokio::task::JoinSet::new();
        let mut bytes = 0;
        let mut batch: Vec<Blob> = Vec::new();
        let mut batch_bytes = 0;
        let mut batches = Vec::new();
        for blob in sealed {
            let size = blob.content.len();
            if !batch.is_empty()
                && (batch.len() == UPLOAD_BLOBS || batch_bytes + size > UPLOAD_BYTES)
            {
                batches.push(std::mem::take(&mut batch));
                batch_bytes = 0;
            }
            batch_bytes += size;
            bytes += size;
            batch.push(blob);
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        for batch in batches {
            if in_flight.len() == UPLOADS_IN_FLIGHT {
                progress.advance(joined(in_flight.join_next().await)?);
            }
            let remote = self.clone();
            let project = project.to_owned();
            in_flight.spawn(async move {
                let count = batch.len() as u64;
                remote
                    .query::<Value>(BLOBS_CREATE, json!({"project": project, "blobs": batch}))
                    .await
                    .map(|_| count)
            });
        }
        while let Some(done) = in_flight.join_next().await {
            progress.advance(joined(Some(done))?);
        }
        Ok(bytes)
    }

    /// Downloads and opens blobs, checking each against its id; `progress` is told of each
    /// batch.
    pub async fn download_blobs(
        &self,
        project: &str,
        key: &AesKey,
        ids: &[String],
        progress: &dyn super::Progress,
    ) -> Result<HashMap<String, String>, ClientError> {
        let mut contents = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(BLOBS_PER_QUERY) {
            let data: BlobsData = self
                .query(BLOBS, json!({"ids": chunk, "project": project}))
                .await?;
            for Blob { id, content } in data.blobs {
                let content = open_blob(key, &content, MAX_BLOB_BYTES)?;
                if hypnos_crypto::sync::blob_id(&content) != id {
                    return Err(ClientError::Protocol(format!(
                        "blob {id} does not match its content"
                    )));
                }
                contents.insert(id, content);
            }
            progress.advance(chunk.len() as u64);
        }
        if let Some(missing) = ids.iter().find(|id| !contents.contains_key(*id)) {
            return Err(ClientError::Protocol(format!(
                "the server lacks blob {missing}"
            )));
        }
        Ok(contents)
    }

    /// Appends a snapshot to a branch (the server refuses it unless its parent is the tip).
    pub async fn push_snapshot(
        &self,
        project: &str,
        branch: &str,
        snapshot: &NewSnapshot<'_>,
    ) -> Result<(), ClientError> {
        let input = SnapshotInput {
            id: snapshot.id.to_owned(),
            parent: snapshot.parent.to_owned(),
            created: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            author: String::new(),
            name: snapshot.message.to_owned(),
            description: String::new(),
            state: to_wire(snapshot.state),
        };
        self.query::<Value>(
            SNAPSHOTS_CREATE,
            json!({"project": project, "branch": branch, "snapshots": [input]}),
        )
        .await
        .map(drop)
    }
}

/// What opening a project's data with a key showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The key opens it.
    Opens,
    /// The key does not open it: not the key the team encrypts with.
    DoesNotOpen,
    /// The project holds no documents yet: no key can be checked.
    NoData,
}

/// A snapshot to push.
pub struct NewSnapshot<'a> {
    /// Its id (`snapshot_id(project, parent, blobs)`).
    pub id: &'a str,
    /// The branch's tip it follows.
    pub parent: &'a str,
    /// Its message.
    pub message: &'a str,
    /// Its documents.
    pub state: &'a State,
}

/// Why a sync step stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    /// The server or the crypto failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The caller's check refused a member's public key.
    #[error("{0}")]
    Refused(String),
}

fn joined(
    done: Option<Result<Result<u64, ClientError>, tokio::task::JoinError>>,
) -> Result<u64, ClientError> {
    match done {
        Some(Ok(result)) => result,
        Some(Err(err)) => Err(ClientError::Protocol(format!(
            "an upload task failed: {err}"
        ))),
        None => Ok(0),
    }
}

/// Seals every blob (id, content) (gzip, AES-GCM with the project key), spread over the
/// machine's cores: this is most of a large push's client time.
pub fn seal_blobs(key: &AesKey, blobs: &[(&str, &str)]) -> Result<Vec<Blob>, ClientError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = blobs.len().div_ceil(threads).max(64);
    std::thread::scope(|scope| {
        let handles: Vec<_> = blobs
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|(id, content)| {
                            seal_blob(key, content).map(|content| Blob {
                                id: (*id).to_owned(),
                                content,
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut sealed = Vec::with_capacity(blobs.len());
        for handle in handles {
            let part = handle
                .join()
                .map_err(|_| ClientError::Protocol("sealing a blob panicked".into()))??;
            sealed.extend(part);
        }
        Ok(sealed)
    })
}
