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
//! to a pool is checked ([`reusable`]): one still counted inside a transaction is closed, and the
//! pool opens a fresh one for the next write.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnectionMetadata;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
};
use sqlx::{Connection, Sqlite, Transaction};

use super::model::{
    Account, AuditEvent, Blob, Branch, ChangeCredentials, Invitation, InvitationKey,
    InvitationView, KeyGap, LoginAttempt, Member, Membership, NewAccount, NewProjectKey,
    NewSession, NewTeam, Organization, OrganizationKind, Project, ProjectKey, ResetAccount, Role,
    SecretHash, Session, Snapshot, TeamProject, Vault, VaultVerification,
};
use super::readiness::WriteReadiness;
use super::rows::{
    AccountRow, AuditEventRow, BlobRow, InvitationViewRow, KeyGapRow, LoginAttemptRow, MemberRow,
    MembershipRow, ProjectKeyRow, ProjectRoleRow, ProjectRow, SessionAccountRow, SessionRow,
    SnapshotRow, TeamProjectRow, VaultRow, VaultVerificationRow, account_columns,
    audit_event_columns, invitation_view_columns, membership_columns, project_columns,
    session_account_columns, session_columns,
};
use super::{
    ALREADY_INVITED, ALREADY_MEMBER, ConnectOptions, DEFAULT_STORAGE_RULE, KEY_NOT_SHAREABLE,
    KEYS_MISMATCH, MISSING_BLOBS, NOT_FAST_FORWARD, OWNER_STAYS, OWNS_SHARED_TEAM,
    PERSONAL_ORG_DISPLAY_NAME, PERSONAL_ORGANIZATION, Scope, Store, StoreError, VAULT_CHANGED,
    VAULT_EXISTS, map_migrate_error, map_non_database_error, personal_org_name,
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
            .after_release(reusable)
            .connect_with(connect_options.clone())
            .await
            .map_err(map_error)?;
        let readers = SqlitePoolOptions::new()
            .acquire_timeout(options.acquire_timeout)
            .max_connections(options.max_connections.max(1))
            .after_release(reusable)
            .connect_with(connect_options)
            .await
            .map_err(map_error)?;
        Self::migrated(readers, writer, Some(directory)).await
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
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_error)
    }

    /// Begins a write transaction; SQLite has no row-level security, so `scope` changes nothing.
    async fn begin_in(
        &self,
        _scope: Scope<'_>,
    ) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.begin().await
    }

    /// SQLite's planner needs no fresh statistics for the sync queries: nothing to do.
    async fn refresh_statistics(&self) {}

    /// A read transaction on the reading pool; `scope` changes nothing on SQLite.
    async fn read_in(&self, _scope: Scope<'_>) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool.begin().await.map_err(map_error)
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

/// Whether a connection coming back to its pool may serve another request (sqlx's
/// `after_release`): its queued rollback is flushed first (`ping` waits for the connection's
/// worker to run every command before it), then one still counted inside a transaction is
/// closed, so that the next write gets a fresh connection instead of "non-zero transaction
/// depth".
fn reusable(
    connection: &mut SqliteConnection,
    _: PoolConnectionMetadata,
) -> Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        connection.ping().await?;
        if connection.is_in_transaction() {
            tracing::warn!(
                "a database connection was left inside a failed transaction: replacing it"
            );
            return Ok(false);
        }
        Ok(true)
    })
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
                    "accounts.email" => "email",
                    "accounts.id" => "account id",
                    "organizations.id" => "organization id",
                    "organizations.owner_account_id"
                    | "index 'organizations_one_personal_per_owner'" => "personal organization",
                    "memberships.organization_id, memberships.account_id" => "membership",
                    "sessions.id_hash" => "session",
                    "login_attempts.id" => "login attempt",
                    "vault_verifications.id" => "vault verification",
                    "reset_tokens.token_hash" => "reset token",
                    _ => "duplicate",
                })
            }
            code::CONSTRAINT_FOREIGNKEY => StoreError::Conflict("reference"),
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
async fn set_scope(
    _tx: &mut Transaction<'static, Sqlite>,
    _scope: Scope<'_>,
) -> Result<(), StoreError> {
    Ok(())
}

super::shared_sql::shared_sql!(Sqlite, SqliteStore);

