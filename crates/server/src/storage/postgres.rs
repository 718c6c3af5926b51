//! The PostgreSQL backend of [`Store`]: a connection pool, runtime queries, `FromRow` rows.
//!
//! A failed request must not leave its connection to the next one: a connection coming back to
//! the pool has its queued rollback flushed and is closed if still counted inside a transaction
//! or if it no longer answers ([`reusable`]), and every connection is tested before it is handed
//! out, so that after a database restart the pool's dead connections are replaced instead of
//! failing one request each.

use async_trait::async_trait;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::str::FromStr;

use sqlx::pool::PoolConnectionMetadata;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Connection, Postgres, Transaction};

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

/// The store on a PostgreSQL pool.
pub(super) struct PostgresStore {
    pool: PgPool,
    /// The last write probe of `/readyz`.
    readiness: WriteReadiness,
}

impl PostgresStore {
    /// Opens the pool and runs the embedded migrations.
    pub(super) async fn connect(url: &str, options: ConnectOptions) -> Result<Self, StoreError> {
        let connect_options =
            connect_options(url, std::env::var_os("PGSSLMODE").is_some()).map_err(map_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            // sqlx's default, said here because the restart tests rely on it: a connection the
            // database ended while it sat idle is found out and replaced before use.
            .test_before_acquire(true)
            .after_release(reusable)
            .connect_with(connect_options)
            .await
            .map_err(map_error)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|error| map_migrate_error(error, map_error))?;
        warn_if_unbound_by_row_security(&pool).await?;
        tracing::info!(backend = "postgres", "storage ready");
        Ok(Self {
            pool,
            readiness: WriteReadiness::default(),
        })
    }

    /// The write probe of `/readyz`: a transaction that is not read-only (a standby, or
    /// `default_transaction_read_only`) and can extend a file in the database's tablespace (a
    /// temporary table of one row, whose first page PostgreSQL writes out at once, so a full
    /// disk refuses it), then rolled back: nothing stays.
    async fn probe_write(&self) -> Result<(), String> {
        let probed = async {
            let mut tx = self.begin().await?;
            let read_only: String =
                sqlx::query_scalar("SELECT current_setting('transaction_read_only')")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_error)?;
            if read_only == "on" {
                return Ok(false);
            }
            let extended = sqlx::raw_sql(
                "CREATE TEMPORARY TABLE hypnos_write_probe (probe integer) ON COMMIT DROP; \
                 INSERT INTO hypnos_write_probe VALUES (1)",
            )
            .execute(&mut *tx)
            .await;
            match extended {
                Ok(_) => {}
                // A role without the TEMP privilege cannot run this part of the probe: the
                // transaction that may write is all it can show.
                Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42501") => {}
                Err(error) => return Err(map_error(error)),
            }
            tx.rollback().await.map_err(map_error)?;
            Ok::<_, StoreError>(true)
        }
        .await;
        match probed {
            Ok(true) => Ok(()),
            Ok(false) => Err("the database is read-only".to_owned()),
            Err(error) => {
                tracing::warn!(%error, "the database refuses a write");
                Err(match error {
                    StoreError::Unavailable(_) => {
                        "the database cannot be reached or refuses writes"
                    }
                    _ => "the database refuses writes",
                }
                .to_owned())
            }
        }
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(map_error)
    }

    /// Begins a transaction in `scope`: the settings row-level security reads (migration 0003),
    /// for this transaction only.
    async fn begin_in(
        &self,
        scope: Scope<'_>,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.begin().await?;
        set_scope(&mut tx, scope).await?;
        Ok(tx)
    }

    /// Brings the planner's statistics of the sync tables up to date (see `BULK_PUSH`). A
    /// failure only costs speed: it is logged, not returned.
    async fn refresh_statistics(&self) {
        if let Err(error) = sqlx::query("ANALYZE blobs, snapshots, branch_snapshots")
            .execute(&self.pool)
            .await
        {
            tracing::warn!(%error, "could not refresh the planner's statistics");
        }
    }

    /// A transaction for reading in `scope` (on PostgreSQL the same as for writing).
    async fn read_in(
        &self,
        scope: Scope<'_>,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.begin_in(scope).await
    }
}

/// Row-level security (migration 0003) binds neither superusers nor BYPASSRLS roles: say so
/// loudly when the server connects as one, since tenant isolation then rests on the server alone.
async fn warn_if_unbound_by_row_security(pool: &PgPool) -> Result<(), StoreError> {
    let unbound: bool = sqlx::query_scalar(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
    )
    .fetch_one(pool)
    .await
    .map_err(map_error)?;
    if unbound {
        tracing::warn!(
            "connected to PostgreSQL as a superuser or BYPASSRLS role: row-level security does \
             not apply to it, so the database does not enforce tenant isolation; connect as an \
             ordinary role that owns the database (README, PostgreSQL)"
        );
    }
    Ok(())
}

