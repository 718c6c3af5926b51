//! The whole account life against the real server over HTTP, on SQLite and on PostgreSQL:
//! sign-up, SRP log-in, whoami and unlocking the keys, wrong passphrase, unknown e-mail, log-out,
//! passphrase change, reset, deletion, rate limits and bad input.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::time::Duration;

use common::app::TestApp;
use common::http::{
    TestServer,
    users::{User, begin_login, login, verifier_for},
};
use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string, encrypt_string},
    encoding::to_hex,
    jwk::{RsaPrivateJwk, SymmetricJwk},
    kdf::derive_key,
    wire::auth::{SignupResponse, WhoamiResponse},
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

async fn account_life(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = User::new("alice@example.com", "correct horse battery staple");

    // Sign-up, and a second sign-up with the same e-mail.
    let (status, created) = app.post("/auth/signup", alice.signup_body()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let created: SignupResponse = serde_json::from_value(created).unwrap();
    assert!(created.account_id.starts_with("acct_"));
    let (status, taken) = app.post("/auth/signup", alice.signup_body()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(taken["error"], "EMAIL_TAKEN");

    // Log-in, whoami, and unlocking the keys exactly as the app does.
    let session = login(&app.server, &app.http, &alice.email, &alice.passphrase)
        .await
        .unwrap();
    let (status, me) = app
        .send_as(&session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let me: WhoamiResponse = serde_json::from_value(me).unwrap();
    assert_eq!(me.account_id, created.account_id);
    assert_eq!(me.email, alice.email);
    assert_eq!(
        (me.first_name.as_str(), me.last_name.as_str()),
        ("Ada", "Lovelace")
    );
    assert!(me.session_expiry > 0 && me.session_age >= 0);
    let wrap =
        AesKey::from_hex(&derive_key(&alice.passphrase, &alice.email, &me.salt_enc)).unwrap();
    let symmetric = SymmetricJwk::from_json(
        &decrypt_string(
            &wrap,
            &AesMessage::from_json(&me.enc_symmetric_key).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(symmetric.key().as_bytes(), alice.symmetric.key().as_bytes());
    let private = RsaPrivateJwk::from_json(
        &decrypt_string(
            &symmetric.key(),
            &AesMessage::from_json(&me.enc_private_key).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(private.public, *alice.private.public_jwk());

    // A wrong passphrase and an unknown e-mail fail the same way, at the last step.
    let (status, wrong) = login(&app.server, &app.http, &alice.email, "wrong horse")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, unknown) = login(&app.server, &app.http, "nobody@example.com", "anything")
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown, "no account enumeration through the error");
    // Both are recorded as security events, the known account's with its id.
    let known = db
        .scalar("SELECT COUNT(*) FROM security_events WHERE kind = 'login_failed' AND account_id IS NOT NULL")
        .await;
    let unknown_events = db
        .scalar("SELECT COUNT(*) FROM security_events WHERE kind = 'login_failed' AND account_id IS NULL")
        .await;
    assert_eq!((known, unknown_events), (1, 1));
    let (_, salts_once) = app
        .post("/auth/login-s", json!({"email": "nobody@example.com"}))
        .await;
    let (_, salts_twice) = app
        .post("/auth/login-s", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(salts_once, salts_twice, "fake salts are stable");
    assert_ne!(salts_once["saltKey"], salts_once["saltAuth"]);

    // A log-in state is single-use.
    let (proof, starter) = begin_login(&app.server, &app.http, &alice.email, &alice.passphrase)
        .await
        .unwrap();
    let m1_body = json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": starter});
    let (status, _) = app.post("/auth/login-m1", m1_body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, reused) = app.post("/auth/login-m1", m1_body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reused}");

    // Log-out ends the session.
    let other_session = login(&app.server, &app.http, &alice.email, &alice.passphrase)
        .await
        .unwrap();
    let response = app
        .http
        .post(app.url("/auth/logout"))
        .header("X-Session-Id", &other_session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.send_as(&other_session, Method::GET, "/auth/whoami", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );

    // Passphrase change: revokes the other sessions, keeps this one, and the keys stay readable.
    let second = login(&app.server, &app.http, &alice.email, &alice.passphrase)
        .await
        .unwrap();
    let new_passphrase = "a much better passphrase";
    let new_wrap =
        AesKey::from_hex(&derive_key(new_passphrase, &alice.email, &alice.salt_enc)).unwrap();
    let change = json!({
        "verifier": alice.verifier(),
        "encSymmetricKey": me.enc_symmetric_key,
        "newEmail": alice.email,
        "newVerifier": verifier_for(&alice.email, new_passphrase, &alice.salt_key, &alice.salt_auth),
        "newEncSymmetricKey": encrypt_string(&new_wrap, &alice.symmetric.to_json()).unwrap().to_json(),
    });
    let mut stale = change.clone();
    stale["encSymmetricKey"] = json!(alice.enc_symmetric_key());
    let response = app
        .http
        .post(app.url("/auth/change-password"))
        .header("X-Session-Id", &session)
        .json(&stale)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "a stale encSymmetricKey changes nothing"
    );
    let response = app
        .http
        .post(app.url("/auth/change-password"))
        .header("X-Session-Id", &session)
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.send_as(&second, Method::GET, "/auth/whoami", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.send_as(&session, Method::GET, "/auth/whoami", None)
            .await
            .0,
        StatusCode::OK
    );
    assert!(
        login(&app.server, &app.http, &alice.email, &alice.passphrase)
            .await
            .is_err()
    );
    let session = login(&app.server, &app.http, &alice.email, new_passphrase)
        .await
        .unwrap();

    // Reset with an operator's token: new keys, every session revoked, the token single-use.
    let token = hypnos_server::admin::issue_reset_token(&app.server.config, &alice.email)
        .await
        .unwrap();
    let fresh = User::new(&alice.email, "a fresh start");
    let mut reset = fresh.keys_body();
    reset["email"] = json!(alice.email);
    reset["token"] = json!(token);
    let (status, body) = app.post("/auth/reset", reset.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        app.send_as(&session, Method::GET, "/auth/whoami", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app.post("/auth/reset", reset).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a used token is refused");
    let session = login(&app.server, &app.http, &fresh.email, &fresh.passphrase)
        .await
        .unwrap();
    let (_, me) = app
        .send_as(&session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(me["publicKey"], json!(fresh.private.public_jwk().to_json()));

    // A log-in of the account, half done when the account is deleted.
    let (pending_proof, pending_starter) =
        begin_login(&app.server, &app.http, &fresh.email, &fresh.passphrase)
            .await
            .unwrap();

    // Deletion: a wrong verifier is refused; the right one deletes the account.
    let response = app
        .http
        .delete(app.url("/auth/delete-account"))
        .header("X-Session-Id", &session)
        .json(&json!({"verifier": alice.verifier()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .http
        .delete(app.url("/auth/delete-account"))
        .header("X-Session-Id", &session)
        .json(&json!({"verifier": fresh.verifier()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.send_as(&session, Method::GET, "/auth/whoami", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // The deletion ended the half-done log-in, although its passphrase was right.
    let (status, body) = app
        .post(
            "/auth/login-m1",
            json!({
                "srpM1": to_hex(pending_proof.m1()),
                "sessionStarterId": pending_starter,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "UNAUTHORIZED");
    assert!(
        login(&app.server, &app.http, &fresh.email, &fresh.passphrase)
            .await
            .is_err()
    );
    let (status, _) = app.post("/auth/signup", fresh.signup_body()).await;
    assert_eq!(status, StatusCode::CREATED, "the e-mail is free again");
    app.server.stop().await;

    // The fake salts of an unknown e-mail survive a restart (the secret is in the database).
    let restarted = TestApp::start(&db).await;
    let (_, salts_after_restart) = restarted
        .post("/auth/login-s", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(salts_after_restart, salts_once);
    restarted.server.stop().await;
}

async fn bad_input_and_limits(db: common::TestDb) {
    let app = TestApp::from(TestServer::start(&db.url, 3).await);
    let bob = User::new("bob@example.com", "bob's passphrase");
    assert_eq!(
        app.post("/auth/signup", bob.signup_body()).await.0,
        StatusCode::CREATED
    );

    let expect_400 = |(status, body): (StatusCode, Value), what: &str| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{what}: {body}"
        );
    };
    // Malformed JSON, wrong types, missing fields.
    let response = app
        .http
        .post(app.url("/auth/signup"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "BAD_REQUEST");
    expect_400(
        app.post("/auth/login-s", json!({"email": 5})).await,
        "wrong type",
    );
    expect_400(
        app.post("/auth/signup", json!({"email": "x@y.z"})).await,
        "missing fields",
    );
    // Each invalid sign-up field is named and nothing is written.
    for (field, value) in [
        ("email", json!("Carol@Example.com")),
        ("saltKey", json!("abc")),
        ("verifier", json!("00".repeat(256))),
        ("publicKey", json!("{\"kty\":\"RSA\"}")),
        ("encPrivateKey", json!("{\"iv\":\"00\"}")),
        ("encSymmetricKey", json!("not json")),
    ] {
        let mut body = User::new("carol@example.com", "p").signup_body();
        body[field] = value;
        let (status, answer) = app.post("/auth/signup", body).await;
        expect_400((status, answer.clone()), field);
        assert!(
            answer["message"].as_str().unwrap().contains(field),
            "{field}: {answer}"
        );
    }
    let (_, salts) = app
        .post("/auth/login-s", json!({"email": "carol@example.com"}))
        .await;
    let (_, salts_again) = app
        .post("/auth/login-s", json!({"email": "carol@example.com"}))
        .await;
    assert_eq!(salts, salts_again, "carol was never created");
    // A ≡ 0 (mod N): zero and N itself; and an A that is not 256 bytes.
    // (Another e-mail than bob's: every login-a counts towards the account's limit.)
    expect_400(
        app.post(
            "/auth/login-a",
            json!({"email": "zero@example.com", "srpA": "00".repeat(256)}),
        )
        .await,
        "A = 0",
    );
    let modulus = "ac6bdb41324a9a9bf166de5e1389582faf72b6651987ee07fc3192943db56050a37329cbb4a099ed8193e0757767a13dd52312ab4b03310dcd7f48a9da04fd50e8083969edb767b0cf6095179a163ab3661a05fbd5faaae82918a9962f0b93b855f97993ec975eeaa80d740adbf4ff747359d041d5c33ea71d281e446b14773bca97b43a23fb801676bd207a436c6481f1d2b9078717461a5b9d32e688f87748544523b524b0d57d5ea77a2775d2ecfa032cfbdbf52fb3786160279004e57ae6af874e7303ce53299ccc041c7bc308d82a5698f3a8d0c38271ae35f8e9dbfbb694b5c803d89f7ae435de236d525f54759b65e372fcd68ef20fa7111f9e4aff73";
    expect_400(
        app.post(
            "/auth/login-a",
            json!({"email": "zero@example.com", "srpA": modulus}),
        )
        .await,
        "A = N",
    );
    expect_400(
        app.post(
            "/auth/login-a",
            json!({"email": "zero@example.com", "srpA": "01"}),
        )
        .await,
        "short A",
    );
    // Unknown sessionStarterId.
    let (status, body) = app
        .post(
            "/auth/login-m1",
            json!({"srpM1": "00".repeat(32), "sessionStarterId": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Oversize body: over the authentication endpoints' limit (which login-s has), and under
    // what lingering close drains (4 MiB), so that the 413 always reaches a client still
    // sending (32 MiB, the general limit, could meet a reset, depending on timing). On a
    // client of its own: the server closes the connection after such a refusal, and a pooled
    // connection could be picked up by the next request before the close is seen.
    let huge = "a".repeat(app.server.config.auth_max_body_bytes + 1);
    let response = Client::new()
        .post(app.url("/auth/login-s"))
        .header("content-type", "application/json")
        .body(format!("{{\"email\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // No or a malformed session.
    let response = app.http.get(app.url("/auth/whoami")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .http
        .get(app.url("/auth/whoami"))
        .header("X-Session-Id", "zz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Unknown route and wrong method answer JSON too.
    let response = app.http.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "NOT_FOUND"
    );
    let response = app.http.get(app.url("/auth/signup")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    // Per-account limit on failed log-ins (3 per minute here): a successful log-in between
    // them does not count; after the 3rd failure even the right passphrase gets 429 +
    // Retry-After.
    for _ in 0..2 {
        assert!(
            login(&app.server, &app.http, &bob.email, "wrong")
                .await
                .is_err()
        );
    }
    assert!(
        login(&app.server, &app.http, &bob.email, &bob.passphrase)
            .await
            .is_ok()
    );
    match login(&app.server, &app.http, &bob.email, "wrong").await {
        Err((StatusCode::UNAUTHORIZED, _)) => {}
        other => panic!("expected 401, got {other:?}"),
    }
    match login(&app.server, &app.http, &bob.email, &bob.passphrase).await {
        Err((StatusCode::TOO_MANY_REQUESTS, body)) => assert_eq!(body["error"], "RATE_LIMITED"),
        other => panic!("expected 429, got {other:?}"),
    }
    // The refusal comes at login-m1, where the guess is, with the time to wait.
    let (proof, starter) = begin_login(&app.server, &app.http, &bob.email, &bob.passphrase)
        .await
        .unwrap();
    let response = app
        .http
        .post(app.url("/auth/login-m1"))
        .json(&json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": starter}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));

    // Health.
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.server.stop().await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// The operator disables an account (`hypnos admin disable`): its sessions end at once, and a
/// log-in with the right passphrase is refused (after the proof: a wrong one is told only
/// that it is wrong); enabled again, it logs in. Its data stays throughout.
async fn an_operator_disables_and_enables_an_account(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let mut config = hypnos_server::ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());

    let id = hypnos_server::admin::set_disabled(&config, "Alice@Example.com", true)
        .await
        .unwrap();
    assert_eq!(id, alice.id);
    let (status, _) = app
        .send_as(&alice.session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let refused = login(
        &app.server,
        &app.http,
        "alice@example.com",
        "alice's passphrase",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(
        refused.1["message"].as_str().unwrap().contains("disabled"),
        "{refused:?}"
    );
    let wrong = login(&app.server, &app.http, "alice@example.com", "a wrong guess")
        .await
        .unwrap_err();
    assert_eq!(
        wrong.0,
        StatusCode::UNAUTHORIZED,
        "a wrong passphrase learns nothing"
    );

    hypnos_server::admin::set_disabled(&config, "alice@example.com", false)
        .await
        .unwrap();
    let session = login(
        &app.server,
        &app.http,
        "alice@example.com",
        "alice's passphrase",
    )
    .await
    .unwrap();
    let (status, me) = app
        .send_as(&session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["accountId"], alice.id.as_str());

    let unknown = hypnos_server::admin::set_disabled(&config, "nobody@example.com", true)
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no account has the e-mail"),
        "{unknown}"
    );
}

/// The operator deletes an account (`hypnos admin delete-account`): it and its personal
/// organization are gone, its session with them; one that owns a team with another member is
/// refused and keeps everything.
async fn an_operator_deletes_an_account(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let team = app.team(&alice, "Shared").await;
    app.join(&alice, &team, &bob, hypnos_server::storage::Role::Member)
        .await;
    let mut config = hypnos_server::ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());

    let refused = hypnos_server::admin::delete_account(&config, "alice@example.com")
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        hypnos_server::admin::AdminError::Store(hypnos_server::storage::StoreError::Conflict(_))
    ));
    let (status, _) = app
        .send_as(&alice.session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(status, StatusCode::OK, "a refused deletion changes nothing");

    hypnos_server::admin::delete_account(&config, "bob@example.com")
        .await
        .unwrap();
    let (status, _) = app
        .send_as(&bob.session, Method::GET, "/auth/whoami", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let gone = login(
        &app.server,
        &app.http,
        "bob@example.com",
        "bob's passphrase",
    )
    .await
    .unwrap_err();
    assert_eq!(gone.0, StatusCode::UNAUTHORIZED);
    let (_, members) = alice
        .get(&format!("/v1/organizations/{team}/members"))
        .await;
    assert!(
        !members.to_string().contains("bob@example.com"),
        "{members}"
    );
}

common::on_both_backends!(
    account_life,
    bad_input_and_limits,
    an_operator_disables_and_enables_an_account,
    an_operator_deletes_an_account,
);
