//! The vault key (insomnia-wire.md §5.1) over HTTP against the real server, on SQLite and on
//! PostgreSQL: created exactly as the app creates it (salt = 32 random bytes as hex, P = the JWK
//! JSON of a fresh AES-256 key, I = the account id), read back, refused twice, proven with the
//! SRP client half (right key, wrong key, reused, foreign and stale starters), replaced, kept by
//! a passphrase change, deleted with the account; bad input and missing sessions; the rate
//! limit. Then the same with every vault value computed by srp-js (the app's library).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;
#[path = "../../crypto/tests/support/harness.rs"]
mod harness;
#[path = "http/mod.rs"]
mod http;

use harness::Harness;
use http::{
    TestServer, call,
    users::{User, sign_up_and_log_in},
};
use hypnos_crypto::{
    aes::AesKey,
    encoding::{from_hex, to_hex},
    random::random_hex_32,
    srp::{ClientHandshake, compute_verifier},
    wire::vault::{VaultVerifyAResponse, VaultVerifyM1Response},
};
use hypnos_server::storage::{AccountId, VaultVerification};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// The RFC 5054 2048-bit prime N: a verifier of N is zero modulo N.
const N_HEX: &str = "ac6bdb41324a9a9bf166de5e1389582faf72b6651987ee07fc3192943db56050a37329cbb4\
a099ed8193e0757767a13dd52312ab4b03310dcd7f48a9da04fd50e8083969edb767b0cf6095179a163ab3661a05fbd5\
faaae82918a9962f0b93b855f97993ec975eeaa80d740adbf4ff747359d041d5c33ea71d281e446b14773bca97b43a23\
fb801676bd207a436c6481f1d2b9078717461a5b9d32e688f87748544523b524b0d57d5ea77a2775d2ecfa032cfbdbf5\
2fb3786160279004e57ae6af874e7303ce53299ccc041c7bc308d82a5698f3a8d0c38271ae35f8e9dbfbb694b5c803d8\
9f7ae435de236d525f54759b65e372fcd68ef20fa7111f9e4aff73";

/// A vault key as the app makes it: a random 64-hex salt and a fresh AES-256 JWK, whose JSON
/// bytes are the SRP password.
struct VaultKey {
    salt: String,
    jwk_json: String,
}

impl VaultKey {
    fn new() -> Self {
        Self {
            salt: random_hex_32().unwrap(),
            jwk_json: AesKey::generate().unwrap().to_jwk().to_json().to_string(),
        }
    }

    /// `{salt, verifier}` with I = the account id.
    fn body(&self, account_id: &str) -> Value {
        let verifier = compute_verifier(
            &from_hex(&self.salt, "salt").unwrap(),
            account_id.as_bytes(),
            self.jwk_json.as_bytes(),
        );
        json!({"salt": self.salt, "verifier": to_hex(&verifier)})
    }
}

async fn get_vault(server: &TestServer, http: &Client, session: &str) -> (StatusCode, Value) {
    call(
        http,
        Method::GET,
        server.url("/v1/user/vault"),
        session,
        None,
    )
    .await
}

async fn send(
    server: &TestServer,
    http: &Client,
    session: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    call(http, Method::POST, server.url(path), session, Some(body)).await
}

