//! The log-in bootstrap through `/v3/users/me` and the problem JSON of `/v3` errors.

use super::*;

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    the_newest_login_bootstraps_and_unlocks_the_keys,
    v3_errors_are_problems_both_clients_read,
);

async fn the_newest_login_bootstraps_and_unlocks_the_keys(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let (_, whoami) = alice.get("/auth/whoami").await;

    // absorbKey's two calls, in parallel, as the app makes them; the SDK's header spelling and
    // insomniaFetch's reach the same handler.
    let (me, keys) = tokio::join!(
        app.v3(Method::GET, Some(&alice.session), "/v3/users/me", None),
        app.v3(
            Method::GET,
            Some(&alice.session),
            "/v3/users/me/encryption-keys",
            None
        ),
    );
    let (status, _, me) = me;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me,
        json!({
            "id": alice.id,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "alice@example.com",
            "emails": [{"email": "alice@example.com", "is_primary": true}],
            "is_externally_provisioned": false,
            "encryption_enabled": true,
            "created_at": whoami["created"],
        })
    );
    assert!(humantime::parse_rfc3339(me["created_at"].as_str().unwrap()).is_ok());
    let (status, same) = alice.get("/v3/users/me").await;
    assert_eq!((status, &same), (StatusCode::OK, &me));

    let (status, _, keys) = keys;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(
        keys,
        json!({
            "public_key": whoami["publicKey"],
            "enc_private_key": whoami["encPrivateKey"],
            "enc_symmetric_key": whoami["encSymmetricKey"],
            "salt_enc": whoami["saltEnc"],
            "enc_driver_key": "",
        })
    );
    assert_eq!(keys["salt_enc"], alice.user.salt_enc.as_str());

    // Unlocked as absorbKey does: the account key under the key the passphrase derives (with
    // the salt the server keeps), then the private key under the account key.
    let text = |name: &str| keys[name].as_str().unwrap().to_owned();
    let wrap = AesKey::from_hex(&derive_key(
        &alice.user.passphrase,
        &alice.user.email,
        &text("salt_enc"),
    ))
    .unwrap();
    let account_key = decrypt_string(
        &wrap,
        &AesMessage::from_json(&text("enc_symmetric_key")).unwrap(),
    )
    .unwrap();
    let account_key = SymmetricJwk::from_json(&account_key).unwrap();
    assert_eq!(
        account_key.key().as_bytes(),
        alice.user.symmetric.key().as_bytes()
    );
    let private = decrypt_string(
        &account_key.key(),
        &AesMessage::from_json(&text("enc_private_key")).unwrap(),
    )
    .unwrap();
    let private = RsaPrivateKey::from_jwk_json(&private).unwrap();
    let public = RsaPublicJwk::from_json(&text("public_key")).unwrap();
    assert_eq!(
        private.public_jwk(),
        &public,
        "the private key is the public key's"
    );
    assert_eq!(&public, alice.user.private.public_jwk());
    // And it works: what the public key seals, the unlocked private key opens.
    let sealed = private
        .public_key()
        .unwrap()
        .encrypt_string("a project key")
        .unwrap();
    assert_eq!(
        alice.user.private.decrypt_string(&sealed).unwrap().as_str(),
        "a project key"
    );

    // After log-out the session opens nothing.
    let (status, _) = alice.send(Method::POST, "/auth/logout", None).await;
    assert!(status.is_success());
    let answer = app
        .v3(Method::GET, Some(&alice.session), "/v3/users/me", None)
        .await;
    assert_problem(
        answer,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "/v3/users/me",
    );
    let relogged = login(
        &app.server,
        &app.http,
        &alice.user.email,
        &alice.user.passphrase,
    )
    .await
    .unwrap();
    let (status, _, again) = app
        .v3(
            Method::GET,
            Some(&relogged),
            "/v3/users/me/encryption-keys",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
}

async fn v3_errors_are_problems_both_clients_read(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let session = Some(alice.session.as_str());

    // No session, a malformed one, an unknown path, a wrong method: problems with our code.
    for path in [
        "/v3/users/me",
        "/v3/users/me/encryption-keys",
        "/v3/users/me/onboarding",
        "/v3/users/me/spaces",
    ] {
        let answer = app.v3(Method::GET, None, path, None).await;
        assert_problem(answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", path);
        let answer = app.v3(Method::GET, Some("not-hex"), path, None).await;
        assert_problem(answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", path);
    }
    let answer = app.v3(Method::GET, session, "/v3/nothing/here", None).await;
    assert_problem(
        answer,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "/v3/nothing/here",
    );
    let answer = app.v3(Method::DELETE, session, "/v3/users/me", None).await;
    assert_problem(
        answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "/v3/users/me",
    );
    // The 10.x endpoints keep their own shape.
    let (status, body) = app
        .send_as("", Method::GET, "/v1/organizations", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["error", "message"]
    );

    // Onboarding: no experiment runs here; both forms of the latch are accepted.
    let no_experiment = json!({"first_request_treatment": "unknown", "is_new_signup": false});
    let (status, _, onboarding) = app
        .v3(Method::GET, session, "/v3/users/me/onboarding", None)
        .await;
    assert_eq!((status, &onboarding), (StatusCode::OK, &no_experiment));
    let (status, _, empty) = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/onboarding/request-threshold",
            None,
        )
        .await;
    assert_eq!((status, &empty), (StatusCode::NO_CONTENT, &Value::Null));
    let (status, _, latched) = app
        .v3(
            Method::PUT,
            session,
            "/v3/users/me/onboarding/request-threshold-reached",
            None,
        )
        .await;
    assert_eq!((status, &latched), (StatusCode::OK, &no_experiment));

    // Actions: every kind the SDK names is accepted (and dropped); anything else is refused.
    for kind in [
        "request_created",
        "request_executed",
        "document_created",
        "mcp_created",
        "mcp_connected",
        "mock_created",
        "mock_route_created",
        "environment_saved",
    ] {
        let (status, _, body) = app
            .v3(
                Method::POST,
                session,
                "/v3/users/me/actions",
                Some(json!({"action_type": kind, "event_id": format!("evt-{kind}")})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{kind}: {body}");
    }
    let (status, _, _) = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/actions",
            Some(json!({"action_type": "request_created"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "event_id is optional");
    for bad in [
        json!({"action_type": "shopping"}),
        json!({"event_id": "evt"}),
        json!({"action_type": 7}),
        json!([]),
    ] {
        let answer = app
            .v3(Method::POST, session, "/v3/users/me/actions", Some(bad))
            .await;
        assert_problem(
            answer,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "/v3/users/me/actions",
        );
    }
    let answer = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/actions",
            Some(json!({"action_type": "request_created", "event_id": "e".repeat(201)})),
        )
        .await;
    let body = assert_problem(
        answer,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "/v3/users/me/actions",
    );
    assert_eq!(body["invalid_parameters"][0]["field"], "event_id");
    assert_eq!(body["invalid_parameters"][0]["source"], "body");
    let answer = app
        .v3(Method::POST, None, "/v3/users/me/actions", None)
        .await;
    assert_problem(
        answer,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "/v3/users/me/actions",
    );
}
