//! Where `hypnos` keeps the session: the OS keyring when one is reachable, else a file only the
//! user can read (`HYPNOS_KEYRING=auto`); always the file with `HYPNOS_KEYRING=off`.
//!
//! These tests never write to a real keyring: where one could answer (macOS, Windows) they only
//! read an entry no one wrote, and on Linux and the BSDs the session bus is pointed at nothing.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::{Server, hypnos, json_of, stderr_of};

/// `hypnos` as `support::hypnos`, with `HYPNOS_KEYRING=auto` and no D-Bus session bus.
fn hypnos_auto(home: &tempfile::TempDir) -> Command {
    let mut command = hypnos(home);
    command
        .env("HYPNOS_KEYRING", "auto")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    command
}

fn session_json(home: &tempfile::TempDir) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.path().join("session.json")).unwrap())
        .unwrap()
}

/// Without a reachable keyring, `auto` keeps the secrets in session.json (0600), says so once at
/// log-in, and log-out deletes the file.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
#[test]
fn without_a_keyring_the_session_falls_back_to_a_private_file() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();

    let signed_up = hypnos_auto(&home)
        .args(["--server", &server.url, "--json", "signup"])
        .args(["--email", "ada@example.com"])
        .env("HYPNOS_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success();
    let account_id = json_of(&signed_up.get_output().stdout)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let said = stderr_of(signed_up);
    let path = home.path().join("session.json");
    assert!(
        said.contains(&format!(
            "no OS keyring available; the session is kept in {} (readable by you alone)",
            path.display()
        )),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "one line: {said}");

    let saved = session_json(&home);
    assert_eq!(saved["secrets"], "file");
    assert_eq!(saved["accountId"], account_id.as_str());
    assert!(saved["sessionId"].is_string(), "{saved}");
    assert!(saved["accountKey"].is_string(), "{saved}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let started = std::time::Instant::now();
    let me = json_of(
        &hypnos_auto(&home)
            .args(["--json", "whoami"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(me["accountId"], account_id.as_str());

    let out = hypnos_auto(&home)
        .args(["--json", "logout"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["loggedOut"], true);
    assert!(!path.exists(), "log-out deletes session.json");
    // Finding no keyring costs no time-out.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let failed = hypnos_auto(&home)
        .arg("whoami")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(failed).unwrap().contains("hypnos login"));

    // With the keyring off there is no note: the user chose the file.
    let quiet = hypnos(&home)
        .args(["--server", &server.url, "signup"])
        .args(["--email", "bob@example.com"])
        .env("HYPNOS_PASSPHRASE", "another passphrase")
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(
        !String::from_utf8(quiet).unwrap().contains("keyring"),
        "no note with HYPNOS_KEYRING=off"
    );
    assert_eq!(session_json(&home)["secrets"], "file");
}

#[test]
fn an_unknown_keyring_setting_is_refused_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    for command in ["whoami", "logout"] {
        let said = stderr_of(
            hypnos(&home)
                .arg(command)
                .env("HYPNOS_KEYRING", "bogus")
                .assert()
                .code(1),
        );
        assert!(
            said.contains("HYPNOS_KEYRING") && said.contains("bogus"),
            "{command}: {said}"
        );
        assert!(said.contains("auto") && said.contains("off"), "{said}");
    }
}

/// session.json says the secrets are in the keyring, but no entry is there (or no keyring).
#[test]
fn a_session_missing_from_the_keyring_says_to_log_in_again() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("session.json"),
        json!({
            "server": "http://127.0.0.1:9",
            "accountId": "acct_gone",
            "email": "ada@example.com",
            "secrets": "keyring",
        })
        .to_string(),
    )
    .unwrap();

    let said = stderr_of(hypnos_auto(&home).arg("whoami").assert().code(1));
    assert!(
        said.contains("the session is no longer in the OS keyring")
            && said.contains("run hypnos login --email"),
        "{said}"
    );

    // With the keyring off it is not looked for, and the message says why.
    let said = stderr_of(hypnos(&home).arg("whoami").assert().code(1));
    assert!(
        said.contains("HYPNOS_KEYRING=off") && said.contains("hypnos login"),
        "{said}"
    );

    // Logging out forgets a session that can no longer be read.
    hypnos_auto(&home).arg("logout").assert().code(1);
    assert!(!home.path().join("session.json").exists());
    let said = hypnos(&home)
        .arg("whoami")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(said).unwrap().contains("not logged in"));
}
