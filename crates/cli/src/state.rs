//! What the client keeps between commands: the server, the session id and the unlocked account
//! key, in `session.json` under `HYPNOS_HOME` (else `$XDG_CONFIG_HOME/hypnos`, else
//! `~/.config/hypnos`), readable by the user alone (mode 0600).
//!
//! The OS keyring is not used yet (issue #6): the file is the fallback the issue allows.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The saved session.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    /// The server it belongs to.
    pub server: String,
    /// The session id.
    pub session_id: String,
    /// The account.
    pub account_id: String,
    /// Its e-mail.
    pub email: String,
    /// The account key (JWK JSON), unlocked at log-in.
    pub account_key: String,
}

/// The directory the client keeps its state in.
pub fn home() -> Result<PathBuf, String> {
    if let Some(home) = std::env::var_os("HYPNOS_HOME") {
        return Ok(PathBuf::from(home));
    }
    if let Some(config) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(config).join("hypnos"));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".config").join("hypnos"))
        .ok_or_else(|| "cannot tell where to keep the session: set HYPNOS_HOME".into())
}

fn session_file(home: &Path) -> PathBuf {
    home.join("session.json")
}

/// The saved session, if there is one.
pub fn load() -> Result<Option<Saved>, String> {
    let path = session_file(&home()?);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|err| {
            format!(
                "{} is damaged ({err}): run hypnos login again",
                path.display()
            )
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}

/// Saves the session, readable by the user alone.
pub fn save(saved: &Saved) -> Result<(), String> {
    let home = home()?;
    fs::create_dir_all(&home).map_err(|err| format!("cannot create {}: {err}", home.display()))?;
    let path = session_file(&home);
    let text = serde_json::to_string(saved).map_err(|err| err.to_string())?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Deletes the saved session (no error if there is none).
pub fn forget() -> Result<(), String> {
    let path = session_file(&home()?);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot delete {}: {err}", path.display())),
    }
}

/// The teammates' public keys this machine has shared to, by account id: each key's
/// fingerprint, pinned the first time (`pins.json` beside the session).
pub fn load_pins() -> Result<std::collections::BTreeMap<String, String>, String> {
    let path = home()?.join("pins.json");
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|err| format!("{} is damaged: {err}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}

/// Saves the pinned fingerprints.
pub fn save_pins(pins: &std::collections::BTreeMap<String, String>) -> Result<(), String> {
    let home = home()?;
    fs::create_dir_all(&home).map_err(|err| format!("cannot create {}: {err}", home.display()))?;
    let path = home.join("pins.json");
    let text = serde_json::to_string_pretty(pins).map_err(|err| err.to_string())?;
    fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}
