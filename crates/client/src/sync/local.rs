//! What this machine remembers between syncs, under the client's state directory:
//!
//! * `sync/<server>/<project>/<branch>.json` (a `/` in the branch's name written `~`): the
//!   branch's tip this machine last saw and how many snapshots the branch held then: a server
//!   that later shows a history without that tip, or a shorter one, went back (a rollback or
//!   another history), and sync refuses it;
//! * `sync/<server>/<project>/<branch>.files/<id>.json`: per export file (`<id>` is SHA-1 of
//!   the file's canonical path), the snapshot that file was last synced at: the base of its
//!   next three-way merge. It is per file, not per machine: a pull into one file must not
//!   become the base of another file that never saw it (its teammates' changes would look
//!   like deletions of its own);
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

/// What a file was last synced at.
#[derive(Serialize, Deserialize)]
struct Base {
    snapshot: String,
    /// The canonical path, for people reading the directory.
    #[serde(default)]
    file: String,
}

/// What this machine last saw of a branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The branch's tip.
    pub snapshot: String,
    /// How many snapshots the branch held (absent in files written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
}

/// The identity of an export file: its canonical path (its directory's, for a file not written
/// yet), so `./a.json` and `/home/me/a.json` are one file.
pub fn file_identity(path: &Path) -> std::io::Result<String> {
    let canonical = match fs::canonicalize(path) {
        Ok(canonical) => canonical,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let parent = match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent,
                _ => Path::new("."),
            };
            let name = path
                .file_name()
                .ok_or_else(|| std::io::Error::other("not a file name"))?;
            fs::canonicalize(parent)?.join(name)
        }
        Err(err) => return Err(err),
    };
    Ok(canonical.to_string_lossy().into_owned())
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

/// A branch's name in file names: lower-cased, and a `/` (newer apps' `feature/x`) written `~`,
/// as the newer apps name their own local branch files. `~` is in no branch name, so two
/// branches never share a file; and `feature/x` stays one file, not a directory (as a
/// directory, branch `abc.files/<id>` would be a file inside branch `abc`'s merge bases).
fn branch_file_name(branch: &str) -> Option<String> {
    let name = branch.to_lowercase();
    if safe(&name) {
        return Some(name);
    }
    (name.contains('/') && hypnos_crypto::sync::is_branch_name(&name))
        .then(|| name.replace('/', "~"))
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

    /// `sync/<server>/<project>/<branch>` + `suffix`.
    fn branch_path(&self, project: &str, branch: &str, suffix: &str) -> Option<PathBuf> {
        let name = branch_file_name(branch)?;
        safe(project).then(|| {
            self.dir
                .join("sync")
                .join(&self.server)
                .join(project)
                .join(format!("{name}{suffix}"))
        })
    }

    fn seen_path(&self, project: &str, branch: &str) -> Option<PathBuf> {
        self.branch_path(project, branch, ".json")
    }

    fn base_path(&self, file: &str, project: &str, branch: &str) -> Option<PathBuf> {
        self.branch_path(project, branch, ".files")
            .map(|dir| dir.join(format!("{}.json", blob_id(file))))
    }

    /// The snapshot the file `file` ([`file_identity`]) was last synced at on the branch;
    /// none for a file this machine never synced.
    pub fn base(&self, file: &str, project: &str, branch: &str) -> Option<String> {
        let text = fs::read_to_string(self.base_path(file, project, branch)?).ok()?;
        let base: Base = serde_json::from_str(&text).ok()?;
        is_lower_hex(&base.snapshot, 40).then_some(base.snapshot)
    }

    /// Records the snapshot `file` was synced at.
    pub fn set_base(
        &self,
        file: &str,
        project: &str,
        branch: &str,
        snapshot: &str,
    ) -> std::io::Result<()> {
        let Some(path) = self.base_path(file, project, branch) else {
            return Err(std::io::Error::other("unusable project or branch name"));
        };
        let text = serde_json::to_string(&Base {
            snapshot: snapshot.to_owned(),
            file: file.to_owned(),
        })
        .map_err(std::io::Error::other)?;
        write_atomically(&path, text.as_bytes())
    }

    /// What this machine last saw of the branch, if it ever synced it.
    pub fn seen(&self, project: &str, branch: &str) -> Option<Seen> {
        let text = fs::read_to_string(self.seen_path(project, branch)?).ok()?;
        let seen: Seen = serde_json::from_str(&text).ok()?;
        is_lower_hex(&seen.snapshot, 40).then_some(seen)
    }

    /// Records what this machine saw of the branch.
    pub fn set_seen(&self, project: &str, branch: &str, seen: &Seen) -> std::io::Result<()> {
        let Some(path) = self.seen_path(project, branch) else {
            return Err(std::io::Error::other("unusable project or branch name"));
        };
        let text = serde_json::to_string(seen).map_err(std::io::Error::other)?;
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
