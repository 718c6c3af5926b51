//! The vault key's life: created, verified, reset, with every refusal on the way.

use super::*;

common::on_both_backends!(vault_life,);

async fn vault_life(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app
        .actor_of(User::new(
            "alice@example.com",
            "correct horse battery staple",
        ))
        .await;
    let alice_id = alice.id.clone();

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
            let mut request = app.http.request(method, app.url(path));
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
        alice.get("/v1/user/vault").await,
        (StatusCode::OK, json!({}))
    );
    let (status, body) = alice
        .post(
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
            let (status, answer) = alice.post(path, body.clone()).await;
            assert_error(status, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
        }
    }
    assert_eq!(
        alice.get("/v1/user/vault").await,
        (StatusCode::OK, json!({}))
    );

    // Create, as the app does; read back; a second create is refused and changes nothing.
    let (status, body) = alice.post("/v1/user/vault", good.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"salt": key.salt}));
    assert_eq!(
        alice.get("/v1/user/vault").await,
        (StatusCode::OK, json!({"salt": key.salt}))
    );
    let other = VaultKey::new();
    let (status, body) = alice.post("/v1/user/vault", other.body(&alice_id)).await;
    assert_error(status, &body, StatusCode::CONFLICT, "VAULT_EXISTS");
    assert_eq!(
        alice.get("/v1/user/vault").await.1,
        json!({"salt": key.salt})
    );

    // The right key verifies, and the client accepts M2; a wrong key (or the right key under
    // another identity) gets 401.
    verify(&alice, &alice_id, &key.salt, &key.jwk_json)
        .await
        .unwrap();
    for (identity, jwk) in [
        (alice_id.as_str(), other.jwk_json.as_str()),
        ("acct_someone_else", key.jwk_json.as_str()),
    ] {
        let (status, body) = verify(&alice, identity, &key.salt, jwk).await.unwrap_err();
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }

    // A starter is single use, even after a wrong proof.
    let finish = started_proof(&alice, &alice_id, &key).await;
    let (status, body) = alice.post("/v1/user/vault-verify-m1", finish.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = alice.post("/v1/user/vault-verify-m1", finish).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (_, started) = start_verify(&alice, &alice_id, &key.salt, &key.jwk_json).await;
    let wrong = json!({"srpM1": "ab".repeat(32), "sessionStarterId": started.session_starter_id});
    let (status, _) = alice.post("/v1/user/vault-verify-m1", wrong).await;
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
        let (status, answer) = alice.post(path, body).await;
        assert_error(status, &answer, StatusCode::BAD_REQUEST, "BAD_REQUEST");
    }

    // Another account cannot finish Alice's starter (and does not use it up); it has no vault.
    let bob = app
        .actor_of(User::new("bob@example.com", "bob's own passphrase"))
        .await;
    let bob_id = AccountId::from(bob.id.clone());
    assert_eq!(bob.get("/v1/user/vault").await, (StatusCode::OK, json!({})));
    let finish = started_proof(&alice, &alice_id, &key).await;
    let (status, body) = bob.post("/v1/user/vault-verify-m1", finish.clone()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (status, body) = alice.post("/v1/user/vault-verify-m1", finish).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A reset replaces the salt and verifier and drops the pending starters: the old key no
    // longer verifies, the new one does.
    let (client, pending) = start_verify(&alice, &alice_id, &key.salt, &key.jwk_json).await;
    let pending_proof = client
        .process(&from_hex(&pending.srp_b, "B").unwrap())
        .unwrap();
    let replacement = VaultKey::new();
    let (status, body) = alice
        .post("/v1/user/vault/reset", replacement.body(&alice_id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"salt": replacement.salt}));
    assert_eq!(
        alice.get("/v1/user/vault").await.1,
        json!({"salt": replacement.salt})
    );
    let (status, body) = alice.post("/v1/user/vault-verify-m1", json!({"srpM1": to_hex(pending_proof.m1()), "sessionStarterId": pending.session_starter_id}))
    .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    for salt in [&key.salt, &replacement.salt] {
        let refused = verify(&alice, &alice_id, salt, &key.jwk_json).await;
        assert_eq!(refused.unwrap_err().0, StatusCode::UNAUTHORIZED);
    }
    verify(&alice, &alice_id, &replacement.salt, &replacement.jwk_json)
        .await
        .unwrap();

    // A reset of an account without a vault creates it. An uppercase-hex salt is kept as sent.
    let bobs = VaultKey {
        salt: random_hex_32().unwrap().to_uppercase(),
        jwk_json: AesKey::generate().unwrap().to_jwk().to_json().to_string(),
    };
    let (status, body) = bob.post("/v1/user/vault/reset", bobs.body(&bob_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        bob.get("/v1/user/vault").await.1,
        json!({"salt": bobs.salt})
    );
    verify(&bob, &bob_id, &bobs.salt, &bobs.jwk_json)
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
    let me = alice.get("/auth/whoami").await.1;
    let new_passphrase = "a much better passphrase";
    let (status, body) = alice.post("/auth/change-password", json!({
            "verifier": alice.user.verifier(),
            "encSymmetricKey": me["encSymmetricKey"],
            "newEmail": alice.user.email,
            "newVerifier": common::http::users::verifier_for(&alice.user.email, new_passphrase, &alice.user.salt_key, &alice.user.salt_auth),
            "newEncSymmetricKey": alice.user.enc_symmetric_key(),
        }))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    verify(&alice, &alice_id, &replacement.salt, &replacement.jwk_json)
        .await
        .unwrap();

    // Deleting the account deletes its vault and pending verifications.
    start_verify(&bob, &bob_id, &bobs.salt, &bobs.jwk_json).await;
    let count =
        |table: &str, id: &str| format!("SELECT COUNT(*) FROM {table} WHERE account_id = '{id}'");
    assert_eq!(db.scalar(&count("vaults", &bob_id)).await, 1);
    assert_eq!(db.scalar(&count("vault_verifications", &bob_id)).await, 1);
    let (status, body) = bob
        .send(
            Method::DELETE,
            "/auth/delete-account",
            Some(json!({"verifier": bob.user.verifier()})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(db.scalar(&count("vaults", &bob_id)).await, 0);
    assert_eq!(db.scalar(&count("vault_verifications", &bob_id)).await, 0);
    assert_eq!(db.scalar(&count("vaults", &alice_id)).await, 1);
}
