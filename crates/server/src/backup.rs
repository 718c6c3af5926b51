//! Backups of a SQLite database (`hypnos admin backup FILE`, `hypnos admin restore FILE`).
//!
//! A backup is taken while the server runs: `VACUUM INTO` copies the database as one read
//! transaction sees it (under WAL, writers go on meanwhile and the copy holds none of their
//! half-done work), into a file of its own that is checked and synced to disk before it takes
//! its final name. That is SQLite's own online copy (like its backup API, which sqlx does not
//! expose, it yields a consistent database; unlike it, it never restarts when a writer commits
//! during the copy, so a busy server cannot starve it). A PostgreSQL database is backed up with
//! `pg_dump` (README: "Backups").
//!
//! A restore writes a backup to where a database is named, which must not exist yet: an operator
//! moves the old database away (with the server stopped) on purpose; a command never overwrites
//! one.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    str::FromStr,
};

use sqlx::{
    ConnectOptions, Connection, Row,
    sqlite::{SqliteConnectOptions, SqliteConnection},
};

use crate::storage;

/// What went wrong in a backup or a restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The command or its arguments cannot be used as given.
    #[error("{0}")]
    Refused(String),
    /// The database or the file failed.
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str) -> impl Fn(sqlx::Error) -> BackupError + '_ {
    move |error| BackupError::Failed(format!("{what}: {error}"))
}

/// What a backup file holds: its rows per table, its size and its schema version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Contents {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The newest migration applied to it.
    pub schema_version: i64,
    /// Each table's rows, by name.
    pub tables: BTreeMap<String, i64>,
}

impl Contents {
    /// The rows of `table` (0 if it has none or does not exist).
    pub fn rows(&self, table: &str) -> i64 {
        self.tables.get(table).copied().unwrap_or(0)
    }
}

/// Copies the SQLite database at `url` into the new file `target`, consistently, while the
/// server may be using the database; checks the copy and returns what it holds.
pub async fn backup(url: &str, target: &Path) -> Result<Contents, BackupError> {
    let source = sqlite_file(url)?;
    if !source.exists() {
        return Err(BackupError::Refused(format!(
            "there is no database at {}",
            source.display()
        )));
    }
    refuse_existing(target)?;
    let partial = partial_path(target);
    let _ = std::fs::remove_file(&partial);
    let outcome = async {
        let mut connection = open(&source).await?;
        sqlx::query("VACUUM INTO ?")
            .bind(partial.to_string_lossy().into_owned())
            .execute(&mut connection)
            .await
            .map_err(failed("copying the database"))?;
        connection.close().await.ok();
        owner_only(&partial)?;
        let contents = check(&partial).await?;
        finish(&partial, target)?;
        Ok(Contents {
            path: target.to_owned(),
            ..contents
        })
    }
    .await;
    if outcome.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    outcome
}

/// Writes the backup `file` as the SQLite database at `url` (which must not exist), then opens
/// it as the server would, running the migrations a backup from an older version needs.
pub async fn restore(file: &Path, url: &str) -> Result<Contents, BackupError> {
    let target = sqlite_file(url)?;
    for existing in [
        target.clone(),
        suffixed(&target, "-wal"),
        suffixed(&target, "-shm"),
    ] {
        if existing.exists() {
            return Err(BackupError::Refused(format!(
                "{} exists: stop the server and move the database (and its -wal and -shm files) \
                 away first; a restore never overwrites a database",
                existing.display()
            )));
        }
    }
    let contents = check(file).await?;
    if let Some(directory) = target.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory).map_err(|error| {
            BackupError::Failed(format!("cannot create {}: {error}", directory.display()))
        })?;
    }
    let partial = partial_path(&target);
    std::fs::copy(file, &partial).map_err(|error| {
        BackupError::Failed(format!("cannot write {}: {error}", partial.display()))
    })?;
    if let Err(error) = finish(&partial, &target) {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    // Opening it as the server does brings an older backup's schema up to date.
    storage::connect(url)
        .await
        .map_err(|error| BackupError::Failed(format!("the restored database: {error}")))?;
    let restored = check(&target).await?;
    Ok(Contents {
        schema_version: restored.schema_version.max(contents.schema_version),
        ..restored
    })
}

