//! Issue 12: the sign-up policy (`--signup open|invite-only|closed`, `--signup-domains`) and the
//! operator's one-time sign-up links (`hypnos admin signup-link`), over real HTTP on SQLite and
//! on PostgreSQL: each policy with and without a link, for an allowed and a refused domain; a
//! link works once, an expired one does not, one made for an e-mail works for that e-mail only;
//! a refusal is a 403 with its code, comes before anything else in the body is looked at, and
//! writes nothing; a sign-up that fails after taking a link gives it back.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::time::Duration;

use common::app::TestApp;
use common::http::users::User;
use hypnos_server::{
    ServerConfig,
    admin::{self, SignupPolicy},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// No test may hang: each story gets this long.
const STORY_TIMEOUT: Duration = Duration::from_secs(180);

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    open_policy,
    invite_only_policy,
    closed_policy,
    open_without_domain_list_takes_anyone,
    a_link_works_once_and_not_after_it_expires,
    a_link_made_for_an_email_admits_that_email_only,
    a_refusal_comes_before_the_body_is_read_and_writes_nothing,
    a_failed_signup_gives_its_link_back,
    the_admin_commands_link_signs_up_end_to_end,
);

/// The settings of a test server on `db` with this policy and domain list.
fn config(db: &common::TestDb, policy: SignupPolicy, domains: &[&str]) -> ServerConfig {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    config.login_rate_per_ip = 10_000;
    config.signup = policy;
    config.signup_domains = domains.iter().map(|domain| (*domain).to_owned()).collect();
    config
}

/// Signs `email` up with `token` (as `inviteToken`) if given: the status and the body.
async fn sign_up(app: &TestApp, email: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut body = User::new(email, "a passphrase").signup_body();
    if let Some(token) = token {
        body["inviteToken"] = json!(token);
    }
    app.post("/auth/signup", body).await
}

/// A fresh sign-up token from the operator's function (the one `hypnos admin signup-link`
/// calls), for `email` if given.
async fn link(config: &ServerConfig, email: Option<&str>) -> String {
    let link = admin::issue_signup_link(config, email, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(
        link.url
            .ends_with(&format!("/app/auth-app/signup.html?invite={}", link.token))
    );
    link.token
}

/// Which token a case carries.
#[derive(Clone, Copy, Debug)]
enum Token {
    None,
    /// A link made for no e-mail.
    Unbound,
    /// A link made for the e-mail that signs up.
    ForThisEmail,
}

/// Runs every token × domain case under `policy` with `--signup-domains example.com` and
/// checks each answer against `expected` (`Ok` = created, `Err(code)` = 403 with that code),
/// that a refusal writes no account, and that a link is used up exactly when it admitted.
async fn matrix(
    db: common::TestDb,
    policy: SignupPolicy,
    expected: impl Fn(Token, bool) -> Result<(), &'static str>,
) {
    let config = config(&db, policy, &["example.com"]);
    let app = TestApp::start_with(config.clone()).await;
    for (index, token_kind) in [Token::None, Token::Unbound, Token::ForThisEmail]
        .into_iter()
        .enumerate()
    {
        for domain_allowed in [true, false] {
            let domain = if domain_allowed {
                "example.com"
            } else {
                "other.org"
            };
            let email = format!("case{index}@{domain}");
            let token = match token_kind {
                Token::None => None,
                Token::Unbound => Some(link(&config, None).await),
                Token::ForThisEmail => Some(link(&config, Some(&email)).await),
            };
            let accounts = db.scalar("SELECT COUNT(*) FROM accounts").await;
            let tokens = db.scalar("SELECT COUNT(*) FROM signup_tokens").await;
            let (status, body) = sign_up(&app, &email, token.as_deref()).await;
            let case = format!("{policy:?}, {token_kind:?}, {email}");
            match expected(token_kind, domain_allowed) {
                Ok(()) => {
                    assert_eq!(status, StatusCode::CREATED, "{case}: {body}");
                    assert_eq!(
                        db.scalar("SELECT COUNT(*) FROM accounts").await,
                        accounts + 1
                    );
                }
                Err(code) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{case}: {body}");
                    assert_eq!(body["error"], code, "{case}: {body}");
                    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
                    assert_eq!(
                        db.scalar("SELECT COUNT(*) FROM accounts").await,
                        accounts,
                        "{case}: a refusal creates no account"
                    );
                }
            }
            // A link is used up only when the sign-up needed it and was let in by it.
            let needed_it = token.is_some()
                && status == StatusCode::CREATED
                && !(matches!(policy, SignupPolicy::Open) && domain_allowed);
            assert_eq!(
                db.scalar("SELECT COUNT(*) FROM signup_tokens").await,
                if needed_it { tokens - 1 } else { tokens },
                "{case}: the link is used up only when it let the sign-up in"
            );
        }
    }
    app.server.stop().await;
}

