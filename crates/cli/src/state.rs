//! What the client keeps between commands: the server, the session id and the unlocked account
//! key.
//!
//! # Where
//!
//! The state directory is `HYPNOS_HOME`, else `$XDG_CONFIG_HOME/hypnos`, else
//! `~/.config/hypnos` (created readable by the user alone, mode 0700). In it `session.json`
//! (mode 0600) holds the server, the account id and its e-mail, and says where the two secrets,
//! the session id and the account key, are:
//!
//! - `"secrets": "keyring"`: in the OS keyring, as one JSON string under the service `hypnos`
//!   and the account name `session:` + the canonical path of the state directory (so two
//!   `HYPNOS_HOME`s never share an entry). The keyrings used are the macOS Keychain, the
//!   Windows Credential Manager and, on Linux and the BSDs, the Secret Service over the D-Bus
//!   session bus (GNOME Keyring, KWallet, KeePassXC…). The Linux kernel keyring is not used:
//!   it does not outlive the login session (in a container, not even the process).
//! - `"secrets": "file"` (or no `secrets` at all, as written before the keyring was used): in
//!   `session.json` itself, as `sessionId` and `accountKey`.
//!
//! # `HYPNOS_KEYRING`
//!
//! - `auto` (the default, also when empty): a new session's secrets go to the OS keyring; when
//!   none is reachable (no Secret Service on the bus, no session bus at all, a locked keyring
//!   whose unlock prompt was dismissed…) they go to `session.json`, and log-in says so in one
//!   line on stderr.
//! - `off`: the keyring is never touched; the secrets always go to `session.json`, and a
//!   session kept in the keyring earlier is not read (log in again).
//!
//! Any other value is an error. `forget` (log-out, account deletion) deletes the keyring entry
//! and the file. Secrets are wiped from memory once used.

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, anyhow};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

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

/// The keyring entry's service name.
const SERVICE: &str = "hypnos";

/// What `session.json` holds.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
struct SessionFile {
    server: String,
    account_id: String,
    email: String,
    /// Where the secrets are; a file written before the keyring was used has no marker.
    #[serde(default)]
    #[zeroize(skip)]
    secrets: Place,
    /// The secrets, when kept in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_key: Option<String>,
}

#[derive(Serialize, Deserialize, Default, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Place {
    #[default]
    File,
    Keyring,
}

/// The secrets, as the keyring entry keeps them (one JSON string).
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
struct Secrets {
    session_id: String,
    account_key: String,
}

/// `HYPNOS_KEYRING`.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Mode {
    Auto,
    Off,
}

fn mode() -> anyhow::Result<Mode> {
    match std::env::var("HYPNOS_KEYRING") {
        Err(std::env::VarError::NotPresent) => Ok(Mode::Auto),
        Ok(value) => match value.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Mode::Auto),
            "off" => Ok(Mode::Off),
            _ => Err(anyhow!(
                "HYPNOS_KEYRING must be auto (use the OS keyring if there is one) or off (keep \
                 the session in a file), not {value:?}"
            )),
        },
        Err(std::env::VarError::NotUnicode(value)) => {
            Err(anyhow!("HYPNOS_KEYRING must be auto or off, not {value:?}"))
        }
    }
}

/// Checks the settings the state depends on (`HYPNOS_KEYRING`) before a command talks to the
/// server, so a bad value stops it before it signs up or logs in.
pub fn check_settings() -> anyhow::Result<()> {
    mode().map(drop)
}

/// The directory the client keeps its state in.
pub fn home() -> anyhow::Result<PathBuf> {
    if let Some(home) = std::env::var_os("HYPNOS_HOME") {
        return Ok(PathBuf::from(home));
    }
    if let Some(config) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(config).join("hypnos"));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".config").join("hypnos"))
        .context("cannot tell where to keep the session: set HYPNOS_HOME")
}

fn session_file(home: &Path) -> PathBuf {
    home.join("session.json")
}

/// The keyring entry's account name: one per state directory.
fn keyring_user(home: &Path) -> String {
    let path = fs::canonicalize(home)
        .or_else(|_| std::path::absolute(home))
        .unwrap_or_else(|_| home.to_owned());
    format!("session:{}", path.display())
}

/// What to do when the session cannot be read.
const LOG_IN_AGAIN: &str = "run hypnos login --email …";

