//! A dead or refusing SMTP server fails no request: the request is answered as without mail,
//! and the failure is logged with the message's kind and recipient, never its text. Settings
//! that cannot work stop the server from starting.

use hypnos_server::ServeError;

use super::*;

common::on_both_backends!(
    an_invitation_succeeds_while_the_smtp_port_is_closed,
    a_wrong_smtp_password_is_logged_and_the_request_succeeds
);

async fn an_invitation_succeeds_while_the_smtp_port_is_closed(db: TestDb) {
    logs();
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "unused\n").unwrap();
    let app = TestApp::start_tuned(&db, |config| send_through(config, port, file)).await;
    let alice = unique_actor(&app, "alice").await;
    let bob = unique_actor(&app, "bob").await;
    let team = app.team(&alice, "Closed Port Crew").await;

    invite(&alice, &team, &bob).await;
    let (status, mine) = bob.get("/v1/user/invites").await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["invitations"].as_array().unwrap().len(), 1, "{mine}");

    let line = log_line(&["mail could not be sent", &bob.user.email]).await;
    assert!(line.contains("invitation"), "{line}");
    assert_no_message_text_logged("Closed Port Crew");
}

async fn a_wrong_smtp_password_is_logged_and_the_request_succeeds(db: TestDb) {
    logs();
    let smtpd = Smtpd::start();
    let file = smtpd.password_file("not the password");
    let app = TestApp::start_tuned(&db, |config| send_through(config, smtpd.port, file)).await;
    let alice = unique_actor(&app, "alice").await;
    let bob = unique_actor(&app, "bob").await;
    let team = app.team(&alice, "Wrong Password Guild").await;

    invite(&alice, &team, &bob).await;
    let line = log_line(&["mail could not be sent", &bob.user.email]).await;
    assert!(line.contains("invitation"), "{line}");
    assert!(
        !line.contains("not the password"),
        "the password is not logged: {line}"
    );
    assert_no_message_text_logged("Wrong Password Guild");
    assert!(
        smtpd::delivered(&smtpd.maildir()).is_empty(),
        "nothing was delivered"
    );
}

/// Nothing logged holds the message's text (its organization's name, unique to the test).
fn assert_no_message_text_logged(organization: &str) {
    let logs = logs();
    assert!(!logs.contains(organization), "{logs}");
    assert!(!logs.contains("invited you"), "{logs}");
}

/// A server with mail whose password file cannot be read does not start, and says why.
#[tokio::test]
async fn an_unreadable_password_file_stops_the_start() {
    let db = TestDb::sqlite();
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    let missing = PathBuf::from("/nonexistent/hypnos-smtp-password");
    send_through(&mut config, 2525, missing);
    match hypnos_server::open(config).await {
        Err(error @ ServeError::Mail(_)) => {
            let said = error.to_string();
            assert!(said.contains("/nonexistent/hypnos-smtp-password"), "{said}");
        }
        Err(other) => panic!("a mail error, not {other}"),
        Ok(_) => panic!("the server refuses to start"),
    }
}

/// Mail settings that cannot work are refused by `validate()`, each with the flag to fix.
#[test]
fn incomplete_mail_settings_are_refused() {
    let with = |tune: fn(&mut ServerConfig)| {
        let mut config = ServerConfig::parse_defaults();
        tune(&mut config);
        config.validate()
    };
    assert_eq!(with(|_| {}), Ok(()), "no mail settings: no mail, no error");
    let no_from = with(|config| config.mail.smtp_host = Some("mail.example.com".into()));
    assert!(no_from.unwrap_err().contains("--smtp-from"));
    let no_host = with(|config| config.mail.smtp_from = Some("a@example.com".into()));
    assert!(no_host.unwrap_err().contains("--smtp-host"));
    let bad_from = with(|config| {
        config.mail.smtp_host = Some("mail.example.com".into());
        config.mail.smtp_from = Some("not an address".into());
    });
    assert!(bad_from.unwrap_err().contains("--smtp-from"));
    let user_alone = with(|config| {
        config.mail.smtp_host = Some("mail.example.com".into());
        config.mail.smtp_from = Some("a@example.com".into());
        config.mail.smtp_user = Some("me".into());
    });
    assert!(user_alone.unwrap_err().contains("--smtp-password-file"));
}