/// Checks that `file` is a whole Hypnos database: SQLite's integrity check passes and its
/// schema is one this version knows (not newer). Returns what it holds.
pub async fn check(file: &Path) -> Result<Contents, BackupError> {
    let mut connection = open(file).await?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await
        .map_err(|error| {
            BackupError::Refused(format!(
                "{} is not a SQLite database: {error}",
                file.display()
            ))
        })?;
    if verdict != "ok" {
        return Err(BackupError::Refused(format!(
            "{} is damaged: {verdict}",
            file.display()
        )));
    }
    let schema_version: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut connection)
            .await
            .map_err(|_| {
                BackupError::Refused(format!("{} is not a Hypnos database", file.display()))
            })?;
    let newest = storage::newest_sqlite_migration();
    if schema_version > newest {
        return Err(BackupError::Refused(format!(
            "{} comes from a newer Hypnos (schema {schema_version}; this one knows up to \
             {newest}): restore it with that version",
            file.display()
        )));
    }
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut connection)
    .await
    .map_err(failed("listing the tables"))?;
    let mut tables = BTreeMap::new();
    for name in names {
        // The name comes from the file's own catalogue; quoted as an identifier.
        let count = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM \"{}\"",
            name.replace('"', "\"\"")
        )))
        .fetch_one(&mut connection)
        .await
        .map_err(failed("counting rows"))?
        .try_get::<i64, _>(0)
        .map_err(failed("counting rows"))?;
        tables.insert(name, count);
    }
    connection.close().await.ok();
    let bytes = std::fs::metadata(file)
        .map_err(|error| BackupError::Failed(format!("{}: {error}", file.display())))?
        .len();
    Ok(Contents {
        path: file.to_owned(),
        bytes,
        schema_version,
        tables,
    })
}

/// The file of a SQLite URL; a PostgreSQL URL is refused with the way to back it up.
fn sqlite_file(url: &str) -> Result<PathBuf, BackupError> {
    let scheme = url
        .split_once(':')
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => {}
        Some("postgres" | "postgresql") => {
            return Err(BackupError::Refused(
                "this copies SQLite databases; back up PostgreSQL with pg_dump and restore with \
                 pg_restore (README: Backups)"
                    .into(),
            ));
        }
        _ => {
            return Err(BackupError::Refused(
                "expected a sqlite:// database URL".into(),
            ));
        }
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| BackupError::Refused(format!("the database URL: {error}")))?;
    let file = options.get_filename().to_path_buf();
    if file.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
        return Err(BackupError::Refused(
            "an in-memory database has no file to copy".into(),
        ));
    }
    Ok(file)
}

/// A read-only connection to the database file `file`.
async fn open(file: &Path) -> Result<SqliteConnection, BackupError> {
    SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .map_err(|error| BackupError::Failed(format!("cannot open {}: {error}", file.display())))
}

/// A backup holds what the server holds (verifiers, encrypted keys, the audit log): readable by
/// its owner alone, whatever the umask.
fn owner_only(file: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).map_err(
            |error| BackupError::Failed(format!("cannot restrict {}: {error}", file.display())),
        )?;
    }
    Ok(())
}

fn refuse_existing(target: &Path) -> Result<(), BackupError> {
    if target.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: a backup never overwrites a file",
            target.display()
        )));
    }
    Ok(())
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_path(target: &Path) -> PathBuf {
    suffixed(target, ".partial")
}

/// Syncs `partial` to disk and gives it its final name (and syncs the directory, so that the
/// name survives a crash too).
fn finish(partial: &Path, target: &Path) -> Result<(), BackupError> {
    let io = |error: std::io::Error| {
        BackupError::Failed(format!("cannot write {}: {error}", target.display()))
    };
    std::fs::File::open(partial)
        .and_then(|file| file.sync_all())
        .map_err(io)?;
    refuse_existing(target)?;
    std::fs::rename(partial, target).map_err(io)?;
    if let Some(directory) = target.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::File::open(directory)
            .and_then(|dir| dir.sync_all())
            .map_err(io)?;
    }
    Ok(())
}