/// The saved session, if there is one.
pub fn load() -> anyhow::Result<Option<Saved>> {
    let mode = mode()?;
    let home = home()?;
    let path = session_file(&home);
    let text = match fs::read_to_string(&path) {
        Ok(text) => Zeroizing::new(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(anyhow!("cannot read {}: {err}", path.display())),
    };
    let damaged = |why: &dyn std::fmt::Display| {
        anyhow!(
            "{} is damaged ({why}): run hypnos login again",
            path.display()
        )
    };
    let mut file: SessionFile = serde_json::from_str(&text).map_err(|err| damaged(&err))?;
    let secrets = match file.secrets {
        Place::File => match (file.session_id.take(), file.account_key.take()) {
            (Some(session_id), Some(account_key)) => Secrets {
                session_id,
                account_key,
            },
            _ => return Err(damaged(&"no session id or account key")),
        },
        Place::Keyring if mode == Mode::Off => {
            return Err(anyhow!(
                "the session is in the OS keyring but HYPNOS_KEYRING=off: unset it, or {} to \
                 keep a new session in {}",
                LOG_IN_AGAIN,
                path.display()
            ));
        }
        Place::Keyring => {
            let json = os_keyring::get(&keyring_user(&home)).map_err(|failure| match failure {
                os_keyring::Failure::NoEntry => anyhow!(
                    "the session is no longer in the OS keyring: {}",
                    LOG_IN_AGAIN
                ),
                os_keyring::Failure::Other(why) => anyhow!(
                    "the session is no longer in the OS keyring ({why}): {}",
                    LOG_IN_AGAIN
                ),
            })?;
            serde_json::from_str(&json).map_err(|err| {
                anyhow!(
                    "the session in the OS keyring is damaged ({err}): {}",
                    LOG_IN_AGAIN
                )
            })?
        }
    };
    let mut secrets = secrets;
    Ok(Some(Saved {
        server: std::mem::take(&mut file.server),
        session_id: std::mem::take(&mut secrets.session_id),
        account_id: std::mem::take(&mut file.account_id),
        email: std::mem::take(&mut file.email),
        account_key: std::mem::take(&mut secrets.account_key),
    }))
}

/// Saves the session: its secrets in the OS keyring if `HYPNOS_KEYRING` allows and one is
/// reachable, else in the file; the file readable by the user alone either way.
pub fn save(saved: &Saved) -> anyhow::Result<()> {
    let mode = mode()?;
    let home = home()?;
    create_private_dir(&home)?;
    let path = session_file(&home);
    let mut file = SessionFile {
        server: saved.server.clone(),
        account_id: saved.account_id.clone(),
        email: saved.email.clone(),
        secrets: Place::File,
        session_id: None,
        account_key: None,
    };
    let in_keyring = mode == Mode::Auto && {
        let secrets = Secrets {
            session_id: saved.session_id.clone(),
            account_key: saved.account_key.clone(),
        };
        let json = Zeroizing::new(serde_json::to_string(&secrets)?);
        os_keyring::set(&keyring_user(&home), &json).is_ok()
    };
    if in_keyring {
        file.secrets = Place::Keyring;
    } else {
        file.session_id = Some(saved.session_id.clone());
        file.account_key = Some(saved.account_key.clone());
    }
    let text = Zeroizing::new(serde_json::to_string(&file)?);
    if let Err(err) = write_private(&path, &text) {
        if in_keyring {
            // Leave no secret behind that no file points to.
            let _ = os_keyring::delete(&keyring_user(&home));
        }
        return Err(err);
    }
    if mode == Mode::Auto && !in_keyring {
        eprintln!(
            "no OS keyring available; the session is kept in {} (readable by you alone)",
            path.display()
        );
    }
    Ok(())
}

/// Deletes the saved session, from the OS keyring and the file (no error if there is none).
pub fn forget() -> anyhow::Result<()> {
    let mode = mode()?;
    let home = home()?;
    let path = session_file(&home);
    let marked_keyring = fs::read_to_string(&path)
        .ok()
        .map(Zeroizing::new)
        .and_then(|text| serde_json::from_str::<SessionFile>(&text).ok())
        .is_some_and(|file| file.secrets == Place::Keyring);
    // An entry left by an earlier session is deleted too, but a keyring that cannot be
    // reached only matters when the file says the secrets are there.
    let keyring_failure = match mode {
        Mode::Off => None,
        Mode::Auto => match os_keyring::delete(&keyring_user(&home)) {
            Ok(()) | Err(os_keyring::Failure::NoEntry) => None,
            Err(os_keyring::Failure::Other(why)) => marked_keyring.then_some(why),
        },
    };
    match fs::remove_file(&path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(anyhow!("cannot delete {}: {err}", path.display())),
    }
    match keyring_failure {
        None => Ok(()),
        Some(why) => Err(anyhow!(
            "{} is deleted, but the session could not be deleted from the OS keyring: {why}",
            path.display()
        )),
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// Writes `text` to `path` as a file only the user can read, replacing it whole (a new file
/// renamed over it, so an older file's looser mode is not kept and a crash leaves no half).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    // A temporary file made 0600 beside it, synced, renamed over it: whole or not at all.
    hypnos_client::sync::local::write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The OS keyring, where there is one this build knows.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
))]
mod os_keyring {
    use zeroize::Zeroizing;