async fn open_policy(db: common::TestDb) {
    matrix(db, SignupPolicy::Open, |token, domain_allowed| {
        match (token, domain_allowed) {
            // Anyone with an allowed domain; a link is ignored then.
            (_, true) => Ok(()),
            (Token::None | Token::Unbound, false) => Err("SIGNUP_DOMAIN_NOT_ALLOWED"),
            // The operator named this e-mail: the domain list does not bind it.
            (Token::ForThisEmail, false) => Ok(()),
        }
    })
    .await;
}

async fn invite_only_policy(db: common::TestDb) {
    matrix(
        db,
        SignupPolicy::InviteOnly,
        |token, domain_allowed| match (token, domain_allowed) {
            (Token::None, _) => Err("SIGNUP_INVITE_REQUIRED"),
            (Token::Unbound, true) | (Token::ForThisEmail, _) => Ok(()),
            (Token::Unbound, false) => Err("SIGNUP_DOMAIN_NOT_ALLOWED"),
        },
    )
    .await;
}

async fn closed_policy(db: common::TestDb) {
    // Closed to everyone by themselves; the operator's link is how the operator makes accounts.
    matrix(db, SignupPolicy::Closed, |token, domain_allowed| {
        match (token, domain_allowed) {
            (Token::None, _) => Err("SIGNUP_CLOSED"),
            (Token::Unbound, true) | (Token::ForThisEmail, _) => Ok(()),
            (Token::Unbound, false) => Err("SIGNUP_DOMAIN_NOT_ALLOWED"),
        }
    })
    .await;
}

/// The default: open, no domain list: anyone, and a link (valid or not) is ignored.
async fn open_without_domain_list_takes_anyone(db: common::TestDb) {
    let config = config(&db, SignupPolicy::Open, &[]);
    let app = TestApp::start_with(config.clone()).await;
    for (email, token) in [
        ("ada@example.com", None),
        ("bob@anywhere.test", None),
        ("cy@elsewhere.test", Some("not a token")),
        ("di@elsewhere.test", Some(&*"0".repeat(64))),
    ] {
        let (status, body) = sign_up(&app, email, token).await;
        assert_eq!(status, StatusCode::CREATED, "{email}: {body}");
    }
    app.server.stop().await;
}

