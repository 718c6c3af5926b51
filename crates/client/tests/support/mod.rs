//! The real server, in this process on a fresh SQLite (or PostgreSQL) database, for the
//! library's tests.
#![allow(clippy::unwrap_used, reason = "tests may panic")]
#![allow(dead_code, reason = "each test file uses a part of the support")]

use hypnos_server::ServerConfig;
use tokio::sync::oneshot;

/// A running server; [`Server::stop`] ends it and checks it ended cleanly.
pub struct Server {
    /// Its base URL.
    pub base: String,
    stop: oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), hypnos_server::ServeError>>,
    _data: tempfile::TempDir,
    _postgres: Option<Database>,
}

/// Which database the server runs on.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// A throw-away PostgreSQL database, dropped with this (even when the test fails).
struct Database(String);

/// The PostgreSQL server the tests use.
fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn psql(sql: &str) -> bool {
    std::process::Command::new("psql")
        .args([&admin_url(), "-qc", sql])
        .status()
        .is_ok_and(|status| status.success())
}

impl Database {
    /// A new database; its URL.
    fn create() -> (Self, String) {
        let name = hypnos_client::crypto::random::prefixed_id("hypnos_client").unwrap();
        assert!(
            psql(&format!("CREATE DATABASE {name}")),
            "cannot create {name}"
        );
        let admin = admin_url();
        let (base, _) = admin.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        (Self(name), url)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

impl Server {
    pub async fn start() -> Self {
        Self::start_on(Kind::Sqlite).await
    }

    pub async fn start_on(kind: Kind) -> Self {
        let data = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::parse_defaults();
        let (postgres, url) = match kind {
            Kind::Sqlite => (
                None,
                format!(
                    "sqlite://{}?mode=rwc",
                    data.path().join("hypnos.db").display()
                ),
            ),
            Kind::Postgres => {
                let (database, url) = Database::create();
                (Some(database), url)
            }
        };
        config.database_url = Some(url);
        let state = hypnos_server::open(config).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let running = tokio::spawn(hypnos_server::run(state, listener, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            stop,
            running,
            _data: data,
            _postgres: postgres,
        }
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running.await.unwrap().unwrap();
    }
}
