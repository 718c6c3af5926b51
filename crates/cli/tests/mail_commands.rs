//! Issue 16: `hypnos admin reset-token EMAIL --mail` mails the token to the account's owner
//! through a real SMTP server (aiosmtpd, started by the test; see
//! `crates/server/tests/mail/smtpd.rs`) instead of printing it, says where it went, and the
//! mailed token resets the account; without SMTP settings it is a clear error. Both databases.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../../server/tests/mail/smtpd.rs"]
mod smtpd;
mod support;

use support::{
    backends::{Backend, Kind},
    hypnos, sign_up, stderr_of,
};

#[test]
fn sqlite_reset_token_is_mailed_to_the_owner() {
    reset_token_is_mailed_to_the_owner(Kind::Sqlite);
}

#[test]
fn postgres_reset_token_is_mailed_to_the_owner() {
    reset_token_is_mailed_to_the_owner(Kind::Postgres);
}

fn reset_token_is_mailed_to_the_owner(kind: Kind) {
    let backend = Backend::start(kind);
    let server = backend.server();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, server, "ada@example.com");
    let smtpd = smtpd::Smtpd::start();

    let admin = |extra: &[String]| {
        hypnos(&home)
            .args(["admin", "reset-token", "Ada@Example.com", "--mail"])
            .args(["--database", &server.database])
            .args(["--public-url", "https://sync.example.com"])
            .args(["--server-name", "Acme Sync"])
            .args(extra)
            .assert()
    };

    // Without SMTP settings: a clear error, nothing sent.
    let refused = stderr_of(admin(&[]).code(1));
    assert!(refused.contains("mail is not configured"), "{refused}");
    assert!(refused.contains("--smtp-host"), "{refused}");

    // With them: the token goes to the account's e-mail, not to the terminal.
    let sent = admin(&smtpd.flags(&smtpd.password)).success();
    let stdout = String::from_utf8_lossy(&sent.get_output().stdout).into_owned();
    assert!(stdout.contains("mailed to ada@example.com"), "{stdout}");
    assert!(
        !stdout
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|word| word.len() == 64),
        "no token printed: {stdout}"
    );
    let mail = smtpd::wait_for_messages(&smtpd.maildir(), 1).pop().unwrap();
    assert_eq!(mail.header("X-RcptTo"), "ada@example.com");
    assert_eq!(mail.header("To"), "ada@example.com");
    assert!(mail.header("From").ends_with("<hypnos@mail.example.com>"));
    assert_eq!(mail.header("Subject"), "Reset your passphrase on Acme Sync");
    let text = mail.text();
    assert!(text.contains("https://sync.example.com"), "{text}");
    let token = text
        .split_whitespace()
        .find(|word| word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("a token in {text}"))
        .to_owned();
    assert!(
        text.contains(&format!(
            "account reset --email ada@example.com --token {token}"
        )),
        "{text}"
    );

    // The mailed token resets the account, as the message says.
    hypnos(&home)
        .args(["--server", &server.url, "account", "reset"])
        .args(["--email", "ada@example.com", "--token", &token])
        .env("HYPNOS_PASSPHRASE", "ada's new passphrase")
        .assert()
        .success();

    // A wrong SMTP password: the command fails and says the token was not mailed.
    let failed = stderr_of(admin(&smtpd.flags("wrong password")).code(1));
    assert!(failed.contains("could not be mailed"), "{failed}");
    assert!(!failed.contains("wrong password"), "{failed}");
    assert_eq!(smtpd::delivered(&smtpd.maildir()).len(), 1);
}