async fn a_link_works_once_and_not_after_it_expires(db: common::TestDb) {
    let config = config(&db, SignupPolicy::InviteOnly, &[]);
    let app = TestApp::start_with(config.clone()).await;

    let token = link(&config, None).await;
    let (status, body) = sign_up(&app, "first@example.com", Some(&token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = sign_up(&app, "second@example.com", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "SIGNUP_INVITE_INVALID");

    // Expired: its expiry moved into the past.
    let expired = link(&config, None).await;
    db.execute("UPDATE signup_tokens SET expires_at = 1").await;
    let (status, body) = sign_up(&app, "late@example.com", Some(&expired)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "SIGNUP_INVITE_INVALID");

    // Not a token at all, or a well-formed one nobody made.
    for bogus in ["", "zz", "short", &"ab".repeat(32), &"ab".repeat(33)] {
        let (status, body) = sign_up(&app, "bogus@example.com", Some(bogus)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{bogus:?}: {body}");
        assert_eq!(body["error"], "SIGNUP_INVITE_INVALID");
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM accounts").await, 1);

    // Only the hash is stored: the token itself appears nowhere in the table.
    let fresh = link(&config, None).await;
    let hex_rows = match db.backend {
        common::Backend::Sqlite => {
            db.scalar(&format!(
                "SELECT COUNT(*) FROM signup_tokens WHERE lower(hex(token_hash)) = '{fresh}'"
            ))
            .await
        }
        common::Backend::Postgres => {
            db.scalar(&format!(
                "SELECT COUNT(*) FROM signup_tokens WHERE encode(token_hash, 'hex') = '{fresh}'"
            ))
            .await
        }
    };
    assert_eq!(hex_rows, 0);
    app.server.stop().await;
}

async fn a_link_made_for_an_email_admits_that_email_only(db: common::TestDb) {
    let config = config(&db, SignupPolicy::Closed, &[]);
    let app = TestApp::start_with(config.clone()).await;
    // The operator's e-mail is sanitized as the app sanitizes it.
    let token = link(&config, Some("  Named@Example.COM ")).await;
    let (status, body) = sign_up(&app, "other@example.com", Some(&token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "SIGNUP_INVITE_INVALID");
    // The wrong e-mail did not use it up.
    let (status, body) = sign_up(&app, "named@example.com", Some(&token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A bad e-mail or lifetime is refused by the operator's function, which writes nothing.
    assert!(
        admin::issue_signup_link(&config, Some("not an e-mail"), Duration::from_secs(60))
            .await
            .is_err()
    );
    assert!(
        admin::issue_signup_link(&config, None, Duration::ZERO)
            .await
            .is_err()
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM signup_tokens").await, 0);
    app.server.stop().await;
}

/// The policy answers first: a closed server refuses a body it would otherwise call malformed
/// with SIGNUP_CLOSED, not a 400, and writes nothing.
async fn a_refusal_comes_before_the_body_is_read_and_writes_nothing(db: common::TestDb) {
    let config = config(&db, SignupPolicy::Closed, &[]);
    let app = TestApp::start_with(config.clone()).await;
    let mut body = User::new("x@example.com", "a passphrase").signup_body();
    body["email"] = json!("NOT AN E-MAIL");
    body["verifier"] = json!("zz");
    body["publicKey"] = json!("{}");
    let (status, answer) = app.post("/auth/signup", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"], "SIGNUP_CLOSED");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM accounts").await, 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM organizations").await, 0);
    app.server.stop().await;

    // With a link, the body is then checked as always (and the link stays).
    let app = TestApp::start_with(config.clone()).await;
    let token = link(&config, None).await;
    let mut body = User::new("y@example.com", "a passphrase").signup_body();
    body["verifier"] = json!("zz");
    body["inviteToken"] = json!(token);
    let (status, answer) = app.post("/auth/signup", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(db.scalar("SELECT COUNT(*) FROM signup_tokens").await, 1);
    app.server.stop().await;
}

/// A sign-up that fails after taking its link (the e-mail is taken) gives the link back.
async fn a_failed_signup_gives_its_link_back(db: common::TestDb) {
    let config = config(&db, SignupPolicy::InviteOnly, &[]);
    let app = TestApp::start_with(config.clone()).await;
    let first = link(&config, None).await;
    let (status, _) = sign_up(&app, "taken@example.com", Some(&first)).await;
    assert_eq!(status, StatusCode::CREATED);
    let second = link(&config, None).await;
    let (status, body) = sign_up(&app, "taken@example.com", Some(&second)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "EMAIL_TAKEN");
    let (status, body) = sign_up(&app, "fresh@example.com", Some(&second)).await;
    assert_eq!(status, StatusCode::CREATED, "the link still works: {body}");
    app.server.stop().await;
}

/// The link `hypnos admin signup-link` prints, used as the sign-up page would: its `invite`
/// parameter becomes `inviteToken`, and the new account logs in.
async fn the_admin_commands_link_signs_up_end_to_end(db: common::TestDb) {
    let mut config = config(&db, SignupPolicy::InviteOnly, &["example.com"]);
    config.public_url = Some("https://sync.example.com/".into());
    let app = TestApp::start_with(config.clone()).await;
    let link = admin::issue_signup_link(
        &config,
        Some("new@partner.test"),
        Duration::from_secs(7 * 86_400),
    )
    .await
    .unwrap();
    let (base, token) = link.url.split_once("?invite=").unwrap();
    assert_eq!(base, "https://sync.example.com/app/auth-app/signup.html");
    assert_eq!(token, link.token);
    assert_eq!(link.email.as_deref(), Some("new@partner.test"));

    let user = User::new("new@partner.test", "new passphrase");
    let mut body = user.signup_body();
    body["inviteToken"] = json!(token);
    let (status, answer) = app.post("/auth/signup", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    common::http::users::login(&app.server, &app.http, &user.email, &user.passphrase)
        .await
        .expect("the new account logs in");
    app.server.stop().await;
}
