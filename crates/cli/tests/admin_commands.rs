//! `hypnos admin` as an operator runs it: `backup` and `restore` (a copy of a running server's
//! database, restored where a new server starts, and the account logs in there with its
//! passphrase), `accounts` and `orgs` (what the server holds, for whom).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use support::{Server, hypnos, json_of, run_json, sign_up};

#[test]
fn a_running_servers_database_backs_up_and_restores() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let account = sign_up(&home, &server, "ops@example.com");
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("nightly.db");
    let file_arg = file.to_str().unwrap();

    let backed_up = json_of(
        &hypnos(&home)
            .args(["admin", "backup", file_arg, "--json"])
            .args(["--database", &server.database])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(backed_up["tables"]["accounts"], 1, "{backed_up}");
    assert_eq!(backed_up["path"], file_arg);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "a backup holds verifiers and keys: owner only"
        );
    }
    // Never over an existing file.
    let again = hypnos(&home)
        .args(["admin", "backup", file_arg, "--database", &server.database])
        .assert()
        .code(1);
    let said = String::from_utf8(again.get_output().stderr.clone()).unwrap();
    assert!(said.contains("never overwrites"), "{said}");

    let data = tempfile::tempdir().unwrap();
    let restored_url = format!("sqlite://{}/restored.db?mode=rwc", data.path().display());
    let restored = hypnos(&home)
        .args(["admin", "restore", file_arg, "--database", &restored_url])
        .assert()
        .success();
    let said = String::from_utf8(restored.get_output().stdout.clone()).unwrap();
    assert!(
        said.contains("Restored into") && said.contains("1 accounts"),
        "{said}"
    );

    let second = Server::start_on(restored_url, data);
    let elsewhere = tempfile::tempdir().unwrap();
    hypnos(&elsewhere)
        .args([
            "--server",
            &second.url,
            "login",
            "--email",
            "ops@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "ops@example.com passphrase")
        .assert()
        .success();
    let me = run_json(&elsewhere, &["--server", &second.url, "whoami"]);
    assert_eq!(me["accountId"], account, "{me}");
}

#[test]
fn postgresql_is_backed_up_with_pg_dump() {
    let home = tempfile::tempdir().unwrap();
    let refused = hypnos(&home)
        .args(["admin", "backup", "/tmp/never-written.db"])
        .args(["--database", "postgres://hypnos@127.0.0.1/hypnos"])
        .assert()
        .code(1);
    let said = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(said.contains("pg_dump"), "{said}");
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}

#[test]
fn the_operator_lists_accounts_and_organizations() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let account = sign_up(&home, &server, "ops@example.com");
    let team = run_json(&home, &["--server", &server.url, "org", "create", "Acme"]);
    let list = |what: &str| {
        json_of(
            &hypnos(&home)
                .args(["admin", what, "--json", "--database", &server.database])
                .assert()
                .success()
                .get_output()
                .stdout,
        )
    };
    let accounts = list("accounts");
    assert_eq!(accounts.as_array().unwrap().len(), 1, "{accounts}");
    assert_eq!(accounts[0]["id"], account.as_str());
    assert_eq!(accounts[0]["email"], "ops@example.com");
    assert_eq!(accounts[0]["sessions"], 1);
    assert_eq!(accounts[0]["teamsOwned"], 1);
    let orgs = list("orgs");
    let acme = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["id"] == team["id"])
        .unwrap_or_else(|| panic!("{orgs}"));
    assert_eq!(acme["name"], "Acme");
    assert_eq!(acme["owner"], "ops@example.com");
    assert_eq!(
        (acme["members"].as_i64(), acme["projects"].as_i64()),
        (Some(1), Some(0))
    );
    let text = hypnos(&home)
        .args(["admin", "orgs", "--database", &server.database])
        .assert()
        .success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("Acme (ops@example.com)") && text.contains("2 organizations"),
        "{text}"
    );
}

#[test]
fn the_operator_disables_enables_and_deletes_an_account() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let account = sign_up(&home, &server, "leaver@example.com");
    let admin = |args: &[&str]| {
        hypnos(&home)
            .arg("admin")
            .args(args)
            .args(["--database", &server.database])
            .assert()
    };
    let disabled = json_of(
        &admin(&["disable", "leaver@example.com", "--json"])
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(disabled["id"], account.as_str());
    // Logged out at once: the next command finds its session ended.
    hypnos(&home)
        .args(["--server", &server.url, "whoami"])
        .assert()
        .code(1);
    let refused = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "login",
            "--email",
            "leaver@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "leaver@example.com passphrase")
        .assert()
        .code(1);
    let said = String::from_utf8(refused.get_output().stderr.clone()).unwrap();
    assert!(said.contains("disabled"), "{said}");
    admin(&["enable", "leaver@example.com"]).success();
    hypnos(&home)
        .args([
            "--server",
            &server.url,
            "login",
            "--email",
            "leaver@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "leaver@example.com passphrase")
        .assert()
        .success();

    // Without a terminal, deleting needs --yes; then the account is gone.
    let unconfirmed = admin(&["delete-account", "leaver@example.com"]).code(1);
    let said = String::from_utf8(unconfirmed.get_output().stderr.clone()).unwrap();
    assert!(said.contains("--yes"), "{said}");
    admin(&["delete-account", "leaver@example.com", "--yes"]).success();
    let accounts = json_of(&admin(&["accounts", "--json"]).success().get_output().stdout);
    assert_eq!(accounts, serde_json::json!([]));
}

#[test]
fn a_reset_token_comes_as_json_too() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, &server, "lost@example.com");
    let issued = json_of(
        &hypnos(&home)
            .args(["admin", "reset-token", "Lost@Example.com", "--json"])
            .args(["--database", &server.database])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(issued["email"], "lost@example.com", "{issued}");
    assert_eq!(issued["expiresIn"], 3600);
    let token = issued["token"].as_str().unwrap();
    assert!(
        token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{issued}"
    );
}
