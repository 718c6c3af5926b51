//! What is mailed, to whom, saying what: an invitation to the invitee, a passphrase change's
//! notice to the account.

use hypnos_crypto::{
    aes::{AesKey, encrypt_string},
    kdf::derive_key,
};

use super::*;

common::on_both_backends!(
    an_invitation_mails_the_invitee,
    the_newest_apps_invitations_mail_each_invitee,
    a_passphrase_change_mails_a_notice
);

async fn an_invitation_mails_the_invitee(db: TestDb) {
    logs();
    let smtpd = Smtpd::start();
    let app = mailing_app(&db, &smtpd).await;
    let alice = unique_actor(&app, "alice").await;
    let bob = unique_actor(&app, "bob").await;
    let team = app.team(&alice, "Rocket Science").await;

    let id = invite(&alice, &team, &bob).await;
    let mail = messages(&smtpd, 1).await.pop().unwrap();

    assert_eq!(
        mail.header("X-RcptTo"),
        bob.user.email,
        "the envelope's one recipient"
    );
    assert_eq!(mail.header("To"), bob.user.email);
    assert_from_the_server(&mail);
    let subject = mail.header("Subject");
    assert!(subject.contains(&alice.user.email), "{subject}");
    assert!(subject.contains("Rocket Science"), "{subject}");
    assert!(subject.contains(SERVER_NAME), "{subject}");
    assert!(
        mail.header("Content-Type").starts_with("text/plain"),
        "{mail:?}"
    );
    let text = mail.text();
    for fact in [
        alice.user.email.as_str(),
        "\"Rocket Science\"",
        "as member",
        SERVER_NAME,
        PUBLIC_URL,
        &format!("log in as {}", bob.user.email),
        &format!("hypnos --server {PUBLIC_URL} invites accept {id}"),
    ] {
        assert!(text.contains(fact), "{fact:?} in {text}");
    }
    assert!(!text.contains(&alice.session), "no session id is mailed");
    let line = log_line(&["mail sent", &bob.user.email]).await;
    assert!(line.contains("invitation"), "{line}");
}

/// The newest app's finish-adding invites several accounts at once: each gets its own mail.
async fn the_newest_apps_invitations_mail_each_invitee(db: TestDb) {
    logs();
    let smtpd = Smtpd::start();
    let app = mailing_app(&db, &smtpd).await;
    let alice = unique_actor(&app, "alice").await;
    let bob = unique_actor(&app, "bob").await;
    let carol = unique_actor(&app, "carol").await;
    let team = app.team(&alice, "Newest Crew").await;

    let (status, body) = alice
        .post(
            &format!("/v1/desktop/organizations/{team}/collaborators/finish-adding"),
            json!({"teamIds": [], "keys": {}, "accountIds": [bob.id, carol.id], "roleId": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let mut delivered = messages(&smtpd, 2).await;
    delivered.sort_by(|a, b| a.header("To").cmp(b.header("To")));
    for (mail, invitee) in delivered.iter().zip([&bob, &carol]) {
        assert_eq!(mail.header("X-RcptTo"), invitee.user.email);
        let text = mail.text();
        assert!(text.contains("\"Newest Crew\""), "{text}");
        assert!(text.contains("as admin"), "{text}");
        assert!(
            text.contains(&format!("log in as {}", invitee.user.email)),
            "{text}"
        );
    }
}

async fn a_passphrase_change_mails_a_notice(db: TestDb) {
    logs();
    let smtpd = Smtpd::start();
    let app = mailing_app(&db, &smtpd).await;
    let alice = unique_actor(&app, "alice").await;
    let user = &alice.user;
    let new_passphrase = "alice's better passphrase";
    let new_verifier = common::http::users::verifier_for(
        &user.email,
        new_passphrase,
        &user.salt_key,
        &user.salt_auth,
    );
    let (_, me) = alice.get("/auth/whoami").await;
    let wrap = AesKey::from_hex(&derive_key(new_passphrase, &user.email, &user.salt_enc)).unwrap();
    let new_key = encrypt_string(&wrap, &user.symmetric.to_json())
        .unwrap()
        .to_json();
    let change = json!({
        "verifier": user.verifier(),
        "encSymmetricKey": me["encSymmetricKey"],
        "newEmail": user.email,
        "newVerifier": new_verifier,
        "newEncSymmetricKey": new_key,
    });
    let (status, body) = alice.post("/auth/change-password", change).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let mail = messages(&smtpd, 1).await.pop().unwrap();
    assert_eq!(mail.header("X-RcptTo"), user.email);
    assert_eq!(mail.header("To"), user.email);
    assert_from_the_server(&mail);
    assert_eq!(
        mail.header("Subject"),
        format!("Your passphrase on {SERVER_NAME} was changed")
    );
    let text = mail.text();
    for fact in [
        user.email.as_str(),
        "was changed on",
        " UTC, from the address 127.0.0.1.",
        "If this was not you, tell your operator",
        PUBLIC_URL,
    ] {
        assert!(text.contains(fact), "{fact:?} in {text}");
    }
    for secret in [&alice.session, &new_verifier, &user.verifier()] {
        assert!(
            !text.contains(secret.as_str()),
            "no secret is mailed: {text}"
        );
    }
    assert!(
        !text.contains("encSymmetricKey") && !text.contains("\"iv\""),
        "{text}"
    );
}

/// The message is from the configured sender (`--smtp-from`).
fn assert_from_the_server(mail: &Mail) {
    let from = mail.header("From");
    assert!(
        from.contains("Hypnos Test") && from.ends_with("<hypnos@mail.example.com>"),
        "{from}"
    );
}