/// Whether a connection coming back to the pool may serve another request (sqlx's
/// `after_release`): `ping` flushes the rollback a dropped transaction queued and fails on a
/// connection the database ended; one still counted inside a transaction is closed rather than
/// handed to the next request.
fn reusable(
    connection: &mut PgConnection,
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

/// The connection settings of a `postgres://` URL.
///
/// sqlx, like libpq, defaults to `sslmode=prefer`: it negotiates TLS whenever the server offers
/// it, even on the same machine, where TLS protects nothing and cost about a tenth of the server's
/// CPU per log-in (BENCHMARKS.md). So a URL whose host is the loopback interface (or a Unix
/// socket) and that names no `sslmode`, with no `PGSSLMODE` in the environment, connects without
/// TLS. Any `sslmode` the operator writes is used as written.
fn connect_options(url: &str, pgsslmode_set: bool) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let names_mode = url.split_once('?').is_some_and(|(_, query)| {
        query.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode")
        })
    });
    let host = options.get_host();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if loopback && !names_mode && !pgsslmode_set {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// The one place where PostgreSQL errors become [`StoreError`]s, by SQLSTATE code.
fn map_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error {
        let code = database_error.code().unwrap_or_default().into_owned();
        return match code.as_str() {
            // unique_violation
            "23505" => StoreError::Conflict(match database_error.constraint() {
                Some("accounts_email_key") => "email",
                Some("accounts_pkey") => "account id",
                Some("organizations_pkey") => "organization id",
                Some("organizations_one_personal_per_owner") => "personal organization",
                Some("memberships_pkey") => "membership",
                Some("sessions_pkey") => "session",
                Some("login_attempts_pkey") => "login attempt",
                Some("vault_verifications_pkey") => "vault verification",
                Some("reset_tokens_pkey") => "reset token",
                _ => "duplicate",
            }),
            // foreign_key_violation
            "23503" => StoreError::Conflict("reference"),
            // disk_full, read_only_sql_transaction (a standby after a fail-over): the request
            // may succeed later, once there is room or a primary.
            "53100" | "25006" => StoreError::Unavailable(format!("database error {code}")),
            // connection_exception (08…), too_many_connections, admin/crash shutdown,
            // cannot_connect_now, serialization_failure, deadlock_detected: worth a retry.
            code if code.starts_with("08")
                || matches!(
                    code,
                    "53300" | "57P01" | "57P02" | "57P03" | "40001" | "40P01"
                ) =>
            {
                StoreError::Unavailable(format!("database error {code}"))
            }
            code => StoreError::Other(format!(
                "database error {code}: {}",
                database_error.message()
            )),
        };
    }
    map_non_database_error(error)
}

/// Sets what row-level security lets the rest of the transaction see (migration 0003).
async fn set_scope(
    tx: &mut Transaction<'static, Postgres>,
    scope: Scope<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT set_config('hypnos.organization_id', $1, true), \
         set_config('hypnos.account_id', $2, true)",
    )
    .bind(scope.organization_id.unwrap_or_default())
    .bind(scope.account_id.unwrap_or_default())
    .execute(&mut **tx)
    .await
    .map_err(map_error)?;
    Ok(())
}

super::shared_sql::shared_sql!(Postgres, PostgresStore);

/// Reads an account inside a transaction (after an update, to return it).
async fn account_in(
    tx: &mut Transaction<'static, Postgres>,
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
impl Store for PostgresStore {
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
        // Lock the account and the organizations it owns: a concurrent invitation acceptance
        // (which inserts a membership referencing one of them) waits for this transaction.
        let exists = sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_error)?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
        sqlx::query("SELECT id FROM organizations WHERE owner_account_id = $1 FOR UPDATE")
            .bind(account_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_error)?;
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
            ") SELECT $1, id, $3, $3, $4, LEAST($3 + $4, $3 + $5), $3 + $5 \
             FROM accounts WHERE id = $2 RETURNING ",
            session_columns!()
        ))
        .bind(&new.id_hash[..])
        .bind(&new.account_id)
        .bind(new.now_ms)
        .bind(new.idle_ttl_ms)
        .bind(new.absolute_ttl_ms)
        .fetch_optional(&self.pool)
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
             idle_expires_at = LEAST(absolute_expires_at, $2 + idle_ttl_ms) \
             WHERE id_hash = $1 AND idle_expires_at > $2 AND absolute_expires_at > $2 \
             RETURNING ",
            session_columns!()
        ))
        .bind(&id_hash[..])
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_error)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn delete_session(&self, id_hash: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&id_hash[..])
            .execute(&self.pool)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn delete_sessions_of(&self, account_id: &str) -> Result<u64, StoreError> {
        Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(account_id)
            .execute(&self.pool)
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
        .execute(&self.pool)
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
        .fetch_optional(&self.pool)
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
        .execute(&self.pool)
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
        .execute(&self.pool)
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
        .execute(&self.pool)
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
        .execute(&self.pool)
        .await
        .map_err(map_error)?;
        sqlx::query_scalar(select)
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(map_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str, pgsslmode_set: bool) -> String {
        // PgConnectOptions has no getter for the mode; its Debug output names it.
        let options = connect_options(url, pgsslmode_set).expect("a valid URL");
        let debug = format!("{options:?}");
        let start = debug.find("ssl_mode: ").expect("ssl_mode in Debug") + "ssl_mode: ".len();
        debug[start..]
            .split([',', ' '])
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn loopback_without_a_mode_skips_tls() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/db",
            "postgres://postgres@localhost/db",
            "postgres://postgres@[::1]:5432/db",
            "postgres://postgres@127.0.0.2/db?application_name=x",
        ] {
            assert_eq!(mode(url, false), "Disable", "{url}");
        }
    }

    #[test]
    fn a_named_mode_or_a_remote_host_keeps_the_default() {
        assert_eq!(
            mode("postgres://postgres@127.0.0.1/db?sslmode=require", false),
            "Require"
        );
        assert_eq!(
            mode(
                "postgres://postgres@127.0.0.1/db?ssl-mode=verify-full",
                false
            ),
            "VerifyFull"
        );
        assert_eq!(
            mode("postgres://postgres@db.example.com/db", false),
            "Prefer"
        );
        assert_eq!(mode("postgres://postgres@10.0.0.5/db", false), "Prefer");
        assert_eq!(mode("postgres://postgres@127.0.0.1/db", true), "Prefer");
    }
}
