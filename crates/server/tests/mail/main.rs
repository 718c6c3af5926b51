//! Mail (issue 16) against a real SMTP server: `smtpd.py` runs aiosmtpd (Debian's
//! `python3-aiosmtpd`) with AUTH required and a Maildir that the tests read (`smtpd.rs`). On both
//! databases: an invitation mails the invitee and a passphrase change mails the account
//! (`delivery`); a closed SMTP port or a wrong password fails no request and is logged without
//! the message (`failures`); line breaks in names cannot add headers (`injection`).

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test, with its location"
)]

#[path = "../common/mod.rs"]
mod common;
mod smtpd;

mod delivery;
mod failures;
mod injection;

use std::{
    io::Write,
    path::PathBuf,
    sync::{Mutex, OnceLock},
    time::Instant,
};

use hypnos_server::{ServerConfig, config::SmtpTls};
use reqwest::StatusCode;
use serde_json::json;

use common::{
    TestDb,
    app::{Actor, TestApp},
    http::{keys, users::User},
};
use smtpd::{Mail, SMTP_FROM, SMTP_USER, Smtpd, WITHIN};

/// The name the mail tests give the server.
const SERVER_NAME: &str = "Acme Sync";

/// The public URL the mail tests give the server.
const PUBLIC_URL: &str = "https://sync.example.com";

/// Points `config` at `port` on 127.0.0.1, without TLS, as [`SMTP_USER`] with the password in
/// `password_file`.
fn send_through(config: &mut ServerConfig, port: u16, password_file: PathBuf) {
    config.server_name = Some(SERVER_NAME.into());
    config.public_url = Some(PUBLIC_URL.into());
    config.mail.smtp_host = Some("127.0.0.1".into());
    config.mail.smtp_port = Some(port);
    config.mail.smtp_tls = SmtpTls::None;
    config.mail.smtp_user = Some(SMTP_USER.into());
    config.mail.smtp_password_file = Some(password_file);
    config.mail.smtp_from = Some(SMTP_FROM.into());
}

/// The server on `db`, sending through `smtpd` with the password it accepts.
async fn mailing_app(db: &TestDb, smtpd: &Smtpd) -> TestApp {
    let file = smtpd.password_file(&smtpd.password);
    TestApp::start_tuned(db, |config| send_through(config, smtpd.port, file)).await
}

/// `name-<random>@example.com`, signed up and logged in: an address no other test of this
/// process uses, so that the log lines about it are this test's.
async fn unique_actor(app: &TestApp, name: &str) -> Actor {
    let suffix = &hypnos_crypto::random::random_hex_32().unwrap()[..12];
    app.actor_of(User::with_key(
        &format!("{name}-{suffix}@example.com"),
        &format!("{name}'s passphrase"),
        keys::key_named(name),
    ))
    .await
}

/// `inviter` invites `invitee` to `org` through the app's endpoint, as a member; the
/// invitation's id.
async fn invite(inviter: &Actor, org: &str, invitee: &Actor) -> String {
    let (status, made) = inviter
        .post(
            &format!("/v1/organizations/{org}/invites"),
            json!({"inviteeId": invitee.id, "inviteKeys": [], "roles": ["member"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// The messages delivered to `smtpd` once there are `count`.
async fn messages(smtpd: &Smtpd, count: usize) -> Vec<Mail> {
    let maildir = smtpd.maildir();
    tokio::task::spawn_blocking(move || smtpd::wait_for_messages(&maildir, count))
        .await
        .unwrap()
}

/// Everything this process logged (the server runs in it), captured from the first call on.
fn logs() -> String {
    static LOG: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    let buffer = LOG.get_or_init(|| {
        let buffer: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        tracing_subscriber::fmt()
            .with_env_filter("hypnos_server=info")
            .with_ansi(false)
            .with_writer(move || LogWriter(buffer))
            .init();
        buffer
    });
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// Appends to the captured log.
struct LogWriter(&'static Mutex<Vec<u8>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The first log line holding every one of `needles`, once there is one; fails after
/// [`WITHIN`].
async fn log_line(needles: &[&str]) -> String {
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Some(line) = logs()
            .lines()
            .find(|line| needles.iter().all(|needle| line.contains(needle)))
        {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "a log line with {needles:?} within {WITHIN:?}:\n{}",
            logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
