//! A throw-away PostgreSQL cluster of the test's own (the machine's shared one must never be
//! restarted or filled: other tests use it in parallel): `initdb` and `pg_ctl` from
//! `/usr/lib/postgresql/*/bin`, run as the `postgres` user, on a free port of 127.0.0.1, its data
//! directory in a fresh temporary directory. Dropping it stops the cluster (immediately) and
//! deletes the directory, even after a failed assertion.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

use super::tmpfs::chown;

/// The role the server connects as: an ordinary role owning its database, as in production.
pub const APP_ROLE: &str = "hypnos_app";

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    /// Holds the data directory, the socket and the log.
    root: tempfile::TempDir,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Creates and starts a cluster (`fsync` off: the tests crash nothing but PostgreSQL's
    /// clients, and it halves the start-up time).
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// [`Cluster::start`] trying `port` first. A free port is only free until someone binds it:
    /// tests in parallel open servers on ports of their own, so when PostgreSQL finds its port
    /// taken the cluster starts again on another.
    pub fn start_on(port: u16) -> Self {
        let bin = postgres_bin();
        let root = tempfile::Builder::new()
            .prefix("hypnos-faults-pg-")
            .tempdir()
            .expect("a temporary directory can be created");
        chown(root.path(), "postgres");
        let mut cluster = Self { bin, port, root };
        let initdb = cluster.as_postgres(
            Command::new(cluster.bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .arg("-D")
                .arg(cluster.data()),
        );
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            describe(&initdb)
        );
        for _ in 0..PORT_TRIES {
            // The log of a try says only that try's failure.
            let _ = std::fs::remove_file(cluster.root.path().join("log"));
            match cluster.try_pg_ctl("start") {
                Ok(()) => return cluster,
                Err(failure) if failure.contains("Address already in use") => {
                    cluster.port = free_port();
                }
                Err(failure) => panic!("{failure}"),
            }
        }
        panic!("no free port for the test cluster in {PORT_TRIES} tries");
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The URL of `database` as the superuser `postgres`.
    pub fn admin_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The URL of `database` as [`APP_ROLE`].
    pub fn app_url(&self, database: &str) -> String {
        format!("postgres://{APP_ROLE}@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs SQL as the superuser on `database`.
    pub async fn execute(&self, database: &str, sql: &str) {
        let mut admin = PgConnection::connect(&self.admin_url(database))
            .await
            .unwrap_or_else(|error| panic!("cannot connect to the test cluster: {error}"));
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("test SQL failed ({sql}): {error}"));
        admin.close().await.ok();
    }

    /// Creates [`APP_ROLE`] and a database it owns, in `tablespace` when given (which must
    /// exist); returns the database's URL as that role.
    pub async fn app_database(&self, name: &str, tablespace: Option<&str>) -> String {
        self.execute("postgres", &format!("CREATE ROLE {APP_ROLE} LOGIN"))
            .await;
        let placed = tablespace.map_or(String::new(), |space| format!(" TABLESPACE {space}"));
        self.execute(
            "postgres",
            &format!("CREATE DATABASE {name} OWNER {APP_ROLE}{placed}"),
        )
        .await;
        self.app_url(name)
    }

    /// Stops the cluster (`-m fast`: connections are ended, as in an ordinary restart).
    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts the stopped cluster again, on the same port.
    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    /// `pg_ctl restart -m fast`.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    /// Runs `pg_ctl ACTION`, waiting for it to finish; fails the test if it fails.
    fn pg_ctl(&self, action: &str) {
        if let Err(failure) = self.try_pg_ctl(action) {
            panic!("{failure}");
        }
    }

    /// Runs `pg_ctl ACTION`, waiting for it to finish; what went wrong and the server's log if
    /// it failed.
    fn try_pg_ctl(&self, action: &str) -> Result<(), String> {
        let mut command = Command::new(self.bin.join("pg_ctl"));
        command
            .arg(action)
            .args(["-w", "-t", "30", "-m", "fast", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.root.path().join("log"));
        if action != "stop" {
            command.arg("-o").arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                self.port,
                self.root.path().display()
            ));
        }
        let done = self.as_postgres(&mut command);
        if done.status.success() {
            return Ok(());
        }
        Err(format!(
            "pg_ctl {action} failed: {}\nlog: {}",
            describe(&done),
            std::fs::read_to_string(self.root.path().join("log")).unwrap_or_default()
        ))
    }

    /// Runs a command as the `postgres` user.
    fn as_postgres(&self, command: &mut Command) -> Output {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args)
            .current_dir(self.root.path())
            .output()
            .unwrap_or_else(|error| panic!("cannot run runuser: {error}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["stop", "-w", "-t", "30", "-m", "immediate", "-D"])
            .arg(self.data())
            .current_dir(self.root.path())
            .output();
    }
}

/// The newest PostgreSQL's programs under `/usr/lib/postgresql`.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's programs are installed under /usr/lib/postgresql")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("initdb is installed under /usr/lib/postgresql/*/bin")
}

/// A port nobody listens on now (bound and released: another process could take it in between,
/// which would fail the start loudly, not silently).
/// How many ports [`Cluster::start_on`] tries.
const PORT_TRIES: usize = 5;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a local port can be bound")
        .port()
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    )
}

/// A new directory `name` under `under` owned by `postgres`, for `CREATE TABLESPACE`.
pub fn tablespace_dir(under: &Path, name: &str) -> PathBuf {
    let directory = under.join(name);
    std::fs::create_dir_all(&directory).expect("the tablespace directory can be created");
    chown(&directory, "postgres");
    directory
}