/// vault-verify-a with the client half for `key` (its salt, this JWK): the client and the
/// starter id.
async fn start_verify(
    server: &TestServer,
    http: &Client,
    session: &str,
    account_id: &str,
    salt: &str,
    jwk_json: &str,
) -> (ClientHandshake, VaultVerifyAResponse) {
    let client = ClientHandshake::start(
        &from_hex(salt, "salt").unwrap(),
        account_id.as_bytes(),
        jwk_json.as_bytes(),
    )
    .unwrap();
    let (status, answer) = send(
        server,
        http,
        session,
        "/v1/user/vault-verify-a",
        json!({"srpA": to_hex(client.a_pub())}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (client, serde_json::from_value(answer).unwrap())
}

/// A started verification's right proof: the body of `vault-verify-m1`.
async fn started_proof(
    server: &TestServer,
    http: &Client,
    session: &str,
    account_id: &str,
    key: &VaultKey,
) -> Value {
    let (client, started) =
        start_verify(server, http, session, account_id, &key.salt, &key.jwk_json).await;
    let proof = client
        .process(&from_hex(&started.srp_b, "B").unwrap())
        .unwrap();
    json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": started.session_starter_id})
}

/// The app's whole verification (`validateVaultKey`): `Ok(())` when the server accepts the
/// proof and the client accepts M2; the status and body of the refusal otherwise.
async fn verify(
    server: &TestServer,
    http: &Client,
    session: &str,
    account_id: &str,
    salt: &str,
    jwk_json: &str,
) -> Result<(), (StatusCode, Value)> {
    let (client, started) = start_verify(server, http, session, account_id, salt, jwk_json).await;
    let proof = client
        .process(&from_hex(&started.srp_b, "B").unwrap())
        .unwrap();
    let (status, done) = send(
        server,
        http,
        session,
        "/v1/user/vault-verify-m1",
        json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": started.session_starter_id}),
    )
    .await;
    if status != StatusCode::OK {
        return Err((status, done));
    }
    let done: VaultVerifyM1Response = serde_json::from_value(done).unwrap();
    proof
        .verify_server(&from_hex(&done.srp_m2, "M2").unwrap())
        .expect("the server proves it holds the vault verifier");
    Ok(())
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

async fn vault_life(db: &common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let alice = User::new("alice@example.com", "correct horse battery staple");
    let (signed_up, session) = sign_up_and_log_in(&server, &http, &alice).await;
    let alice_id = signed_up.account_id;

    // No session, or a dead one: 401 on every route, before the body is looked at.
    let key = VaultKey::new();
    for session in ["", &"0".repeat(64)] {
        for (method, path, body) in [
            (Method::GET, "/v1/user/vault", None),
            (Method::POST, "/v1/user/vault", Some(key.body(&alice_id))),
            (
                Method::POST,
                "/v1/user/vault/reset",
                Some(key.body(&alice_id)),
            ),
            (
                Method::POST,
                "/v1/user/vault-verify-a",
                Some(json!({"srpA": "00"})),
            ),
            (
                Method::POST,
                "/v1/user/vault-verify-m1",
                Some(json!({"srpM1": "00", "sessionStarterId": "x"})),
            ),
        ] {
            let mut request = http.request(method, server.url(path));
            if !session.is_empty() {
                request = request.header("X-Session-Id", session);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        }
    }

    // No vault yet: `{}` exactly; verifying one is a 404.
    assert_eq!(
        get_vault(&server, &http, &session).await,
        (StatusCode::OK, json!({}))
    );
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault-verify-a",
        json!({"srpA": to_hex(ClientHandshake::start(b"s", b"i", b"p").unwrap().a_pub())}),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Bad input: 400 with the error shape, nothing stored.
    let good = key.body(&alice_id);
    let verifier = good["verifier"].as_str().unwrap().to_string();
    let bad_bodies = [
        json!({"salt": "not hex at all, not hex at all!!", "verifier": verifier}),
        json!({"salt": "abc", "verifier": verifier}),
        json!({"salt": "ab".repeat(4), "verifier": verifier}),
        json!({"salt": "ab".repeat(65), "verifier": verifier}),
        json!({"salt": key.salt, "verifier": "00".repeat(256)}),
        json!({"salt": key.salt, "verifier": ""}),
        json!({"salt": key.salt, "verifier": N_HEX}),
        json!({"salt": key.salt, "verifier": "ff".repeat(256)}),
        json!({"salt": key.salt, "verifier": format!("01{verifier}")}),
        json!({"salt": key.salt, "verifier": format!("{}zz", &verifier[2..])}),
        json!({"salt": key.salt, "verifier": &verifier[1..]}),
        json!({"salt": key.salt}),
        json!({"verifier": verifier}),
    ];
    for path in ["/v1/user/vault", "/v1/user/vault/reset"] {
        for body in &bad_bodies {
            let (status, answer) = send(&server, &http, &session, path, body.clone()).await;
            assert_error(status, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
        }
    }
    assert_eq!(
        get_vault(&server, &http, &session).await,
        (StatusCode::OK, json!({}))
    );

    // Create, as the app does; read back; a second create is refused and changes nothing.
    let (status, body) = send(&server, &http, &session, "/v1/user/vault", good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"salt": key.salt}));
    assert_eq!(
        get_vault(&server, &http, &session).await,
        (StatusCode::OK, json!({"salt": key.salt}))
    );
    let other = VaultKey::new();
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault",
        other.body(&alice_id),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "VAULT_EXISTS");
    assert_eq!(
        get_vault(&server, &http, &session).await.1,
        json!({"salt": key.salt})
    );

    // The right key verifies, and the client accepts M2; a wrong key (or the right key under
    // another identity) gets 401.
    verify(
        &server,
        &http,
        &session,
        &alice_id,
        &key.salt,
        &key.jwk_json,
    )
    .await
    .unwrap();
    for (identity, jwk) in [
        (alice_id.as_str(), other.jwk_json.as_str()),
        ("acct_someone_else", key.jwk_json.as_str()),
    ] {
        let (status, body) = verify(&server, &http, &session, identity, &key.salt, jwk)
            .await
            .unwrap_err();
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }

    // A starter is single use, even after a wrong proof.
    let finish = started_proof(&server, &http, &session, &alice_id, &key).await;
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault-verify-m1",
        finish.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(&server, &http, &session, "/v1/user/vault-verify-m1", finish).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (_, started) = start_verify(
        &server,
        &http,
        &session,
        &alice_id,
        &key.salt,
        &key.jwk_json,
    )
    .await;
    let wrong = json!({"srpM1": "ab".repeat(32), "sessionStarterId": started.session_starter_id});
    let (status, _) = send(&server, &http, &session, "/v1/user/vault-verify-m1", wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad verify input: 400.
    for (path, body) in [
        ("/v1/user/vault-verify-a", json!({"srpA": "00".repeat(256)})),
        ("/v1/user/vault-verify-a", json!({"srpA": "zz"})),
        ("/v1/user/vault-verify-a", json!({})),
        (
            "/v1/user/vault-verify-m1",
            json!({"srpM1": "00", "sessionStarterId": "x"}),
        ),
        (
            "/v1/user/vault-verify-m1",
            json!({"srpM1": "00".repeat(32), "sessionStarterId": ""}),
        ),
    ] {
        let (status, answer) = send(&server, &http, &session, path, body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    }

    // Another account cannot finish Alice's starter (and does not use it up); it has no vault.
    let bob = User::new("bob@example.com", "bob's own passphrase");
    let (bob_signed_up, bob_session) = sign_up_and_log_in(&server, &http, &bob).await;
    let bob_id = AccountId::from(bob_signed_up.account_id);
    assert_eq!(
        get_vault(&server, &http, &bob_session).await,
        (StatusCode::OK, json!({}))
    );
    let finish = started_proof(&server, &http, &session, &alice_id, &key).await;
    let (status, body) = send(
        &server,
        &http,
        &bob_session,
        "/v1/user/vault-verify-m1",
        finish.clone(),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (status, body) = send(&server, &http, &session, "/v1/user/vault-verify-m1", finish).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A reset replaces the salt and verifier and drops the pending starters: the old key no
    // longer verifies, the new one does.
    let (client, pending) = start_verify(
        &server,
        &http,
        &session,
        &alice_id,
        &key.salt,
        &key.jwk_json,
    )
    .await;
    let pending_proof = client
        .process(&from_hex(&pending.srp_b, "B").unwrap())
        .unwrap();
    let replacement = VaultKey::new();
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault/reset",
        replacement.body(&alice_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"salt": replacement.salt}));
    assert_eq!(
        get_vault(&server, &http, &session).await.1,
        json!({"salt": replacement.salt})
    );
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault-verify-m1",
        json!({"srpM1": to_hex(pending_proof.m1()), "sessionStarterId": pending.session_starter_id}),
    )
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    for salt in [&key.salt, &replacement.salt] {
        let refused = verify(&server, &http, &session, &alice_id, salt, &key.jwk_json).await;
        assert_eq!(refused.unwrap_err().0, StatusCode::UNAUTHORIZED);
    }
    verify(
        &server,
        &http,
        &session,
        &alice_id,
        &replacement.salt,
        &replacement.jwk_json,
    )
    .await
    .unwrap();

    // A reset of an account without a vault creates it. An uppercase-hex salt is kept as sent.
    let bobs = VaultKey {
        salt: random_hex_32().unwrap().to_uppercase(),
        jwk_json: AesKey::generate().unwrap().to_jwk().to_json().to_string(),
    };
    let (status, body) = send(
        &server,
        &http,
        &bob_session,
        "/v1/user/vault/reset",
        bobs.body(&bob_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        get_vault(&server, &http, &bob_session).await.1,
        json!({"salt": bobs.salt})
    );
    verify(
        &server,
        &http,
        &bob_session,
        &bob_id,
        &bobs.salt,
        &bobs.jwk_json,
    )
    .await
    .unwrap();

    // A started verification expires like a log-in attempt (the store's clock is the caller's).
    let store = db.connect().await;
    let bob_verifier = bobs.body(&bob_id)["verifier"]
        .as_str()
        .unwrap()
        .to_lowercase();
    store
        .put_vault_verification(
            VaultVerification {
                id: "expiring".into(),
                account_id: bob_id.clone(),
                m1: vec![1; 32],
                m2: vec![2; 32],
                created_at: 1_000,
                expires_at: 2_000,
            },
            &bob_verifier,
        )
        .await
        .unwrap();
    assert!(
        store
            .take_vault_verification("expiring", &bob_id, 2_000)
            .await
            .unwrap()
            .is_none()
    );
    // A verification against a verifier the vault no longer has is not stored.
    let stale = store
        .put_vault_verification(
            VaultVerification {
                id: "stale".into(),
                account_id: bob_id.clone(),
                m1: vec![1; 32],
                m2: vec![2; 32],
                created_at: 1_000,
                expires_at: i64::MAX,
            },
            &"11".repeat(256),
        )
        .await;
    assert!(
        matches!(stale, Err(hypnos_server::storage::StoreError::Conflict(_))),
        "{stale:?}"
    );

    // A passphrase change keeps the vault.
    let me = call(
        &http,
        Method::GET,
        server.url("/auth/whoami"),
        &session,
        None,
    )
    .await
    .1;
    let new_passphrase = "a much better passphrase";
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/auth/change-password",
        json!({
            "verifier": alice.verifier(),
            "encSymmetricKey": me["encSymmetricKey"],
            "newEmail": alice.email,
            "newVerifier": http::users::verifier_for(&alice.email, new_passphrase, &alice.salt_key, &alice.salt_auth),
            "newEncSymmetricKey": alice.enc_symmetric_key(),
        }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    verify(
        &server,
        &http,
        &session,
        &alice_id,
        &replacement.salt,
        &replacement.jwk_json,
    )
    .await
    .unwrap();

    // Deleting the account deletes its vault and pending verifications.
    start_verify(
        &server,
        &http,
        &bob_session,
        &bob_id,
        &bobs.salt,
        &bobs.jwk_json,
    )
    .await;
    let count =
        |table: &str, id: &str| format!("SELECT COUNT(*) FROM {table} WHERE account_id = '{id}'");
    assert_eq!(db.scalar(&count("vaults", &bob_id)).await, 1);
    assert_eq!(db.scalar(&count("vault_verifications", &bob_id)).await, 1);
    let (status, body) = call(
        &http,
        Method::DELETE,
        server.url("/auth/delete-account"),
        &bob_session,
        Some(json!({"verifier": bob.verifier()})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(db.scalar(&count("vaults", &bob_id)).await, 0);
    assert_eq!(db.scalar(&count("vault_verifications", &bob_id)).await, 0);
    assert_eq!(db.scalar(&count("vaults", &alice_id)).await, 1);
    server.stop().await;
}

/// Starting vault verifications counts against the per-account log-in limit.
async fn vault_rate_limit(db: &common::TestDb) {
    let server = TestServer::start(&db.url, 3).await;
    let http = Client::new();
    let carol = User::new("carol@example.com", "carol's passphrase");
    let (signed_up, session) = sign_up_and_log_in(&server, &http, &carol).await;
    let key = VaultKey::new();
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault",
        key.body(&signed_up.account_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = to_hex(ClientHandshake::start(b"s", b"i", b"p").unwrap().a_pub());
    for _ in 0..3 {
        let (status, body) = send(
            &server,
            &http,
            &session,
            "/v1/user/vault-verify-a",
            json!({"srpA": a}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault-verify-a",
        json!({"srpA": a}),
    )
    .await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    server.stop().await;
}

/// The vault key made and proven entirely by srp-js (the app's `computeVerifier` and `Client`,
/// through `interop/harness.js`), against the server.
async fn vault_made_by_srp_js(db: &common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let mut js = Harness::start();
    let dave = User::new("dave@example.com", "dave's passphrase");
    let (signed_up, session) = sign_up_and_log_in(&server, &http, &dave).await;
    let account_id = signed_up.account_id;

    // createVaultKey: getRandomHex, generateAES256Key, computeVerifier(s, I = account id,
    // P = the JWK JSON bytes).
    let salt = js.ok_str("random_hex", json!({"bytes": 32}), "vault salt");
    let jwk = js.ok("aes_generate", json!({}), "vault key");
    let jwk_json = serde_json::to_string(&jwk).unwrap();
    let verifier = js.ok_str(
        "srp_verifier",
        json!({"salt": salt, "identity": account_id, "password": to_hex(jwk_json.as_bytes())}),
        "vault verifier",
    );
    let (status, body) = send(
        &server,
        &http,
        &session,
        "/v1/user/vault",
        json!({"salt": salt, "verifier": verifier}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // validateVaultKey with srp-js's Client, for the right key and a wrong one.
    let wrong = serde_json::to_string(&js.ok("aes_generate", json!({}), "other key")).unwrap();
    let mut js_verify = async |password: &str| -> StatusCode {
        let a = js.ok_str("random_hex", json!({"bytes": 32}), "a");
        let started = js.ok(
            "srp_client_start",
            json!({"salt": salt, "identity": account_id, "password": to_hex(password.as_bytes()), "a": a}),
            "srp-js client",
        );
        let (status, answer) = send(
            &server,
            &http,
            &session,
            "/v1/user/vault-verify-a",
            json!({"srpA": started["A"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let proof = js.ok(
            "srp_client_finish",
            json!({"handle": started["handle"], "B": answer["srpB"]}),
            "srp-js M1",
        );
        let (status, done) = send(
            &server,
            &http,
            &session,
            "/v1/user/vault-verify-m1",
            json!({"srpM1": proof["M1"], "sessionStarterId": answer["sessionStarterId"]}),
        )
        .await;
        if status == StatusCode::OK {
            js.ok(
                "srp_client_check",
                json!({"handle": started["handle"], "M2": done["srpM2"]}),
                "srp-js checks M2",
            );
        }
        status
    };
    assert_eq!(js_verify(&jwk_json).await, StatusCode::OK);
    assert_eq!(js_verify(&wrong).await, StatusCode::UNAUTHORIZED);

    // And the Rust client half proves the key srp-js made.
    verify(&server, &http, &session, &account_id, &salt, &jwk_json)
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_life_sqlite() {
    vault_life(&common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_life_postgres() {
    vault_life(&common::TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_rate_limit_sqlite() {
    vault_rate_limit(&common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_rate_limit_postgres() {
    vault_rate_limit(&common::TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_made_by_srp_js_sqlite() {
    vault_made_by_srp_js(&common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_made_by_srp_js_postgres() {
    vault_made_by_srp_js(&common::TestDb::postgres().await).await;
}
