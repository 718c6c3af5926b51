//! What this machine remembers between syncs, under the client's state directory:
//!
//! * `sync/<server>/<project>/<branch>.json`: the snapshot this machine last synced (the base
//!   of the next three-way merge);
//! * `cache/<project>.enc`: the documents of the snapshot this machine synced last, so a later
//!   pull or merge downloads only what is new. One file a project (10,000 small files cost
//!   seconds of file-system time; one costs milliseconds), holding every blob by id, gzipped and
//!   AES-GCM-encrypted with the account key, bound to the project's id (additional data): no
//!   plaintext copy of the team's data (the app leaves its local copy in the clear). A cache
//!   that does not open, or a blob that does not match its id, is a miss.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
};

use hypnos_crypto::{
    aes::{AesKey, AesMessage},
    encoding::is_lower_hex,
    sync::{blob_id, gunzip, gzip},
};
use serde::{Deserialize, Serialize};

/// The largest cache read back (its JSON, inflated).
const MAX_CACHED_BYTES: usize = 1 << 30;

/// The client's sync state on disk.
pub struct Local {
    dir: PathBuf,
    server: String,
    account_key: AesKey,
}

#[derive(Serialize, Deserialize)]
struct Base {
    snapshot: String,
}

/// A file name for a server URL: its host and port, made safe.
fn server_dir(server: &str) -> String {
    let without_scheme = server.split_once("://").map_or(server, |(_, rest)| rest);
    without_scheme
        .trim_end_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Ids name files, so only plain ones are accepted (the server's are `prj_<hex>` and 40 hex).
fn safe(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
}

impl Local {
    /// The state under `dir` for `server`, encrypted with `account_key`.
    pub fn new(dir: &Path, server: &str, account_key: AesKey) -> Self {
        Self {
            dir: dir.to_owned(),
            server: server_dir(server),
            account_key,
        }
    }

    fn base_path(&self, project: &str, branch: &str) -> Option<PathBuf> {
        (safe(project) && safe(branch)).then(|| {
            self.dir
                .join("sync")
                .join(&self.server)
                .join(project)
                .join(format!("{}.json", branch.to_lowercase()))
        })
    }

    /// The snapshot this machine last synced on the branch.
    pub fn base(&self, project: &str, branch: &str) -> Option<String> {
        let text = fs::read_to_string(self.base_path(project, branch)?).ok()?;
        let base: Base = serde_json::from_str(&text).ok()?;
        is_lower_hex(&base.snapshot, 40).then_some(base.snapshot)
    }

    /// Records the snapshot this machine synced last.
    pub fn set_base(&self, project: &str, branch: &str, snapshot: &str) -> std::io::Result<()> {
        let Some(path) = self.base_path(project, branch) else {
            return Err(std::io::Error::other("unusable project or branch name"));
        };
        let text = serde_json::to_string(&Base {
            snapshot: snapshot.to_owned(),
        })
        .map_err(std::io::Error::other)?;
        write_atomically(&path, text.as_bytes())
    }

    fn cache_path(&self, project: &str) -> Option<PathBuf> {
        safe(project).then(|| self.dir.join("cache").join(format!("{project}.enc")))
    }

    /// The cached blobs among `ids`, by id.
    pub fn cached(&self, project: &str, ids: &[String]) -> HashMap<String, String> {
        let mut all = self.read_cache(project);
        ids.iter()
            .filter_map(|id| Some((id.clone(), all.remove(id)?)))
            .collect()
    }

    fn read_cache(&self, project: &str) -> HashMap<String, String> {
        let Some(path) = self.cache_path(project) else {
            return HashMap::new();
        };
        let Ok(text) = fs::read_to_string(&path) else {
            return HashMap::new();
        };
        let blobs: Option<HashMap<String, String>> = AesMessage::from_json(&text)
            .ok()
            .filter(|message| message.ad == project.as_bytes())
            .and_then(|message| message.open_data(&self.account_key).ok())
            .and_then(|gz| gunzip(&gz, MAX_CACHED_BYTES).ok())
            .and_then(|json| serde_json::from_slice(&json).ok());
        match blobs {
            Some(mut blobs) => {
                blobs.retain(|id, content| blob_id(content) == *id);
                blobs
            }
            None => {
                // Another account's, damaged or tampered with: fetch again.
                let _ = fs::remove_file(&path);
                HashMap::new()
            }
        }
    }

    /// Keeps these blobs (the synced snapshot's) as the project's cache, replacing what it
    /// held. Best effort: the cache only saves downloads.
    pub fn keep(&self, project: &str, blobs: &HashMap<&str, &str>) {
        let Some(path) = self.cache_path(project) else {
            return;
        };
        let Ok(json) = serde_json::to_vec(blobs) else {
            return;
        };
        if let Ok(message) = AesMessage::seal(&self.account_key, &gzip(&json), project.as_bytes()) {
            let _ = write_atomically(&path, message.to_json().as_bytes());
        }
    }
}

/// Writes a file whole or not at all (a temporary file renamed over it), readable by the user
/// alone.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|err| err.error)?;
    Ok(())
}