    /// Why the keyring did not answer.
    pub enum Failure {
        /// No such entry.
        NoEntry,
        /// No keyring reachable, or it failed.
        Other(String),
    }

    impl From<keyring::Error> for Failure {
        fn from(err: keyring::Error) -> Self {
            match err {
                keyring::Error::NoEntry => Self::NoEntry,
                other => Self::Other(other.to_string()),
            }
        }
    }

    fn entry(user: &str) -> Result<keyring::Entry, Failure> {
        Ok(keyring::Entry::new(super::SERVICE, user)?)
    }

    pub fn set(user: &str, secret: &str) -> Result<(), Failure> {
        Ok(entry(user)?.set_password(secret)?)
    }

    pub fn get(user: &str) -> Result<Zeroizing<String>, Failure> {
        Ok(Zeroizing::new(entry(user)?.get_password()?))
    }

    pub fn delete(user: &str) -> Result<(), Failure> {
        Ok(entry(user)?.delete_credential()?)
    }
}

/// No OS keyring this build knows: everything stays in the file.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
mod os_keyring {
    use zeroize::Zeroizing;

    pub enum Failure {
        #[allow(dead_code, reason = "the same interface as the real keyring")]
        NoEntry,
        Other(String),
    }

    fn none() -> Failure {
        Failure::Other("this system has no OS keyring hypnos can use".into())
    }

    pub fn set(_user: &str, _secret: &str) -> Result<(), Failure> {
        Err(none())
    }

    pub fn get(_user: &str) -> Result<Zeroizing<String>, Failure> {
        Err(none())
    }

    pub fn delete(_user: &str) -> Result<(), Failure> {
        Err(none())
    }
}

/// A teammate's public key as this machine trusts it: its fingerprint, and the e-mail it was
/// pinned for (absent in pins written before e-mails were kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The key's fingerprint (`RsaPublicKey::fingerprint`).
    pub fingerprint: String,
    /// The account's e-mail when it was pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A pin as `pins.json` holds it: the fingerprint alone (as written before e-mails were kept)
/// or a [`Pin`].
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredPin {
    Fingerprint(String),
    Full(Pin),
}

/// The pinned keys, by account id.
pub type Pins = std::collections::BTreeMap<String, Pin>;

/// The teammates' public keys this machine trusts, by account id (`pins.json` beside the
/// session): pinned when the user confirmed a fingerprint (`hypnos keys trust`, an interactive
/// confirmation or `--accept-new-key`).
pub fn load_pins() -> anyhow::Result<Pins> {
    let path = home()?.join("pins.json");
    match fs::read_to_string(&path) {
        Ok(text) => {
            let stored: std::collections::BTreeMap<String, StoredPin> = serde_json::from_str(&text)
                .with_context(|| format!("{} is damaged", path.display()))?;
            Ok(stored
                .into_iter()
                .map(|(account, pin)| {
                    let pin = match pin {
                        StoredPin::Fingerprint(fingerprint) => Pin {
                            fingerprint,
                            email: None,
                        },
                        StoredPin::Full(pin) => pin,
                    };
                    (account, pin)
                })
                .collect())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(err) => Err(anyhow!("cannot read {}: {err}", path.display())),
    }
}

/// Saves the pinned keys.
pub fn save_pins(pins: &Pins) -> anyhow::Result<()> {
    let home = home()?;
    create_private_dir(&home)?;
    let path = home.join("pins.json");
    let text = serde_json::to_string_pretty(pins)?;
    write_private(&path, &text)
}
