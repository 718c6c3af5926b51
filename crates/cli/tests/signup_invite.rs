//! Issue 12: on a server whose sign-up is invite-only, `hypnos signup` is refused with the
//! server's reason, and works with `--invite TOKEN` (or HYPNOS_SIGNUP_INVITE) from a link the
//! operator made with `hypnos admin signup-link` on the same database; the link works once.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use support::{Server, hypnos, json_of, stderr_of};

/// `hypnos admin signup-link --json` on the server's database: the link's URL and token.
fn signup_link(server: &Server, extra: &[&str]) -> (String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = hypnos(&home)
        .args([
            "--json",
            "admin",
            "signup-link",
            "--database",
            &server.database,
        ])
        .args(["--public-url", "https://sync.example.com"])
        .args(extra)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let link = json_of(&out);
    (
        link["url"].as_str().unwrap().to_owned(),
        link["token"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn signup_with_an_operators_link_on_an_invite_only_server() {
    let server = Server::start_with(&["--signup", "invite-only"]);
    let signup = |home: &tempfile::TempDir, email: &str| {
        let mut command = hypnos(home);
        command
            .args([
                "--server",
                &server.url,
                "--json",
                "signup",
                "--email",
                email,
            ])
            .env("HYPNOS_PASSPHRASE", format!("{email} passphrase"))
            .timeout(std::time::Duration::from_secs(60));
        command
    };

    // Without a link: refused, with the server's reason.
    let ada = tempfile::tempdir().unwrap();
    let refused = stderr_of(signup(&ada, "ada@example.com").assert().failure());
    assert!(refused.contains("SIGNUP_INVITE_REQUIRED"), "{refused}");

    // With the operator's link, given as --invite: signed up and logged in.
    let (url, token) = signup_link(&server, &["--email", "ada@example.com", "--ttl", "2d"]);
    assert_eq!(
        url,
        format!("https://sync.example.com/app/auth-app/signup.html?invite={token}")
    );
    let out = signup(&ada, "ada@example.com")
        .args(["--invite", &token])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["email"], "ada@example.com");
    let who = json_of(
        &hypnos(&ada)
            .args(["--json", "whoami"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(who["email"], "ada@example.com", "{who}");

    // The link worked once.
    let bob = tempfile::tempdir().unwrap();
    let reused = stderr_of(
        signup(&bob, "ada@example.com")
            .args(["--invite", &token])
            .assert()
            .failure(),
    );
    assert!(reused.contains("SIGNUP_INVITE_INVALID"), "{reused}");

    // A link for anyone, from the environment (HYPNOS_SIGNUP_INVITE).
    let (_, anyone) = signup_link(&server, &[]);
    signup(&bob, "bob@example.com")
        .env("HYPNOS_SIGNUP_INVITE", &anyone)
        .assert()
        .success();

    // A lifetime out of range is a usage error.
    let home = tempfile::tempdir().unwrap();
    hypnos(&home)
        .args([
            "admin",
            "signup-link",
            "--database",
            &server.database,
            "--ttl",
            "400d",
        ])
        .assert()
        .code(2);
}
