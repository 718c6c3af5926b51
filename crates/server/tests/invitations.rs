//! Invitations and key sharing over real HTTP, on SQLite and on PostgreSQL, with real keys: the
//! inviter decrypts its project key and encrypts it to the invitee, who after accepting decrypts
//! the same key; a member lacking a key (after a reset, say) gets one through reconcile-keys.
//! Keys naming another organization's project, or a non-member, are refused and write nothing.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::http::{
    TestServer, call, post,
    users::{User, login, sign_up_and_log_in},
};
use hypnos_crypto::rsa::RsaPublicKey;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

async fn invitations(db: common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let user = User::new(
            &format!("{name}@example.com"),
            &format!("{name}'s passphrase"),
        );
        let (ids, session) = sign_up_and_log_in(&server, &http, &user).await;
        people.push((user, ids.account_id, ids.personal_organization_id, session));
    }
    let [
        (alice, alice_id, _, alice_s),
        (bob, bob_id, bob_org, bob_s),
        (carol, carol_id, _, carol_s),
        (_dave, dave_id, _, dave_s),
    ] = <[_; 4]>::try_from(people)
        .map_err(|_| "four people")
        .unwrap();
    let request = |method: Method, session: &str, path: &str, body: Option<Value>| {
        let (session, url, http) = (session.to_owned(), server.url(path), &http);
        async move { call(http, method, url, &session, body).await }
    };
    let (_, team) = request(
        Method::POST,
        &alice_s,
        "/v1/organizations",
        Some(json!({"name": "Acme"})),
    )
    .await;
    let team = team["id"].as_str().unwrap().to_owned();
    let org = |rest: &str| format!("/v1/organizations/{team}{rest}");
    let project_key =
        common::app::synced_project(&db, &team, "prj_1", &[(&alice_id, &alice)]).await;
    common::app::synced_project(&db, &team, "prj_nokey", &[]).await;
    common::app::synced_project(&db, &bob_org, "prj_bobs", &[(&bob_id, &bob)]).await;

    // 1. Seats: no limit.
    let (status, seats) = request(
        Method::POST,
        &alice_s,
        &org("/check-seats"),
        Some(json!({"emails": ["bob@example.com"]})),
    )
    .await;
    assert_eq!(
        (status, seats),
        (StatusCode::OK, json!({"isAllowed": true}))
    );

    // 2. Instructions: the invitee's id and public key; only existing non-members.
    let (status, how) = request(
        Method::POST,
        &alice_s,
        &org("/invites/instructions"),
        Some(json!({"inviteeEmail": "bob@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{how}");
    assert_eq!(how["inviteeId"], bob_id.as_str());
    assert_eq!(how["inviteeEmail"], "bob@example.com");
    let bob_public =
        RsaPublicKey::from_jwk_json(how["inviteePublicKey"].as_str().unwrap()).unwrap();
    for (email, expected) in [
        ("nobody@example.com", StatusCode::NOT_FOUND),
        ("alice@example.com", StatusCode::CONFLICT),
        ("not an e-mail", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = request(
            Method::POST,
            &alice_s,
            &org("/invites/instructions"),
            Some(json!({"inviteeEmail": email})),
        )
        .await;
        assert_eq!(status, expected, "{email}: {body}");
    }

    // 3. The inviter's own keys; nobody else is a member yet.
    let (status, mine) = request(Method::GET, &alice_s, &org("/my-project-keys"), None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["projectKeys"].as_array().unwrap().len(), 1);
    assert_eq!(mine["projectKeys"][0]["projectId"], "prj_1");
    assert_eq!(mine["members"], json!([]));
    let opened = alice
        .private
        .decrypt_string(mine["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*opened, project_key);
    let for_bob = bob_public.encrypt_string(&opened).unwrap();

    // 4. The invitation, with the key encrypted to bob; refused variants write nothing.
    let invite = |invitee: &str, keys: Value, roles: Value| json!({"inviteeId": invitee, "inviteKeys": keys, "roles": roles});
    for (body, expected, code) in [
        (
            invite(
                &bob_id,
                json!([{"projectId": "prj_nokey", "encSymmetricKey": for_bob}]),
                json!(["admin"]),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            invite(
                &bob_id,
                json!([{"projectId": "prj_bobs", "encSymmetricKey": for_bob}]),
                json!(["admin"]),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            invite(
                &bob_id,
                json!([{"projectId": "prj_1", "encSymmetricKey": "abc"}]),
                json!(["admin"]),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            invite(&bob_id, json!([]), json!(["owner"])),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            invite(&alice_id, json!([]), json!(["member"])),
            StatusCode::CONFLICT,
            "ALREADY_MEMBER",
        ),
        (
            invite("acct_nobody", json!([]), json!(["member"])),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ] {
        let (status, answer) =
            request(Method::POST, &alice_s, &org("/invites"), Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{answer}");
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM invitations").await, 0);
    let (status, made) = request(
        Method::POST,
        &alice_s,
        &org("/invites"),
        Some(invite(
            &bob_id,
            json!([{"projectId": "prj_1", "encSymmetricKey": for_bob, "autoLinked": false}]),
            json!(["admin"]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let bob_invitation = made["id"].as_str().unwrap().to_owned();
    let (status, again) = request(
        Method::POST,
        &alice_s,
        &org("/invites"),
        Some(invite(&bob_id, json!([]), json!(["member"]))),
    )
    .await;
    assert_eq!(
        (status, again["error"].clone()),
        (StatusCode::CONFLICT, json!("ALREADY_INVITED"))
    );

    // 5. The organization's list, and changing the offered role.
    let (_, listed) = request(Method::GET, &alice_s, &org("/invites"), None).await;
    assert_eq!(listed["invitations"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["invitations"][0]["invitee"]["email"],
        "bob@example.com"
    );
    assert_eq!(listed["invitations"][0]["inviter"]["name"], "Ada Lovelace");
    assert_eq!(listed["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = request(
        Method::PATCH,
        &alice_s,
        &org(&format!("/invites/{bob_invitation}")),
        Some(json!({"roles": ["member"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // 6. The invitee's side; nobody else sees or takes it.
    let (_, bobs) = request(Method::GET, &bob_s, "/v1/user/invites", None).await;
    assert_eq!(bobs["invitations"].as_array().unwrap().len(), 1, "{bobs}");
    let shown = &bobs["invitations"][0];
    assert_eq!(shown["organizationId"], team.as_str());
    assert_eq!(shown["organizationName"], "Acme");
    assert_eq!(shown["inviter"]["email"], "alice@example.com");
    assert_eq!(shown["roles"], json!(["member"]));
    let (_, carols) = request(Method::GET, &carol_s, "/v1/user/invites", None).await;
    assert_eq!(carols["invitations"], json!([]));
    for action in ["accept", "decline"] {
        let (status, _) = request(
            Method::POST,
            &carol_s,
            &format!("/v1/user/invites/{bob_invitation}/{action}"),
            None,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "carol cannot {action} bob's invitation"
        );
    }

    // 7. Bob accepts: a member with the offered role, and the same project key, his own now.
    let (status, accepted) = request(
        Method::POST,
        &bob_s,
        &format!("/v1/user/invites/{bob_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted, json!({"organizationId": team}));
    let (_, role) = request(
        Method::GET,
        &bob_s,
        &org(&format!("/members/{bob_id}/roles")),
        None,
    )
    .await;
    assert_eq!(role["roleId"], "member");
    let (_, bobs_keys) = request(Method::GET, &bob_s, &org("/my-project-keys"), None).await;
    let bobs_key = bob
        .private
        .decrypt_string(bobs_keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*bobs_key, project_key);
    let (status, _) = request(
        Method::POST,
        &bob_s,
        &format!("/v1/user/invites/{bob_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invitation is used once");

    // 8. Carol joins without keys (as after a reset): the key holders see her gap and fill it.
    let (_, made) = request(
        Method::POST,
        &alice_s,
        &org("/invites"),
        Some(invite(&carol_id, json!([]), json!(["member"]))),
    )
    .await;
    let carol_invitation = made["id"].as_str().unwrap().to_owned();
    let (status, _) = request(
        Method::POST,
        &carol_s,
        &format!("/v1/user/invites/{carol_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, gaps) = request(Method::GET, &bob_s, &org("/my-project-keys"), None).await;
    assert_eq!(gaps["members"].as_array().unwrap().len(), 1, "{gaps}");
    assert_eq!(gaps["members"][0]["accountId"], carol_id.as_str());
    assert_eq!(gaps["members"][0]["projectId"], "prj_1");
    let carol_public =
        RsaPublicKey::from_jwk_json(gaps["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let for_carol = carol_public.encrypt_string(&bobs_key).unwrap();
    let reconcile = |keys: Value| Some(json!({ "keys": keys }));
    for keys in [
        json!([{"projectId": "prj_1", "accountId": dave_id, "encSymmetricKey": for_carol}]),
        json!([{"projectId": "prj_nokey", "accountId": carol_id, "encSymmetricKey": for_carol}]),
        json!([{"projectId": "prj_bobs", "accountId": carol_id, "encSymmetricKey": for_carol}]),
    ] {
        let (status, answer) = request(
            Method::POST,
            &bob_s,
            &org("/reconcile-keys"),
            reconcile(keys.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{keys}: {answer}");
        assert_eq!(answer["error"], "KEY_NOT_SHAREABLE");
    }
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{carol_id}'"
        ))
        .await,
        0,
        "refused keys are not written"
    );
    let key_for_carol =
        json!([{"projectId": "prj_1", "accountId": carol_id, "encSymmetricKey": for_carol}]);
    let (status, done) = request(
        Method::POST,
        &bob_s,
        &org("/reconcile-keys"),
        reconcile(key_for_carol),
    )
    .await;
    assert_eq!(
        (status, done),
        (StatusCode::OK, json!({"created": 1, "skipped": 0}))
    );
    let other = carol_public.encrypt_string("not the key").unwrap();
    let (_, again) = request(
        Method::POST,
        &alice_s,
        &org("/reconcile-keys"),
        reconcile(json!([{"projectId": "prj_1", "accountId": carol_id, "encSymmetricKey": other}])),
    )
    .await;
    assert_eq!(
        again,
        json!({"created": 0, "skipped": 1}),
        "a key is never overwritten"
    );
    let (_, carols_keys) = request(Method::GET, &carol_s, &org("/my-project-keys"), None).await;
    let carols_key = carol
        .private
        .decrypt_string(carols_keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*carols_key, project_key);

    // 9. Declined, withdrawn and expired invitations go.
    let dave_invite = || {
        let body = invite(&dave_id, json!([]), json!(["member"]));
        request(Method::POST, &alice_s, &org("/invites"), Some(body))
    };
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, _) = request(
        Method::POST,
        &dave_s,
        &format!("/v1/user/invites/{id}/decline"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, _) = request(
        Method::DELETE,
        &alice_s,
        &org(&format!("/invites/{id}")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = request(
        Method::POST,
        &dave_s,
        &format!("/v1/user/invites/{id}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "withdrawn");
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{id}'"
    ))
    .await;
    let (_, daves) = request(Method::GET, &dave_s, "/v1/user/invites", None).await;
    assert_eq!(daves["invitations"], json!([]));
    let (status, _) = request(
        Method::POST,
        &dave_s,
        &format!("/v1/user/invites/{id}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired");
    let (status, _) = dave_invite().await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "an expired invitation does not block a new one"
    );

    // 10. A member may not invite; a non-member learns nothing.
    for (session, expected) in [
        (&carol_s, StatusCode::FORBIDDEN),
        (&dave_s, StatusCode::NOT_FOUND),
    ] {
        for (method, path, body) in [
            (
                Method::POST,
                org("/check-seats"),
                Some(json!({"emails": []})),
            ),
            (
                Method::POST,
                org("/invites/instructions"),
                Some(json!({"inviteeEmail": "dave@example.com"})),
            ),
            (
                Method::POST,
                org("/invites"),
                Some(invite(&dave_id, json!([]), json!(["member"]))),
            ),
            (Method::GET, org("/invites"), None),
        ] {
            let (status, answer) = request(method.clone(), session, &path, body).await;
            assert_eq!(status, expected, "{method} {path}: {answer}");
        }
    }
    for (method, path, body) in [
        (Method::GET, org("/my-project-keys"), None),
        (Method::POST, org("/reconcile-keys"), reconcile(json!([]))),
    ] {
        let (status, _) = request(method.clone(), &dave_s, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }

    // 11. The audit log tells who shared what with whom, never the keys.
    let (_, log) = request(Method::GET, &alice_s, &org("/audit-log?limit=100"), None).await;
    let text = log.to_string();
    for action in [
        "invitation.created",
        "invitation.role_changed",
        "invitation.accepted",
        "invitation.declined",
        "invitation.withdrawn",
        "project_keys.shared",
    ] {
        assert!(text.contains(action), "{action} missing from {log}");
    }
    for secret in [&for_bob, &for_carol, &other] {
        assert!(
            !text.contains(secret.as_str()),
            "key material in the audit log"
        );
    }
    // 12. Bob loses his passphrase: the reset takes his project keys, he stays a member, and a
    //     key holder re-shares to his new public key.
    let token = hypnos_server::admin::issue_reset_token(&server.config, &bob.email)
        .await
        .unwrap();
    let new_bob = User::new(&bob.email, "bob's new passphrase");
    let mut reset = new_bob.keys_body();
    reset["email"] = json!(bob.email);
    reset["token"] = json!(token);
    let (status, body) = post(&http, server.url("/auth/reset"), reset).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let new_bob_s = login(&server, &http, &new_bob.email, &new_bob.passphrase)
        .await
        .unwrap();
    let (_, keys) = request(Method::GET, &new_bob_s, &org("/my-project-keys"), None).await;
    assert_eq!(keys["projectKeys"], json!([]), "the reset took his keys");
    let (_, gaps) = request(Method::GET, &carol_s, &org("/my-project-keys"), None).await;
    assert_eq!(gaps["members"].as_array().unwrap().len(), 1, "{gaps}");
    assert_eq!(gaps["members"][0]["accountId"], bob_id.as_str());
    let new_public =
        RsaPublicKey::from_jwk_json(gaps["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let for_new_bob = new_public.encrypt_string(&carols_key).unwrap();
    let (_, done) = request(
        Method::POST,
        &carol_s,
        &org("/reconcile-keys"),
        reconcile(
            json!([{"projectId": "prj_1", "accountId": bob_id, "encSymmetricKey": for_new_bob}]),
        ),
    )
    .await;
    assert_eq!(done, json!({"created": 1, "skipped": 0}));
    let (_, keys) = request(Method::GET, &new_bob_s, &org("/my-project-keys"), None).await;
    let reopened = new_bob
        .private
        .decrypt_string(keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*reopened, project_key);
    server.stop().await;
}

common::on_both_backends!(invitations,);
