//! The PostgreSQL backend of [`Store`]: a connection pool, runtime queries, `FromRow` rows.
//!
//! A failed request must not leave its connection to the next one: a connection coming back to
//! the pool has its queued rollback flushed and is closed if still counted inside a transaction
//! or if it no longer answers (`readiness::reusable`), and every connection is tested before it is handed
//! out, so that after a database restart the pool's dead connections are replaced instead of
//! failing one request each.

use std::net::IpAddr;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgSslMode};
use sqlx::{Postgres, Transaction};

use super::readiness::{WriteReadiness, reusable};

/// A transaction on this backend's database.
type Tx = Transaction<'static, Postgres>;
use super::{
    Conflict, ConnectOptions, Scope, StoreError, map_migrate_error, map_non_database_error,
    pool_use::AcquireCounts,
};

/// The store on a PostgreSQL pool.
pub(super) struct PostgresStore {
    pool: PgPool,
    /// The last write probe of `/readyz`.
    readiness: WriteReadiness,
    /// The pool's acquisitions, for `/metrics`.
    acquired: AcquireCounts,
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
            .after_release(reusable::<PgConnection>)
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
            acquired: AcquireCounts::default(),
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

    /// LISTEN/NOTIFY on this pool: every process on the database hears every notice.
    fn notice_channel(&self) -> super::notices::Notices {
        super::notices::Notices::Postgres(super::notices::PostgresNotices::new(self.pool.clone()))
    }

    async fn begin(&self) -> Result<Tx, StoreError> {
        self.acquired
            .count(&self.pool, self.pool.begin())
            .await
            .map_err(map_error)
    }

    /// The one pool's use.
    fn pools_in_use(&self) -> Vec<super::PoolUse> {
        vec![self.acquired.pool_use("main", &self.pool)]
    }

    /// Begins a transaction in `scope`: the settings row-level security reads (migration 0003),
    /// for this transaction only.
    async fn begin_in(&self, scope: Scope<'_>) -> Result<Tx, StoreError> {
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
    async fn read_in(&self, scope: Scope<'_>) -> Result<Tx, StoreError> {
        self.begin_in(scope).await
    }

    /// Where single statements outside a transaction write: the one pool.
    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool itself, for `transfer` (`hypnos admin migrate`), which copies whole tables.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
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
pub(super) fn map_error(error: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(database_error) = &error {
        let code = database_error.code().unwrap_or_default().into_owned();
        return match code.as_str() {
            // unique_violation
            "23505" => StoreError::Conflict(match database_error.constraint() {
                Some("accounts_email_key") => Conflict::Email,
                Some("accounts_pkey") => Conflict::AccountId,
                Some("organizations_pkey") => Conflict::OrganizationId,
                Some("organizations_one_personal_per_owner") => Conflict::PersonalOrganization,
                Some("memberships_pkey") => Conflict::Membership,
                Some("sessions_pkey") => Conflict::Session,
                Some("login_attempts_pkey") => Conflict::LoginAttempt,
                Some("vault_verifications_pkey") => Conflict::VaultVerification,
                Some("reset_tokens_pkey") => Conflict::ResetToken,
                _ => Conflict::Duplicate,
            }),
            // foreign_key_violation
            "23503" => StoreError::Conflict(Conflict::Reference),
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
async fn set_scope(tx: &mut Tx, scope: Scope<'_>) -> Result<(), StoreError> {
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

/// Lets the rest of the transaction read and delete presence entries of any organization that
/// expired at or before `now_ms`, and no others (migration 0010's sweep policies).
async fn set_expired_before(tx: &mut Tx, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config('hypnos.expired_before', $1, true)")
        .bind(now_ms.to_string())
        .execute(&mut **tx)
        .await
        .map_err(map_error)?;
    Ok(())
}

super::sql::shared_sql!(
    Postgres,
    PostgresStore,
    smaller = "LEAST",
    lock = " FOR UPDATE"
);

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
