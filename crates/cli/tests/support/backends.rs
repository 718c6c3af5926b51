//! The real server binary on a fresh SQLite or PostgreSQL database, for the tests that run on
//! both.

use std::process::Command as StdCommand;

use super::Server;

/// Which database a test runs on.
#[derive(Clone, Copy)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use, as in the other tests.
pub fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn psql(admin: &str, sql: &str) -> bool {
    StdCommand::new("psql")
        .args([admin, "-qc", sql])
        .status()
        .is_ok_and(|status| status.success())
}

/// The real server on a fresh database; a PostgreSQL one is dropped with it, even when the
/// test fails.
pub struct Backend {
    server: Option<Server>,
    postgres: Option<String>,
}

impl Backend {
    pub fn start(kind: Kind) -> Self {
        let data = tempfile::tempdir().unwrap();
        match kind {
            Kind::Sqlite => {
                let url = format!("sqlite://{}/hypnos.db?mode=rwc", data.path().display());
                Self {
                    server: Some(Server::start_on(url, data)),
                    postgres: None,
                }
            }
            Kind::Postgres => {
                let admin = admin_url();
                let name = hypnos_crypto::random::prefixed_id("hypnos_cli").unwrap();
                assert!(
                    psql(&admin, &format!("CREATE DATABASE {name}")),
                    "cannot create {name} on {admin}"
                );
                let (base, _) = admin.rsplit_once('/').unwrap();
                let url = format!("{base}/{name}");
                Self {
                    server: Some(Server::start_on(url, data)),
                    postgres: Some(name),
                }
            }
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    pub fn server_mut(&mut self) -> &mut Server {
        self.server.as_mut().unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        drop(self.server.take());
        if let Some(name) = &self.postgres {
            psql(
                &admin_url(),
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}
