//! Sign-up and log-in made entirely by the npm libraries the Insomnia app uses (node-forge,
//! hkdf, srp-js and Node's WebCrypto, through `interop/harness.js`) against the running server,
//! on SQLite and PostgreSQL: every salt, key, ciphertext, verifier and SRP value below comes from
//! JavaScript; Rust only carries the HTTP requests. Then the reverse: an account made by
//! `hypnos-crypto` logs in with srp-js.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;
#[path = "../../crypto/tests/support/harness.rs"]
mod harness;

use common::app::TestApp;
use common::http::post;
use harness::Harness;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The app's log-in, every value computed by srp-js and hkdf/PBKDF2 in JavaScript.
async fn javascript_login(
    js: &mut Harness,
    app: &TestApp,
    email: &str,
    passphrase: &str,
) -> Result<String, StatusCode> {
    let (status, salts) = post(&app.http, app.url("/auth/login-s"), json!({"email": email})).await;
    assert_eq!(status, StatusCode::OK);
    let auth_secret = js.ok_str(
        "derive_key",
        json!({"passphrase": passphrase, "email": email, "salt": salts["saltKey"]}),
        "authSecret",
    );
    let a = js.ok_str("random_hex", json!({"bytes": 32}), "a");
    let started = js.ok(
        "srp_client_start",
        json!({"salt": salts["saltAuth"], "identity": email, "password": auth_secret, "a": a}),
        "srp-js client",
    );
    let (status, answer) = post(
        &app.http,
        app.url("/auth/login-a"),
        json!({"email": email, "srpA": started["A"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let proof = js.ok(
        "srp_client_finish",
        json!({"handle": started["handle"], "B": answer["srpB"]}),
        "srp-js M1",
    );
    let (status, done) = post(
        &app.http,
        app.url("/auth/login-m1"),
        json!({"srpM1": proof["M1"], "sessionStarterId": answer["sessionStarterId"]}),
    )
    .await;
    if status != StatusCode::OK {
        return Err(status);
    }
    js.ok(
        "srp_client_check",
        json!({"handle": started["handle"], "M2": done["srpM2"]}),
        "srp-js checks M2",
    );
    Ok(proof["K"].as_str().unwrap().to_string())
}

async fn made_by_the_app_libraries(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let mut js = Harness::start();
    let email = "npm@example.com";
    let passphrase = "pässwörd from the app";

    // Sign-up as the app's code does it (insomnia-wire.md §2.2), in JavaScript.
    let salt = |js: &mut Harness| js.ok_str("random_hex", json!({"bytes": 32}), "salt");
    let (salt_key, salt_auth, salt_enc) = (salt(&mut js), salt(&mut js), salt(&mut js));
    let auth_secret = js.ok_str(
        "derive_key",
        json!({"passphrase": passphrase, "email": email, "salt": salt_key}),
        "authSecret",
    );
    let enc_secret = js.ok_str(
        "derive_key",
        json!({"passphrase": passphrase, "email": email, "salt": salt_enc}),
        "encSecret",
    );
    let verifier = js.ok_str(
        "srp_verifier",
        json!({"salt": salt_auth, "identity": email, "password": auth_secret}),
        "verifier",
    );
    let pair = js.ok("rsa_generate", json!({}), "RSA pair");
    let symmetric = js.ok("aes_generate", json!({}), "account key");
    let symmetric_text = serde_json::to_string(&symmetric).unwrap();
    let enc_symmetric_key = js.ok(
        "aes_encrypt_string",
        json!({"key": enc_secret, "text": symmetric_text}),
        "wrap account key",
    );
    let enc_private_key = js.ok(
        "aes_encrypt_string",
        json!({"key": symmetric, "text": pair["privateJwkText"]}),
        "wrap private key",
    );
    let (status, created) = post(
        &app.http,
        app.url("/auth/signup"),
        json!({
            "email": email, "firstName": "Npm", "lastName": "User",
            "saltKey": salt_key, "saltAuth": salt_auth, "saltEnc": salt_enc,
            "verifier": verifier,
            "publicKey": pair["publicJwkText"],
            "encPrivateKey": serde_json::to_string(&enc_private_key).unwrap(),
            "encSymmetricKey": serde_json::to_string(&enc_symmetric_key).unwrap(),
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");

    // Log-in with srp-js; whoami; the keys unlock in JavaScript.
    let session = javascript_login(&mut js, &app, email, passphrase)
        .await
        .unwrap();
    let me: Value = app
        .http
        .get(app.url("/auth/whoami"))
        .header("X-Session-Id", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["accountId"], created["accountId"]);
    let wrap_key = js_derive(&mut js, passphrase, email, me["saltEnc"].as_str().unwrap());
    let unwrapped_key = js.ok_str(
        "aes_decrypt_string",
        json!({"key": wrap_key, "message": serde_json::from_str::<Value>(me["encSymmetricKey"].as_str().unwrap()).unwrap()}),
        "unwrap the account key",
    );
    assert_eq!(unwrapped_key, symmetric_text);
    let private_text = js.ok_str(
        "aes_decrypt_string",
        json!({"key": symmetric, "message": serde_json::from_str::<Value>(me["encPrivateKey"].as_str().unwrap()).unwrap()}),
        "unwrap the private key",
    );
    assert_eq!(private_text, pair["privateJwkText"].as_str().unwrap());
    // A wrong passphrase fails at login-m1, for srp-js too.
    assert_eq!(
        javascript_login(&mut js, &app, email, "wrong").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    app.server.stop().await;
}

fn js_derive(js: &mut Harness, passphrase: &str, email: &str, salt: &str) -> String {
    js.ok_str(
        "derive_key",
        json!({"passphrase": passphrase, "email": email, "salt": salt}),
        "deriveKey",
    )
}

/// An account signed up through `hypnos-crypto` logs in with srp-js.
async fn made_in_rust_logged_in_by_javascript(db: common::TestDb) {
    use hypnos_crypto::{
        aes::{AesKey, encrypt_string},
        encoding::{from_hex, to_hex},
        kdf::derive_key,
        random::random_hex_32,
        rsa::RsaPrivateKey,
        srp::compute_verifier,
    };
    let app = TestApp::start(&db).await;
    let mut js = Harness::start();
    let (email, passphrase) = ("rust@example.com", "made in rust");
    let (salt_key, salt_auth, salt_enc) = (
        random_hex_32().unwrap(),
        random_hex_32().unwrap(),
        random_hex_32().unwrap(),
    );
    let symmetric = AesKey::generate().unwrap().to_jwk();
    let private = RsaPrivateKey::generate().unwrap();
    let wrap = AesKey::from_hex(&derive_key(passphrase, email, &salt_enc)).unwrap();
    let verifier = compute_verifier(
        &from_hex(&salt_auth, "salt").unwrap(),
        email.as_bytes(),
        &from_hex(&derive_key(passphrase, email, &salt_key), "secret").unwrap(),
    );
    let (status, body) = post(&app.http, app.url("/auth/signup"),
        json!({
            "email": email, "saltKey": salt_key, "saltAuth": salt_auth, "saltEnc": salt_enc,
            "verifier": to_hex(&verifier),
            "publicKey": private.public_jwk().to_json(),
            "encPrivateKey": encrypt_string(&symmetric.key(), &private.jwk().to_json()).unwrap().to_json(),
            "encSymmetricKey": encrypt_string(&wrap, &symmetric.to_json()).unwrap().to_json(),
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let session = javascript_login(&mut js, &app, email, passphrase)
        .await
        .unwrap();
    let response = app
        .http
        .get(app.url("/auth/whoami"))
        .header("X-Session-Id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app.server.stop().await;
}

common::on_both_backends!(
    made_by_the_app_libraries,
    made_in_rust_logged_in_by_javascript,
);
