//! `hypnos admin migrate` as an operator runs it: the real binary moves a SQLite database that
//! the real server filled into a new PostgreSQL database (exit 0, the report on stdout, progress
//! on stderr), refuses to do it twice into the same, now non-empty, database (exit 1), is a
//! usage error for a source of the wrong kind (exit 2), and the server on the PostgreSQL
//! database logs the accounts in. The depth of the copy (history, blobs, keys, row-level
//! security, a tampered row) is tested in `crates/server/tests/migrate.rs`.

#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use support::backends::{admin_url, psql};
use support::{Server, hypnos, json_of, sign_up};

/// A throw-away PostgreSQL database, dropped with it.
struct PostgresDb {
    name: String,
    url: String,
}

impl PostgresDb {
    fn create() -> Self {
        let admin = admin_url();
        let name = hypnos_crypto::random::prefixed_id("hypnos_migrate").unwrap();
        assert!(
            psql(&admin, &format!("CREATE DATABASE {name}")),
            "cannot create {name} on {admin}"
        );
        let (base, _) = admin.rsplit_once('/').unwrap();
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        psql(
            &admin_url(),
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

#[test]
fn the_binary_moves_a_sqlite_database_to_postgresql_once() {
    let home = tempfile::tempdir().unwrap();
    let kept = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/hypnos.db?mode=rwc", kept.path().display());
    let source = Server::start_on(sqlite.clone(), tempfile::tempdir().unwrap());
    sign_up(&home, &source, "alice@example.com");
    sign_up(&home, &source, "bob@example.com");
    drop(source);
    let target = PostgresDb::create();

    let done = hypnos(&home)
        .args([
            "--json",
            "admin",
            "migrate",
            "--from",
            &sqlite,
            "--to",
            &target.url,
        ])
        .assert()
        .success();
    let output = done.get_output();
    let report = json_of(&output.stdout);
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["committed"], true, "{report}");
    let accounts = &report["tables"][0];
    assert_eq!(accounts["table"], "accounts");
    assert_eq!(accounts["sourceRows"], 2);
    assert_eq!(accounts["targetRows"], 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("copying accounts: 2/2 rows"), "{stderr}");
    assert!(!stderr.contains(&target.url) && !stdout_has(output, "postgres://"));

    // Checking again copies nothing and finds the same.
    let verified = hypnos(&home)
        .args(["admin", "migrate", "--verify-only", "--from", &sqlite])
        .env("HYPNOS_MIGRATE_TO", &target.url)
        .assert()
        .success();
    assert!(stdout_has(
        verified.get_output(),
        "Every copied table matches."
    ));

    // The target holds rows now: a second copy is refused.
    let refused = hypnos(&home)
        .args(["admin", "migrate", "--from", &sqlite, "--to", &target.url])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("not empty"), "{stderr}");

    // A source that is not SQLite is a usage error.
    hypnos(&home)
        .args([
            "admin",
            "migrate",
            "--from",
            &target.url,
            "--to",
            &target.url,
        ])
        .assert()
        .code(2);

    // The server on PostgreSQL logs bob in with his passphrase.
    let moved = Server::start_on(target.url.clone(), tempfile::tempdir().unwrap());
    let other_home = tempfile::tempdir().unwrap();
    hypnos(&other_home)
        .args([
            "--server",
            &moved.url,
            "login",
            "--email",
            "bob@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "bob@example.com passphrase")
        .assert()
        .success();
    let me = hypnos(&other_home)
        .args(["--server", &moved.url, "whoami"])
        .assert()
        .success();
    assert!(stdout_has(me.get_output(), "bob@example.com"));
}

fn stdout_has(output: &std::process::Output, text: &str) -> bool {
    String::from_utf8_lossy(&output.stdout).contains(text)
}
