//! Text users chose cannot add headers or recipients: an organization name and an account name
//! holding CR/LF and header lines (written to the database directly, since the API refuses
//! control characters) arrive as one line of the subject and body, to the invitee alone.

use super::*;

common::on_both_backends!(line_breaks_in_names_do_not_add_headers);

async fn line_breaks_in_names_do_not_add_headers(db: TestDb) {
    logs();
    let smtpd = Smtpd::start();
    let app = mailing_app(&db, &smtpd).await;
    let alice = unique_actor(&app, "alice").await;
    let bob = unique_actor(&app, "bob").await;
    let team = app.team(&alice, "Plain").await;
    let evil_org = "Evil\r\nBcc: mallory@evil.example\r\nX-Injected: org\r\n\r\nforged body";
    let evil_name = "Al\r\nX-Injected: name\nCc: mallory@evil.example";
    db.execute(&format!(
        "UPDATE organizations SET name = '{evil_org}', display_name = '{evil_org}' WHERE id = '{team}'"
    ))
    .await;
    db.execute(&format!(
        "UPDATE accounts SET first_name = '{evil_name}' WHERE id = '{}'",
        alice.id
    ))
    .await;

    invite(&alice, &team, &bob).await;
    let mail = messages(&smtpd, 1).await.pop().unwrap();

    assert_eq!(mail.header("X-RcptTo"), bob.user.email, "the invitee alone");
    assert_eq!(mail.header("To"), bob.user.email);
    for added in ["X-Injected", "Bcc", "Cc"] {
        assert!(
            mail.all(added).is_empty(),
            "no {added} header: {:?}",
            mail.headers
        );
    }
    let subject = mail.header("Subject");
    assert!(
        subject.contains("Evil Bcc: mallory@evil.example X-Injected: org forged body"),
        "{subject}"
    );
    assert!(
        subject.contains("Al X-Injected: name Cc: mallory@evil.example"),
        "{subject}"
    );
    assert!(
        mail.body
            .contains("\"Evil Bcc: mallory@evil.example X-Injected: org forged body\""),
        "the name stays on one line of the body: {}",
        mail.body
    );
    assert!(
        !mail.body.lines().any(|line| line.starts_with("X-Injected")),
        "{}",
        mail.body
    );
    // Nothing reached another mailbox.
    assert_eq!(smtpd::delivered(&smtpd.maildir()).len(), 1);
}
