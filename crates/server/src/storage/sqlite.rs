//! The SQLite backend of [`Store`]: one database file in WAL mode, runtime queries, `FromRow`
//! rows.
//!
//! SQLite allows one writer at a time, so the store keeps two pools: readers (in WAL mode they
//! never wait for the writer) and a single writing connection. Writers queue for that connection
//! in the pool, in order, instead of in SQLite's busy handler, which sleeps 1 to 100 ms between
//! tries and made a busy server's slowest log-ins take a second. Write transactions begin
//! `IMMEDIATE`, so they take the write lock up front (waiting up to the 5 s busy timeout, which
//! now only another process sharing the file can make them wait for). Parameters are written `$N`, which sqlx
//! binds by number on SQLite as on PostgreSQL. `synchronous` stays `FULL` (sqlx's default), so a
//! committed change survives a power cut, not only a crash.
//!
//! A failed write must not outlive its request. When the disk fills, SQLite may roll a
//! transaction back by itself as its `COMMIT` (or a statement) fails; sqlx still counts the
//! transaction as open, its rollback on drop then fails ("no transaction is active"), and the
//! one writing connection went back to the pool with a transaction depth of one: every later
//! write failed ("non-zero transaction depth") until a restart. So every connection coming back
//! to a pool is checked (`readiness::reusable`): one still counted inside a transaction is closed, and the
//! pool opens a fresh one for the next write.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};
use sqlx::{Sqlite, Transaction};

use super::pool_use::AcquireCounts;
use super::readiness::{WriteReadiness, reusable};

/// A transaction on this backend's database.
type Tx = Transaction<'static, Sqlite>;
use super::{
    Conflict, ConnectOptions, Scope, StoreError, map_migrate_error, map_non_database_error,
};

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The least free space on the database's file system for `/readyz` to call the store
/// writable. A push that fills the disk fails with less than one blob's worth left, while a
/// small probe write could still fit: below this the server says it cannot write.
const WRITE_HEADROOM_BYTES: u64 = 1024 * 1024;

/// The store on a SQLite database file.
pub(super) struct SqliteStore {
    /// Connections for reading.
    pool: SqlitePool,
    /// The one connection that writes (for an in-memory database, the same pool as `pool`).
    writer: SqlitePool,
    /// The directory of the database file, whose file system must have room for writes; `None`
    /// for an in-memory database.
    directory: Option<PathBuf>,
    /// The last write probe of `/readyz`.
    readiness: WriteReadiness,
    /// The acquisitions of the reading pool, for `/metrics`.
    read_acquired: AcquireCounts,
    /// The acquisitions of the writing connection, for `/metrics`.
    write_acquired: AcquireCounts,
}

