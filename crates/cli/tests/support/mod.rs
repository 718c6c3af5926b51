//! What the command-line tests share: the real server binary on a fresh SQLite database, and
//! `hypnos` run with its own client state.
#![allow(dead_code, reason = "each test file uses a part of the support")]
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    process::{Child, Command as StdCommand, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

pub mod backends;
pub mod exports;

use assert_cmd::{Command, cargo::cargo_bin};
use serde_json::Value;

pub struct Server {
    child: Child,
    pub url: String,
    pub database: String,
    extra_args: Vec<String>,
    _data: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}/hypnos.db?mode=rwc", data.path().display());
        Self::start_on(database, data)
    }

    /// The server on `database` (any URL `hypnos server --database` takes); `data` is kept
    /// as long as the server.
    pub fn start_on(database: String, data: tempfile::TempDir) -> Self {
        Self::start_with_on(database, data, &[])
    }

    fn start_with_on(database: String, data: tempfile::TempDir, extra_args: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            child: spawn_server(port, &database, extra_args),
            url: format!("http://127.0.0.1:{port}"),
            database,
            extra_args: extra_args.iter().map(|arg| (*arg).to_owned()).collect(),
            _data: data,
        }
    }

    /// Kills the server (SIGKILL: connections end without a goodbye) and starts it again on
    /// the same port and database.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port = self.url.rsplit_once(':').unwrap().1.parse().unwrap();
        let extra: Vec<&str> = self.extra_args.iter().map(String::as_str).collect();
        self.child = spawn_server(port, &self.database, &extra);
    }
}

/// `hypnos server` on `port` and `database`, once it answers `/readyz`.
fn spawn_server(port: u16, database: &str, extra_args: &[&str]) -> Child {
    let child = StdCommand::new(cargo_bin("hypnos"))
        .args(["server", "--listen", &format!("127.0.0.1:{port}")])
        // Servers of parallel tests would fight over the default metrics port.
        .args(["--metrics-listen", "off"])
        .args(["--database", database])
        .args(extra_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready(port) {
        assert!(Instant::now() < deadline, "the server did not start");
        sleep(Duration::from_millis(50));
    }
    child
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hypnos` with the client's state in `home`, its session in `home`/session.json: tests never
/// write to the developer's OS keyring.
pub fn hypnos(home: &tempfile::TempDir) -> Command {
    Command::from_std(hypnos_process(home))
}

/// [`hypnos`] as a process to spawn (a command that runs until stopped, as `hypnos watch`).
pub fn hypnos_process(home: &tempfile::TempDir) -> StdCommand {
    let mut command = StdCommand::new(cargo_bin("hypnos"));
    command
        .env("HYPNOS_HOME", home.path())
        .env("HYPNOS_KEYRING", "off")
        .env_remove("HYPNOS_PASSPHRASE")
        .env_remove("HYPNOS_SERVER");
    command
}

pub fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(output)))
}

/// Signs up `email` with its state in `home`; returns the account id.
pub fn sign_up(home: &tempfile::TempDir, server: &Server, email: &str) -> String {
    let out = hypnos(home)
        .args([
            "--server",
            &server.url,
            "--json",
            "signup",
            "--email",
            email,
        ])
        .env("HYPNOS_PASSPHRASE", format!("{email} passphrase"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)["id"].as_str().unwrap().to_owned()
}

pub fn run_json(home: &tempfile::TempDir, args: &[&str]) -> Value {
    json_of(
        &hypnos(home)
            .arg("--json")
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

/// The session id `hypnos` keeps in `home` (in session.json, as `hypnos()` has the keyring off).
pub fn session_of(home: &tempfile::TempDir) -> String {
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("session.json")).unwrap())
            .unwrap();
    saved["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session id in session.json (in the OS keyring?): {saved}"))
        .to_owned()
}

/// One GraphQL operation of the sync API as the holder of `session`, through hypnos-client: its
/// `data`, or the server's refusal.
pub async fn gql(
    server: &Server,
    session: &str,
    query: &str,
    variables: Value,
) -> Result<Value, hypnos_client::ClientError> {
    hypnos_client::Api::new(&server.url)
        .unwrap()
        .graphql(session, query, variables)
        .await
}

/// What a finished command wrote on stderr.
pub fn stderr_of(assert: assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// The README's walk-through before an invitation: the teammate reads their fingerprint
/// (`hypnos keys fingerprint`), the inviter sees the same for their e-mail and pins it
/// (`hypnos keys trust EMAIL FINGERPRINT`). Returns the fingerprint.
pub fn trust_teammate(
    inviter: &tempfile::TempDir,
    teammate: &tempfile::TempDir,
    email: &str,
) -> String {
    let theirs = run_json(teammate, &["keys", "fingerprint"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = run_json(inviter, &["keys", "fingerprint", email]);
    assert_eq!(seen["fingerprint"], theirs.as_str(), "{seen}");
    assert_eq!(seen["pinned"], false, "{seen}");
    let pinned = run_json(inviter, &["keys", "trust", email, &theirs]);
    assert_eq!(pinned["pinned"], true, "{pinned}");
    theirs
}

impl Server {
    /// [`Server::start`] with more `hypnos server` arguments (a sign-up policy, say).
    pub fn start_with(extra_args: &[&str]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}/hypnos.db?mode=rwc", data.path().display());
        Self::start_with_on(database, data, extra_args)
    }
}

/// Whether the server on `port` answers `/readyz` with 200.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = write!(
        stream,
        "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Runs `interop/sync-client.js` (a sync client built only on the npm packages the Insomnia app
/// uses) with `args`; its one JSON value on stdout. Fails, never skips, when Node or the packages
/// (`npm ci --prefix interop`) are missing.
pub fn sync_client(args: &[&str]) -> Value {
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop");
    assert!(
        interop.join("node_modules").is_dir(),
        "{} is missing: run `npm ci --prefix interop` at the workspace root",
        interop.join("node_modules").display()
    );
    let output = StdCommand::new("node")
        .arg(interop.join("sync-client.js"))
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("cannot run `node` (Node 20 or later on the PATH): {err}"));
    assert!(
        output.status.success(),
        "sync-client.js {} failed ({}):\n{}",
        args[0],
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    json_of(&output.stdout)
}