/// Reads an account inside a transaction (after an update, to return it).
async fn account_in(
    tx: &mut Transaction<'static, Sqlite>,
    account_id: &str,
) -> Result<Account, StoreError> {
    sqlx::query_as::<_, AccountRow>(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    ))
    .bind(account_id)
    .fetch_one(&mut **tx)
    .await
    .map(Account::from)
    .map_err(map_error)
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        self.readiness.check(self.probe_write()).await
    }

    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError> {
        let mut tx = self
            .begin_in(Scope::both(&new.personal_org_id, &new.id))
            .await?;
        let account = sqlx::query_as::<_, AccountRow>(concat!(
            "INSERT INTO accounts (",
            account_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING ",
            account_columns!()
        ))
        .bind(&new.id)
        .bind(&new.email)
        .bind(&new.first_name)
        .bind(&new.last_name)
        .bind(&new.salt_key)
        .bind(&new.salt_auth)
        .bind(&new.salt_enc)
        .bind(&new.verifier)
        .bind(&new.public_key)
        .bind(&new.enc_private_key)
        .bind(&new.enc_symmetric_key)
        .bind(new.now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_error)?;
        sqlx::query(
            "INSERT INTO organizations (id, name, display_name, kind, owner_account_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&new.personal_org_id)
        .bind(personal_org_name(&new.id))
        .bind(PERSONAL_ORG_DISPLAY_NAME)
        .bind(OrganizationKind::Personal.as_str())
        .bind(&new.id)
        .bind(new.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        sqlx::query(
            "INSERT INTO memberships (organization_id, account_id, role, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&new.personal_org_id)
        .bind(&new.id)
        .bind(Role::Owner.as_str())
        .bind(new.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        Ok(account.into())
    }

    async fn account_by_email(&self, email: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as::<_, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(row.map(Account::from))
    }

    async fn account_by_id(&self, account_id: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query_as::<_, AccountRow>(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        Ok(row.map(Account::from))
    }

    async fn change_credentials(&self, change: ChangeCredentials) -> Result<Account, StoreError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE accounts SET email = $4, first_name = COALESCE($5, first_name), \
             last_name = COALESCE($6, last_name), verifier = $7, enc_symmetric_key = $8, \
             updated_at = $9 \
             WHERE id = $1 AND verifier = $2 AND enc_symmetric_key = $3",
        )
        .bind(&change.account_id)
        .bind(&change.expected_verifier)
        .bind(&change.expected_enc_symmetric_key)
        .bind(&change.new_email)
        .bind(&change.new_first_name)
        .bind(&change.new_last_name)
        .bind(&change.new_verifier)
        .bind(&change.new_enc_symmetric_key)
        .bind(change.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?
        .rows_affected();
        if updated == 0 {
            let exists = sqlx::query("SELECT 1 FROM accounts WHERE id = $1")
                .bind(&change.account_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_error)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict("credentials")
            } else {
                StoreError::NotFound
            });
        }
        sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(&change.account_id)
            .bind(&change.keep_session_hash[..])
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        sqlx::query("DELETE FROM login_attempts WHERE account_id = $1")
            .bind(&change.account_id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        let account = account_in(&mut tx, &change.account_id).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(account)
    }

    async fn reset_account(&self, reset: ResetAccount) -> Result<Account, StoreError> {
        let mut tx = self.begin_in(Scope::account(&reset.account_id)).await?;
        let updated = sqlx::query(
            "UPDATE accounts SET salt_key = $2, salt_auth = $3, salt_enc = $4, verifier = $5, \
             public_key = $6, enc_private_key = $7, enc_symmetric_key = $8, updated_at = $9 \
             WHERE id = $1",
        )
        .bind(&reset.account_id)
        .bind(&reset.salt_key)
        .bind(&reset.salt_auth)
        .bind(&reset.salt_enc)
        .bind(&reset.verifier)
        .bind(&reset.public_key)
        .bind(&reset.enc_private_key)
        .bind(&reset.enc_symmetric_key)
        .bind(reset.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(map_error)?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        for statement in [
            "DELETE FROM sessions WHERE account_id = $1",
            "DELETE FROM login_attempts WHERE account_id = $1",
            "DELETE FROM reset_tokens WHERE account_id = $1",
            "DELETE FROM project_keys WHERE account_id = $1",
            "DELETE FROM invitation_keys WHERE (organization_id, invitation_id) IN \
             (SELECT organization_id, id FROM invitations WHERE invitee_account_id = $1)",
        ] {
            sqlx::query(statement)
                .bind(&reset.account_id)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?;
        }
        let account = account_in(&mut tx, &reset.account_id).await?;
        tx.commit().await.map_err(map_error)?;
        Ok(account)
    }

    async fn delete_account(&self, account_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_in(Scope::account(account_id)).await?;
        // The transaction began IMMEDIATE: no other writer runs until it ends.
        let exists = sqlx::query("SELECT 1 FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
        let owns_shared_team = sqlx::query(
            "SELECT 1 FROM organizations o WHERE o.owner_account_id = $1 AND o.kind = 'team' \
             AND EXISTS (SELECT 1 FROM memberships m \
                         WHERE m.organization_id = o.id AND m.account_id <> $1) \
             LIMIT 1",
        )
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_error)?
        .is_some();
        if owns_shared_team {
            return Err(StoreError::Conflict(OWNS_SHARED_TEAM));
        }
        // Owned organizations take their projects, keys, snapshots, blobs, invitations and
        // audit events with them; the account takes its memberships (and through them its
        // project keys), sessions, reset tokens and invitations. Log-in attempts have no
        // foreign key (on PostgreSQL they are an unlogged table, see migration 0002).
        sqlx::query("DELETE FROM login_attempts WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        sqlx::query("DELETE FROM organizations WHERE owner_account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(map_error)?;
        tx.commit().await.map_err(map_error)?;
        Ok(())
    }

    async fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        let row = sqlx::query_as::<_, SessionRow>(concat!(
            "INSERT INTO sessions (",
            session_columns!(),
            ") SELECT $1, id, $3, $3, $4, MIN($3 + $4, $3 + $5), $3 + $5 \
             FROM accounts WHERE id = $2 RETURNING ",
            session_columns!()
        ))
        .bind(&new.id_hash[..])
        .bind(&new.account_id)
        .bind(new.now_ms)
        .bind(new.idle_ttl_ms)
        .bind(new.absolute_ttl_ms)
        .fetch_optional(&self.writer)
        .await
        .map_err(map_error)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    async fn session_account(
        &self,
        id_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<Option<(Session, Account)>, StoreError> {
        let row = sqlx::query_as::<_, SessionAccountRow>(concat!(
            "SELECT ",
            session_account_columns!(),
            " FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id_hash = $1 AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2"
        ))
        .bind(&id_hash[..])
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn touch_session(
        &self,
        id_hash: &SecretHash,
        now_ms: i64,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query_as::<_, SessionRow>(concat!(
            "UPDATE sessions SET last_seen_at = $2, \
             idle_expires_at = MIN(absolute_expires_at, $2 + idle_ttl_ms) \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2 \
             RETURNING ",
            session_columns!()
        ))
        .bind(&id_hash[..])
        .bind(now_ms)
        .fetch_optional(&self.writer)
        .await
        .map_err(map_error)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&id_hash[..])
            .execute(&self.writer)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account_id: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(&self.writer)
            .await
            .map_err(map_error)?
            .rows_affected())
    }

    async fn put_login_attempt(&self, attempt: LoginAttempt) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_attempts \
             (id, account_id, email, m1, m2, key_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&attempt.id)
        .bind(&attempt.account_id)
        .bind(&attempt.email)
        .bind(&attempt.m1)
        .bind(&attempt.m2)
        .bind(&attempt.key_hash)
        .bind(attempt.created_at)
        .bind(attempt.expires_at)
        .execute(&self.writer)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn take_login_attempt(
        &self,
        id: &str,
        now_ms: i64,
    ) -> Result<Option<LoginAttempt>, StoreError> {
        // One statement: of two concurrent deletes, only one gets the row back. An expired
        // attempt is deleted too, and reported as missing.
        let row = sqlx::query_as::<_, LoginAttemptRow>(
            "DELETE FROM login_attempts WHERE id = $1 \
             RETURNING id, account_id, email, m1, m2, key_hash, created_at, expires_at",
        )
        .bind(id)
        .fetch_optional(&self.writer)
        .await
        .map_err(map_error)?;
        Ok(row
            .filter(|row| row.expires_at > now_ms)
            .map(LoginAttempt::from))
    }

    async fn purge_expired(&self, now_ms: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let mut n_deleted = 0;
        for statement in [
            "DELETE FROM login_attempts WHERE expires_at <= $1",
            "DELETE FROM vault_verifications WHERE expires_at <= $1",
            "DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1",
            "DELETE FROM reset_tokens WHERE expires_at <= $1",
        ] {
            n_deleted += sqlx::query(statement)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_error)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_error)?;
        Ok(n_deleted)
    }

    async fn put_reset_token(
        &self,
        token_hash: &SecretHash,
        account_id: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO reset_tokens (token_hash, account_id, created_at, expires_at) \
             SELECT $1, id, $3, $3 + $4 FROM accounts WHERE id = $2",
        )
        .bind(&token_hash[..])
        .bind(account_id)
        .bind(now_ms)
        .bind(ttl_ms)
        .execute(&self.writer)
        .await
        .map_err(map_error)?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn take_reset_token(
        &self,
        token_hash: &SecretHash,
        account_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM reset_tokens WHERE token_hash = $1 AND account_id = $2 AND expires_at > $3",
        )
        .bind(&token_hash[..])
        .bind(account_id)
        .bind(now_ms)
        .execute(&self.writer)
        .await
        .map_err(map_error)?
        .rows_affected();
        Ok(deleted == 1)
    }

    async fn record_security_event(
        &self,
        kind: &str,
        account_id: Option<&str>,
        client_ip: Option<&str>,
        details: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO security_events (at, kind, account_id, client_ip, details) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_ms)
        .bind(kind)
        .bind(account_id)
        .bind(client_ip)
        .bind(details)
        .execute(&self.writer)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> Vec<u8> + Sync),
    ) -> Result<Vec<u8>, StoreError> {
        let select = "SELECT value FROM server_settings WHERE name = $1";
        let stored: Option<Vec<u8>> = sqlx::query_scalar(select)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_error)?;
        if let Some(value) = stored {
            return Ok(value);
        }
        sqlx::query(
            "INSERT INTO server_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(generate())
        .execute(&self.writer)
        .await
        .map_err(map_error)?;
        sqlx::query_scalar(select)
            .bind(name)
            .fetch_one(&self.writer)
            .await
            .map_err(map_error)
    }
}