impl SqliteStore {
    /// Opens (and if needed creates) the database file and its directory, then runs the embedded
    /// migrations.
    pub(super) async fn connect(url: &str, options: ConnectOptions) -> Result<Self, StoreError> {
        let connect_options = SqliteConnectOptions::from_str(url)
            .map_err(map_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let single = SqlitePoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .max_connections(1);
        if in_memory {
            // An in-memory database lives as long as its connection: keep exactly one, forever,
            // for reading and writing.
            let pool = single
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(connect_options)
                .await
                .map_err(map_error)?;
            return Self::migrated(pool.clone(), pool, None).await;
        }
        let file = connect_options.get_filename();
        let directory = match file.parent() {
            Some(directory) if !directory.as_os_str().is_empty() => directory.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&directory).map_err(|error| {
            StoreError::Other(format!("cannot create the database directory: {error}"))
        })?;
        // The writer first: it creates the file and switches it to WAL before readers open it.
        // Closing a connection loses nothing here (the data is in the file), so a connection left
        // inside a transaction is replaced rather than reused.
        let writer = single
            .after_release(reusable::<SqliteConnection>)
            .connect_with(connect_options.clone())
            .await
            .map_err(map_error)?;
        let readers = SqlitePoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .max_connections(options.max_connections.max(1))
            .after_release(reusable::<SqliteConnection>)
            .connect_with(connect_options)
            .await
            .map_err(map_error)?;
        Self::migrated(readers, writer, Some(directory)).await
    }

    /// The newest migration this version has for SQLite (a backup from a newer version is
    /// refused: its schema may hold what this one cannot read).
    pub(crate) fn newest_migration() -> i64 {
        sqlx::migrate!("./migrations/sqlite")
            .migrations
            .iter()
            .map(|migration| migration.version)
            .max()
            .unwrap_or(0)
    }

    async fn migrated(
        pool: SqlitePool,
        writer: SqlitePool,
        directory: Option<PathBuf>,
    ) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|error| map_migrate_error(error, map_error))?;
        tracing::info!(backend = "sqlite", "storage ready");
        Ok(Self {
            pool,
            writer,
            directory,
            readiness: WriteReadiness::default(),
            read_acquired: AcquireCounts::default(),
            write_acquired: AcquireCounts::default(),
        })
    }

    /// The write probe of `/readyz`: room on the disk, then a committed write through the
    /// writing connection (which also finds it locked, read-only or unable to commit).
    async fn probe_write(&self) -> Result<(), String> {
        if let Some(directory) = &self.directory
            && let Some(free) = free_bytes(directory)
            && free < WRITE_HEADROOM_BYTES
        {
            tracing::warn!(
                free_bytes = free,
                "the disk holding the database is (nearly) full"
            );
            return Err(format!(
                "the disk holding the database is full ({} KiB free)",
                free / 1024
            ));
        }
        let written = async {
            let mut tx = self.begin().await?;
            sqlx::query(
                "INSERT INTO server_settings (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(WRITE_PROBE_SETTING)
            .bind(&b"ok"[..])
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
            tx.commit().await.map_err(map_error)
        }
        .await;
        written.map_err(|error| {
            tracing::warn!(%error, "the database refuses a write");
            "the database refuses writes".to_owned()
        })
    }

    /// Begins a write transaction, taking SQLite's write lock at once.
    /// A SQLite database has one server process: it delivers its own notices.
    fn notice_channel(&self) -> super::notices::Notices {
        super::notices::Notices::InProcess
    }

    async fn begin(&self) -> Result<Tx, StoreError> {
        self.write_acquired
            .count(&self.writer, self.writer.begin_with("BEGIN IMMEDIATE"))
            .await
            .map_err(map_error)
    }

    /// The reading pool's use and the writing connection's (an in-memory database's one
    /// connection appears as both).
    fn pools_in_use(&self) -> Vec<super::PoolUse> {
        vec![
            self.read_acquired.pool_use("read", &self.pool),
            self.write_acquired.pool_use("write", &self.writer),
        ]
    }

    /// Begins a write transaction; SQLite has no row-level security, so `scope` changes nothing.
    async fn begin_in(&self, _scope: Scope<'_>) -> Result<Tx, StoreError> {
        self.begin().await
    }

    /// SQLite's planner needs no fresh statistics for the sync queries: nothing to do.
    async fn refresh_statistics(&self) {}

    /// A read transaction on the reading pool; `scope` changes nothing on SQLite.
    async fn read_in(&self, _scope: Scope<'_>) -> Result<Tx, StoreError> {
        self.read_acquired
            .count(&self.pool, self.pool.begin())
            .await
            .map_err(map_error)
    }

    /// Where single statements outside a transaction write: the one writing connection.
    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The reading pool, for `transfer` (`hypnos admin migrate`), which reads whole tables.
    pub(super) fn reading_pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// The `server_settings` row the write probe of `/readyz` rewrites (with the same value: SQLite
/// writes the row's page all the same); nothing reads it.
const WRITE_PROBE_SETTING: &str = "readiness.write_probe";

/// The bytes free to an unprivileged writer on the file system holding `directory`, or `None`
/// where that cannot be read (then only the probe write decides).
#[cfg(unix)]
fn free_bytes(directory: &std::path::Path) -> Option<u64> {
    match rustix::fs::statvfs(directory) {
        Ok(stats) => Some(stats.f_bavail.saturating_mul(stats.f_frsize)),
        Err(error) => {
            tracing::warn!(%error, "cannot read the free space of the database's disk");
            None
        }
    }
}

/// Free space is read on Unix only; elsewhere only the probe write decides.
#[cfg(not(unix))]
fn free_bytes(_directory: &std::path::Path) -> Option<u64> {
    None
}

/// SQLite's extended result codes that [`map_error`] tells apart.
mod code {
    pub(super) const BUSY: i64 = 5;
    pub(super) const LOCKED: i64 = 6;
    pub(super) const IOERR: i64 = 10;
    pub(super) const FULL: i64 = 13;
    pub(super) const CANTOPEN: i64 = 14;
    pub(super) const CONSTRAINT_FOREIGNKEY: i64 = 787;
    pub(super) const CONSTRAINT_PRIMARYKEY: i64 = 1555;
    pub(super) const CONSTRAINT_UNIQUE: i64 = 2067;
}

/// The one place where SQLite errors become [`StoreError`]s, by extended result code (and, for
/// uniqueness, by the `table.column` list SQLite names in its message).
fn map_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error {
        let extended: i64 = database_error
            .code()
            .and_then(|code| code.parse().ok())
            .unwrap_or_default();
        return match extended {
            code::CONSTRAINT_UNIQUE | code::CONSTRAINT_PRIMARYKEY => {
                let message = database_error.message();
                let columns = message
                    .split_once("constraint failed: ")
                    .map_or(message, |(_, columns)| columns);
                StoreError::Conflict(match columns {
                    "accounts.email" => Conflict::Email,
                    "accounts.id" => Conflict::AccountId,
                    "organizations.id" => Conflict::OrganizationId,
                    "organizations.owner_account_id"
                    | "index 'organizations_one_personal_per_owner'" => {
                        Conflict::PersonalOrganization
                    }
                    "memberships.organization_id, memberships.account_id" => Conflict::Membership,
                    "sessions.id_hash" => Conflict::Session,
                    "login_attempts.id" => Conflict::LoginAttempt,
                    "vault_verifications.id" => Conflict::VaultVerification,
                    "reset_tokens.token_hash" => Conflict::ResetToken,
                    _ => Conflict::Duplicate,
                })
            }
            code::CONSTRAINT_FOREIGNKEY => StoreError::Conflict(Conflict::Reference),
            extended
                if matches!(
                    extended & 0xff,
                    code::BUSY | code::LOCKED | code::IOERR | code::FULL | code::CANTOPEN
                ) =>
            {
                StoreError::Unavailable(format!("database error {extended}"))
            }
            extended => StoreError::Other(format!(
                "database error {extended}: {}",
                database_error.message()
            )),
        };
    }
    map_non_database_error(error)
}

/// SQLite has no row-level security: a transaction's scope changes nothing.
async fn set_scope(_tx: &mut Tx, _scope: Scope<'_>) -> Result<(), StoreError> {
    Ok(())
}

/// SQLite has no row-level security: the sweep of expired presence needs no horizon.
async fn set_expired_before(_tx: &mut Tx, _now_ms: i64) -> Result<(), StoreError> {
    Ok(())
}

super::sql::shared_sql!(Sqlite, SqliteStore, smaller = "MIN", lock = "");
