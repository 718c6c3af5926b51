//! Vault verifications under the log-in limit, and a vault key made and proven by srp-js.

use super::*;

common::on_both_backends!(vault_rate_limit, vault_made_by_srp_js,);

/// Starting vault verifications counts against the per-account log-in limit.
async fn vault_rate_limit(db: common::TestDb) {
    let app = TestApp::from(TestServer::start(&db.url, 3).await);
    let carol = app.actor("carol").await;
    let key = VaultKey::new();
    let (status, body) = carol.post("/v1/user/vault", key.body(&carol.id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = to_hex(ClientHandshake::start(b"s", b"i", b"p").unwrap().a_pub());
    for _ in 0..3 {
        let (status, body) = carol
            .post("/v1/user/vault-verify-a", json!({"srpA": a}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = carol
        .post("/v1/user/vault-verify-a", json!({"srpA": a}))
        .await;
    assert_error(status, &body, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

/// The vault key made and proven entirely by srp-js (the app's `computeVerifier` and `Client`,
/// through `interop/harness.js`), against the server.
async fn vault_made_by_srp_js(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let mut js = Harness::start();
    let dave = app.actor("dave").await;
    let account_id = dave.id.clone();

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
    let (status, body) = dave
        .post(
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
        let (status, answer) = dave
            .post("/v1/user/vault-verify-a", json!({"srpA": started["A"]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let proof = js.ok(
            "srp_client_finish",
            json!({"handle": started["handle"], "B": answer["srpB"]}),
            "srp-js M1",
        );
        let (status, done) = dave
            .post(
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
    verify(&dave, &account_id, &salt, &jwk_json).await.unwrap();
}
