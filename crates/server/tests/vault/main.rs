//! The vault key (insomnia-wire.md §5.1) over HTTP against the real server, on SQLite and on
//! PostgreSQL: created exactly as the app creates it (salt = 32 random bytes as hex, P = the JWK
//! JSON of a fresh AES-256 key, I = the account id), read back, refused twice, proven with the
//! SRP client half (right key, wrong key, reused, foreign and stale starters), replaced, kept by
//! a passphrase change, deleted with the account; bad input and missing sessions; the rate
//! limit. Then the same with every vault value computed by srp-js (the app's library).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;
#[path = "../../../crypto/tests/support/harness.rs"]
mod harness;
mod life;
mod made_elsewhere;

use common::app::{Actor, TestApp};
use common::http::{TestServer, users::User};
use harness::Harness;
use hypnos_crypto::{
    aes::AesKey,
    encoding::{from_hex, to_hex},
    random::random_hex_32,
    srp::{ClientHandshake, compute_verifier},
    wire::vault::{VaultVerifyAResponse, VaultVerifyM1Response},
};
use hypnos_server::storage::{AccountId, VaultVerification};
use reqwest::{Method, StatusCode};
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

/// vault-verify-a with the client half for `key` (its salt, this JWK): the client and the
/// starter id.
async fn start_verify(
    who: &Actor,
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
    let (status, answer) = who
        .post(
            "/v1/user/vault-verify-a",
            json!({"srpA": to_hex(client.a_pub())}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    (client, serde_json::from_value(answer).unwrap())
}

/// A started verification's right proof: the body of `vault-verify-m1`.
async fn started_proof(who: &Actor, account_id: &str, key: &VaultKey) -> Value {
    let (client, started) = start_verify(who, account_id, &key.salt, &key.jwk_json).await;
    let proof = client
        .process(&from_hex(&started.srp_b, "B").unwrap())
        .unwrap();
    json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": started.session_starter_id})
}

/// The app's whole verification (`validateVaultKey`): `Ok(())` when the server accepts the
/// proof and the client accepts M2; the status and body of the refusal otherwise.
async fn verify(
    who: &Actor,
    account_id: &str,
    salt: &str,
    jwk_json: &str,
) -> Result<(), (StatusCode, Value)> {
    let (client, started) = start_verify(who, account_id, salt, jwk_json).await;
    let proof = client
        .process(&from_hex(&started.srp_b, "B").unwrap())
        .unwrap();
    let (status, done) = who
        .post(
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
