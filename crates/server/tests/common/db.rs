//! A fresh database per test on either backend.
//!
//! [`TestDb::sqlite`] makes a database file in a temporary directory; [`TestDb::postgres`] creates
//! a database with a random name on the server at `HYPNOS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), copied from a migrated template the process
//! makes once, and drops it (`WITH (FORCE)`) when the [`TestDb`] is dropped, even after a failed
//! assertion; the template is dropped when the process exits. Tests therefore run in parallel and leave
//! nothing behind. A PostgreSQL server that cannot be reached fails the test with a message that
//! says how to start one; it never skips it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hypnos_server::storage::{self, Store};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::OnceCell;

/// The role the store and the server connect as in PostgreSQL tests: an ordinary role that owns
/// its test database, so that row-level security binds it as it binds a production server. Test
/// setup SQL ([`TestDb::execute`]) runs as the admin role of the test URL, unbound by it.
pub const APP_ROLE: &str = "hypnos_app_test";

/// The PostgreSQL server used when `HYPNOS_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which database a [`TestDb`] lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A throw-away database on a PostgreSQL server.
    Postgres,
}

/// A fresh, empty database for one test.
pub struct TestDb {
    /// The backend.
    pub backend: Backend,
    /// The URL to give [`storage::connect`] (on PostgreSQL, as [`APP_ROLE`]).
    pub url: String,
    /// The URL test setup SQL runs on (on PostgreSQL, as the admin role, unbound by row-level
    /// security; on SQLite the same as `url`).
    admin_url: String,
    /// Keeps the SQLite file's directory alive.
    _directory: Option<tempfile::TempDir>,
    /// For PostgreSQL: the maintenance URL and the database to drop at the end.
    postgres_drop: Option<(String, String)>,
    /// The connection for [`TestDb::execute`] and [`TestDb::scalar`].
    helper: OnceCell<Helper>,
}

impl TestDb {
    /// A database of the given backend.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A SQLite database file (not yet created: `connect` creates it and its directory).
    pub fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory can be created");
        let url = storage::default_sqlite_url(&directory.path().join("data"));
        Self {
            backend: Backend::Sqlite,
            admin_url: url.clone(),
            url,
            _directory: Some(directory),
            postgres_drop: None,
            helper: OnceCell::new(),
        }
    }

    /// A new database with a random name on the test PostgreSQL server, already migrated: a copy
    /// of this process's [`template`] (copying is about a fifth of the time migrating takes, and
    /// most tests make one or two databases). Tests of migrations themselves downgrade the copy.
    pub async fn postgres() -> Self {
        let admin_url = admin_url();
        let template = template(&admin_url).await;
        Self::postgres_created(admin_url, &format!(" TEMPLATE \"{template}\"")).await
    }

    /// An empty PostgreSQL database (no schema: not even migrated), owned by [`APP_ROLE`], for a
    /// restore to fill.
    pub async fn postgres_empty() -> Self {
        let admin_url = admin_url();
        template(&admin_url).await; // makes the role
        Self::postgres_created(admin_url, "").await
    }

    /// A database of a random name owned by [`APP_ROLE`], made with `CREATE DATABASE …` and
    /// `options`.
    async fn postgres_created(admin_url: String, options: &str) -> Self {
        let name = random_name("hypnos_test");
        let mut admin = admin_connection(&admin_url).await;
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE DATABASE \"{name}\" OWNER {APP_ROLE}{options}"
        )))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        admin.close().await.ok();
        let admin_db_url = database_url(&admin_url, &name);
        Self {
            backend: Backend::Postgres,
            url: with_user(&admin_db_url, APP_ROLE),
            admin_url: admin_db_url,
            _directory: None,
            postgres_drop: Some((admin_url, name)),
            helper: OnceCell::new(),
        }
    }

    /// The URL of the database as the server's administrator (PostgreSQL: a superuser, unbound
    /// by row-level security, as `pg_dump` must be; SQLite: the same as `url`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Opens the store (running migrations).
    pub async fn connect(&self) -> Arc<dyn Store> {
        storage::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("cannot open the {:?} store: {error}", self.backend))
    }

    /// Runs SQL statements (no parameters; test data only) on the helper connection.
    pub async fn execute(&self, sql: &str) {
        if let Err(error) = self.try_execute(sql).await {
            panic!("test SQL failed: {error}");
        }
    }

    /// Runs SQL statements like [`TestDb::execute`], returning the database's refusal.
    pub async fn try_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = AssertSqlSafe(sql.to_owned());
        match self.helper().await {
            Helper::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            Helper::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        }
    }

    /// The single integer a query returns (`SELECT COUNT(*) …`).
    pub async fn scalar(&self, sql: &str) -> i64 {
        let sql = AssertSqlSafe(sql.to_owned());
        let value = match self.helper().await {
            Helper::Sqlite(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
            Helper::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
        };
        value.unwrap_or_else(|error| panic!("test query failed: {error}"))
    }

    /// One connection of the test's own, opened on first use and kept (connecting is slow).
    async fn helper(&self) -> &Helper {
        self.helper
            .get_or_init(|| async {
                match self.backend {
                    Backend::Sqlite => Helper::Sqlite(
                        SqlitePoolOptions::new()
                            .max_connections(1)
                            .connect(&self.url)
                            .await
                            .unwrap_or_else(|error| panic!("cannot open {}: {error}", self.url)),
                    ),
                    Backend::Postgres => Helper::Postgres(
                        PgPoolOptions::new()
                            .max_connections(1)
                            .connect(&self.admin_url)
                            .await
                            .unwrap_or_else(|error| {
                                panic!("cannot open {}: {error}", self.admin_url)
                            }),
                    ),
                }
            })
            .await
    }
}

