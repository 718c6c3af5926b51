//! Invitations and key sharing over real HTTP, on SQLite and on PostgreSQL, with real keys: the
//! inviter decrypts its project key and encrypts it to the invitee, who after accepting decrypts
//! the same key; a member lacking a key (after a reset, say) gets one through reconcile-keys.
//! Keys naming another organization's project, or a non-member, are refused and write nothing.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::app::TestApp;
use common::http::{post, users::User};
use hypnos_crypto::rsa::RsaPublicKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn invitations(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let [alice, bob, carol, dave] = app.actors(["alice", "bob", "carol", "dave"]).await;
    let team = app.team(&alice, "Acme").await;
    let org = |rest: &str| format!("/v1/organizations/{team}{rest}");
    let project_key =
        common::app::synced_project(&db, &team, "prj_1", &[(&alice.id, &alice.user)]).await;
    common::app::synced_project(&db, &team, "prj_nokey", &[]).await;
    common::app::synced_project(&db, &bob.personal, "prj_bobs", &[(&bob.id, &bob.user)]).await;

    // 1. Seats: no limit.
    let (status, seats) = alice
        .post(&org("/check-seats"), json!({"emails": ["bob@example.com"]}))
        .await;
    assert_eq!(
        (status, seats),
        (StatusCode::OK, json!({"isAllowed": true}))
    );

    // 2. Instructions: the invitee's id and public key; only existing non-members.
    let (status, how) = alice
        .post(
            &org("/invites/instructions"),
            json!({"inviteeEmail": "bob@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{how}");
    assert_eq!(how["inviteeId"], bob.id.as_str());
    assert_eq!(how["inviteeEmail"], "bob@example.com");
    let bob_public =
        RsaPublicKey::from_jwk_json(how["inviteePublicKey"].as_str().unwrap()).unwrap();
    for (email, expected) in [
        ("nobody@example.com", StatusCode::NOT_FOUND),
        ("alice@example.com", StatusCode::CONFLICT),
        ("not an e-mail", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = alice
            .post(
                &org("/invites/instructions"),
                json!({"inviteeEmail": email}),
            )
            .await;
        assert_eq!(status, expected, "{email}: {body}");
    }

    // 3. The inviter's own keys; nobody else is a member yet.
    let (status, mine) = alice.get(&org("/my-project-keys")).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["projectKeys"].as_array().unwrap().len(), 1);
    assert_eq!(mine["projectKeys"][0]["projectId"], "prj_1");
    assert_eq!(mine["members"], json!([]));
    let opened = alice
        .user
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
                &bob.id,
                json!([{"projectId": "prj_nokey", "encSymmetricKey": for_bob}]),
                json!(["admin"]),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            invite(
                &bob.id,
                json!([{"projectId": "prj_bobs", "encSymmetricKey": for_bob}]),
                json!(["admin"]),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            invite(
                &bob.id,
                json!([{"projectId": "prj_1", "encSymmetricKey": "abc"}]),
                json!(["admin"]),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            invite(&bob.id, json!([]), json!(["owner"])),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            invite(&alice.id, json!([]), json!(["member"])),
            StatusCode::CONFLICT,
            "ALREADY_MEMBER",
        ),
        (
            invite("acct_nobody", json!([]), json!(["member"])),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ] {
        let (status, answer) = alice.post(&org("/invites"), body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{answer}");
    }
    assert_eq!(db.scalar("SELECT COUNT(*) FROM invitations").await, 0);
    let (status, made) = alice
        .post(
            &org("/invites"),
            invite(
                &bob.id,
                json!([{"projectId": "prj_1", "encSymmetricKey": for_bob, "autoLinked": false}]),
                json!(["admin"]),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let bob_invitation = made["id"].as_str().unwrap().to_owned();
    let (status, again) = alice
        .post(
            &org("/invites"),
            invite(&bob.id, json!([]), json!(["member"])),
        )
        .await;
    assert_eq!(
        (status, again["error"].clone()),
        (StatusCode::CONFLICT, json!("ALREADY_INVITED"))
    );

    // 5. The organization's list, and changing the offered role.
    let (_, listed) = alice.get(&org("/invites")).await;
    assert_eq!(listed["invitations"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["invitations"][0]["invitee"]["email"],
        "bob@example.com"
    );
    assert_eq!(listed["invitations"][0]["inviter"]["name"], "Ada Lovelace");
    assert_eq!(listed["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = alice
        .patch(
            &org(&format!("/invites/{bob_invitation}")),
            json!({"roles": ["member"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // 6. The invitee's side; nobody else sees or takes it.
    let (_, bobs) = bob.get("/v1/user/invites").await;
    assert_eq!(bobs["invitations"].as_array().unwrap().len(), 1, "{bobs}");
    let shown = &bobs["invitations"][0];
    assert_eq!(shown["organizationId"], team.as_str());
    assert_eq!(shown["organizationName"], "Acme");
    assert_eq!(shown["inviter"]["email"], "alice@example.com");
    assert_eq!(shown["roles"], json!(["member"]));
    let (_, carols) = carol.get("/v1/user/invites").await;
    assert_eq!(carols["invitations"], json!([]));
    for action in ["accept", "decline"] {
        let (status, _) = carol
            .send(
                Method::POST,
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
    let (status, accepted) = bob
        .send(
            Method::POST,
            &format!("/v1/user/invites/{bob_invitation}/accept"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted, json!({"organizationId": team}));
    let (_, role) = bob.get(&org(&format!("/members/{}/roles", bob.id))).await;
    assert_eq!(role["roleId"], "member");
    let (_, bobs_keys) = bob.get(&org("/my-project-keys")).await;
    let bobs_key = bob
        .user
        .private
        .decrypt_string(bobs_keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*bobs_key, project_key);
    let (status, _) = bob
        .send(
            Method::POST,
            &format!("/v1/user/invites/{bob_invitation}/accept"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an invitation is used once");

    // 8. Carol joins without keys (as after a reset): the key holders see her gap and fill it.
    let (_, made) = alice
        .post(
            &org("/invites"),
            invite(&carol.id, json!([]), json!(["member"])),
        )
        .await;
    let carol_invitation = made["id"].as_str().unwrap().to_owned();
    let (status, _) = carol
        .send(
            Method::POST,
            &format!("/v1/user/invites/{carol_invitation}/accept"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, gaps) = bob.get(&org("/my-project-keys")).await;
    assert_eq!(gaps["members"].as_array().unwrap().len(), 1, "{gaps}");
    assert_eq!(gaps["members"][0]["accountId"], carol.id.as_str());
    assert_eq!(gaps["members"][0]["projectId"], "prj_1");
    let carol_public =
        RsaPublicKey::from_jwk_json(gaps["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let for_carol = carol_public.encrypt_string(&bobs_key).unwrap();
    let reconcile = |keys: Value| json!({ "keys": keys });
    for keys in [
        json!([{"projectId": "prj_1", "accountId": dave.id, "encSymmetricKey": for_carol}]),
        json!([{"projectId": "prj_nokey", "accountId": carol.id, "encSymmetricKey": for_carol}]),
        json!([{"projectId": "prj_bobs", "accountId": carol.id, "encSymmetricKey": for_carol}]),
    ] {
        let (status, answer) = bob
            .post(&org("/reconcile-keys"), reconcile(keys.clone()))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{keys}: {answer}");
        assert_eq!(answer["error"], "KEY_NOT_SHAREABLE");
    }
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{}'",
            carol.id
        ))
        .await,
        0,
        "refused keys are not written"
    );
    let key_for_carol =
        json!([{"projectId": "prj_1", "accountId": carol.id, "encSymmetricKey": for_carol}]);
    let (status, done) = bob
        .post(&org("/reconcile-keys"), reconcile(key_for_carol))
        .await;
    assert_eq!(
        (status, done),
        (StatusCode::OK, json!({"created": 1, "skipped": 0}))
    );
    let other = carol_public.encrypt_string("not the key").unwrap();
    let (_, again) = alice
        .post(
            &org("/reconcile-keys"),
            reconcile(
                json!([{"projectId": "prj_1", "accountId": carol.id, "encSymmetricKey": other}]),
            ),
        )
        .await;
    assert_eq!(
        again,
        json!({"created": 0, "skipped": 1}),
        "a key is never overwritten"
    );
    let (_, carols_keys) = carol.get(&org("/my-project-keys")).await;
    let carols_key = carol
        .user
        .private
        .decrypt_string(carols_keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*carols_key, project_key);

    // 9. Declined, withdrawn and expired invitations go.
    let invites = org("/invites");
    let dave_invite = || {
        let body = invite(&dave.id, json!([]), json!(["member"]));
        alice.post(&invites, body)
    };
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, _) = dave
        .send(
            Method::POST,
            &format!("/v1/user/invites/{id}/decline"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    let (status, _) = alice.delete(&org(&format!("/invites/{id}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = dave
        .send(Method::POST, &format!("/v1/user/invites/{id}/accept"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "withdrawn");
    let (_, made) = dave_invite().await;
    let id = made["id"].as_str().unwrap().to_owned();
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{id}'"
    ))
    .await;
    let (_, daves) = dave.get("/v1/user/invites").await;
    assert_eq!(daves["invitations"], json!([]));
    let (status, _) = dave
        .send(Method::POST, &format!("/v1/user/invites/{id}/accept"), None)
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
        (&carol, StatusCode::FORBIDDEN),
        (&dave, StatusCode::NOT_FOUND),
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
                Some(invite(&dave.id, json!([]), json!(["member"]))),
            ),
            (Method::GET, org("/invites"), None),
        ] {
            let (status, answer) = session.send(method.clone(), &path, body).await;
            assert_eq!(status, expected, "{method} {path}: {answer}");
        }
    }
    for (method, path, body) in [
        (Method::GET, org("/my-project-keys"), None),
        (
            Method::POST,
            org("/reconcile-keys"),
            Some(reconcile(json!([]))),
        ),
    ] {
        let (status, _) = dave.send(method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }

    // 11. The audit log tells who shared what with whom, never the keys.
    let (_, log) = alice.get(&org("/audit-log?limit=100")).await;
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
    let token = hypnos_server::admin::issue_reset_token(&app.server.config, &bob.user.email)
        .await
        .unwrap();
    let new_bob = User::new(&bob.user.email, "bob's new passphrase");
    let mut reset = new_bob.keys_body();
    reset["email"] = json!(bob.user.email);
    reset["token"] = json!(token);
    let (status, body) = post(&app.http, app.url("/auth/reset"), reset).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let new_bob = app.log_in_again(&bob, new_bob).await;
    let (_, keys) = new_bob.get(&org("/my-project-keys")).await;
    assert_eq!(keys["projectKeys"], json!([]), "the reset took his keys");
    let (_, gaps) = carol.get(&org("/my-project-keys")).await;
    assert_eq!(gaps["members"].as_array().unwrap().len(), 1, "{gaps}");
    assert_eq!(gaps["members"][0]["accountId"], bob.id.as_str());
    let new_public =
        RsaPublicKey::from_jwk_json(gaps["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let for_new_bob = new_public.encrypt_string(&carols_key).unwrap();
    let (_, done) = carol.post(&org("/reconcile-keys"), reconcile(
            json!([{"projectId": "prj_1", "accountId": bob.id, "encSymmetricKey": for_new_bob}]),
        ))
    .await;
    assert_eq!(done, json!({"created": 1, "skipped": 0}));
    let (_, keys) = new_bob.get(&org("/my-project-keys")).await;
    let reopened = new_bob
        .user
        .private
        .decrypt_string(keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*reopened, project_key);
}

common::on_both_backends!(invitations,);