/// The connection [`TestDb`] runs test SQL on, outside the store.
enum Helper {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres_drop.take() {
            drop_database(admin_url, name);
        }
    }
}

/// The PostgreSQL server the tests use, as its admin role.
fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A connection to the test server's maintenance database, or a failed test that says how to
/// start PostgreSQL: a missing server never skips a test.
async fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| {
            panic!(
                "the storage tests need PostgreSQL at {admin_url} (set HYPNOS_TEST_POSTGRES_URL to \
             use another server), but it cannot be reached: {error}. Start it with \
             `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
            )
        })
}

fn random_name(prefix: &str) -> String {
    hypnos_crypto::random::prefixed_id(prefix).expect("the system random generator works")
}

/// Templates are named `hypnos_template_<unix seconds>_<random>`; one older than this belongs to
/// a test process that was killed before it could drop it (CI gives a whole run 90 minutes).
const ABANDONED_TEMPLATE_AGE: Duration = Duration::from_secs(6 * 60 * 60);

/// The name of this process's template database: made on first use by the store's own
/// `connect` (so it holds exactly what a server's first start makes), then closed to connections
/// so that it can be copied, and dropped when the process exits.
async fn template(admin_url: &str) -> String {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut admin = admin_connection(admin_url).await;
            // Tests of several processes run in parallel: several may create the role at once.
            sqlx::raw_sql(AssertSqlSafe(format!(
                "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; \
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create the role {APP_ROLE}: {error}"));
            drop_abandoned_templates(&mut admin).await;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the clock is after 1970")
                .as_secs();
            let name = random_name(&format!("hypnos_template_{now}"));
            sqlx::raw_sql(AssertSqlSafe(format!(
                "CREATE DATABASE \"{name}\" OWNER {APP_ROLE}"
            )))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create the template database {name}: {error}"));
            // Registered before anything else can fail, so that a failed migration leaves
            // nothing behind either.
            drop_at_exit(admin_url.to_owned(), name.clone());
            let store_url = with_user(&database_url(admin_url, &name), APP_ROLE);
            let store = storage::connect(&store_url)
                .await
                .unwrap_or_else(|error| panic!("cannot migrate the template database: {error}"));
            drop(store);
            // A database is copied only while nobody is connected to it; the store's pool closes
            // its connections in the background, so end them, and let no new one in.
            sqlx::raw_sql(AssertSqlSafe(format!(
                "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot close the template database: {error}"));
            admin.close().await.ok();
            name
        })
        .await
        .clone()
}

/// Drops the templates of test processes that were killed (their exit hook never ran).
async fn drop_abandoned_templates(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'hypnos\\_template\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    .unwrap_or_default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    for name in names {
        let made = name
            .strip_prefix("hypnos_template_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|seconds| seconds.parse::<u64>().ok());
        if made.is_some_and(|made| now.saturating_sub(made) > ABANDONED_TEMPLATE_AGE.as_secs()) {
            // Another process may be sweeping the same one: losing that race is fine.
            let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// Drops `name` when the test process exits. libtest ends the process with `exit` (success or
/// failure) without dropping statics, so `atexit` is the one hook that runs after the last test.
#[allow(unsafe_code, reason = "registering the exit hook is a call into libc")]
fn drop_at_exit(admin_url: String, name: String) {
    static AT_EXIT: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    extern "C" fn drop_template() {
        if let Some((admin_url, name)) = AT_EXIT.get() {
            drop_database(admin_url.clone(), name.clone());
        }
    }
    if AT_EXIT.set((admin_url, name)).is_ok() {
        // SAFETY: `drop_template` is a plain `extern "C"` function that does not unwind (errors
        // are printed), registered once per process.
        let registered = unsafe { libc::atexit(drop_template) };
        assert_eq!(registered, 0, "the exit hook can be registered");
    }
}

/// Drops a test database (`WITH (FORCE)`, ending the store's pooled connections). It runs from
/// `Drop` inside a test's runtime, which cannot be blocked on, and from the exit hook: either
/// way on a thread of its own with a small runtime of its own.
fn drop_database(admin_url: String, name: String) {
    let dropper = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime can be built");
        runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_url).await?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await?;
            admin.close().await
        })
    });
    match dropper.join() {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("could not drop a test database: {error}"),
        Err(_) => eprintln!("dropping a test database panicked"),
    }
}

/// A fresh SQLite database ([`TestDb::sqlite`]).
pub fn sqlite_db() -> TestDb {
    TestDb::sqlite()
}

/// A fresh PostgreSQL database ([`TestDb::postgres`]), dropped with the returned value.
pub async fn postgres_db() -> TestDb {
    TestDb::postgres().await
}

/// `url` with its user (and password) replaced by `user`.
fn with_user(url: &str, user: &str) -> String {
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let rest = &url[authority_start..];
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{}{user}@{host}", &url[..authority_start])
}

/// `admin_url` with its database path replaced by `name` (query parameters kept).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}
