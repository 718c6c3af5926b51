//! finish-adding: its refusals, an invitation with the project key that the invitee opens, and
//! several invitations at once.

use hypnos_crypto::{
    jwk::SymmetricJwk,
    sync::{blob_content, blob_id, open_blob, seal_blob},
};

use super::*;

common::on_both_backends!(
    finish_adding_refusals_write_nothing,
    the_invitee_opens_the_project_key_and_the_owners_blob,
    three_invitations_at_once_and_an_admin_inviting_without_keys,
);

/// Refused shapes and rights, none of which writes anything.
async fn finish_adding_refusals_write_nothing(db: TestDb) {
    let acme = Acme::new(&db).await;
    let alice = &acme.alice;
    let [bob, carol, dave, zed] = acme.app.actors(["bob", "carol", "dave", "zed"]).await;
    acme.join(&carol, Role::Member).await;
    let for_bob = bob
        .user
        .private
        .public_key()
        .unwrap()
        .encrypt_string(&acme.project_key)
        .unwrap();
    common::app::synced_project(&db, &acme.team, "prj_nokey", &[]).await;
    common::app::synced_project(&db, &bob.personal, "prj_bobs", &[(&bob.id, &bob.user)]).await;
    let before = invitation_rows(&db).await;
    let refusals: Vec<(&Actor, Value, StatusCode, &str)> = vec![
        // A project of another organization, alone or beside a good invitation.
        (
            alice,
            finish(
                key(&bob.id, "prj_bobs", &for_bob),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            alice,
            {
                let mut keys = key(&bob.id, "prj_1", &for_bob);
                keys[dave.id.as_str()] =
                    key(&dave.id, "prj_bobs", &for_bob)[dave.id.as_str()].clone();
                finish(keys, json!([bob.id, dave.id]), json!("member"))
            },
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        // A project of this organization whose key the inviter does not hold.
        (
            alice,
            finish(
                key(&bob.id, "prj_nokey", &for_bob),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        // Bad shapes.
        (
            alice,
            finish(
                key(&bob.id, "prj_1", "abc"),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(
                json!({ bob.id.as_str(): { "prj_1": {"accountId": bob.id, "projectId": "prj_other", "encKey": for_bob} } }),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(
                key(&dave.id, "prj_1", &for_bob),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(json!({}), json!([bob.id, bob.id]), json!("member")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(json!({}), json!([]), json!("member")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(json!({}), json!([bob.id]), json!("owner")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            json!({"teamIds": ["team_1"], "keys": {}, "accountIds": [bob.id]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            json!({"keys": [], "accountIds": [bob.id]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            alice,
            finish(json!({}), json!(["acct_nobody"]), json!("member")),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        // Already a member (carol), alone or beside a good invitation.
        (
            alice,
            finish(json!({}), json!([bob.id, carol.id]), json!("member")),
            StatusCode::CONFLICT,
            "ALREADY_MEMBER",
        ),
        // A member may not invite; a non-member learns nothing.
        (
            &carol,
            finish(json!({}), json!([bob.id]), json!("member")),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            &zed,
            finish(json!({}), json!([bob.id]), json!("member")),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ];
    for (who, body, expected, code) in refusals {
        let (status, answer) = who.post(&acme.desk("/finish-adding"), body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{body}: {answer}");
        assert_eq!(invitation_rows(&db).await, before, "{body} wrote something");
    }
}

/// finish-adding invites bob with the key encrypted to him (start-adding then refuses him; the
/// 10.x list shows the invitation); bob accepts, decrypts the project key with his own private
/// key and with it reads a blob the owner pushed through the sync API.
async fn the_invitee_opens_the_project_key_and_the_owners_blob(db: TestDb) {
    let acme = Acme::new(&db).await;
    let alice = &acme.alice;
    let bob = acme.app.actor("bob").await;
    let before = invitation_rows(&db).await;
    acme.add_newest(alice, &[&bob], "member").await;
    assert_eq!(invitation_rows(&db).await, (before.0 + 1, before.1 + 1));
    let (status, again) = alice
        .post(
            &acme.desk("/start-adding"),
            json!({"teamIds": [], "emails": ["bob@example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"], "ALREADY_INVITED");
    assert!(
        again["message"]
            .as_str()
            .unwrap()
            .contains("bob@example.com")
    );

    // The 10.x list shows the invitation the newest app made.
    let (_, old_list) = alice.get(&acme.org("/invites")).await;
    assert_eq!(
        old_list["invitations"][0]["invitee"]["email"],
        "bob@example.com"
    );
    assert_eq!(old_list["invitations"][0]["roles"], json!(["member"]));

    let (_, bobs) = bob.get("/v1/user/invites").await;
    assert_eq!(bobs["invitations"].as_array().unwrap().len(), 1, "{bobs}");
    let invitation = bobs["invitations"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bobs["invitations"][0]["organizationId"], acme.team.as_str());
    let (status, accepted) = accept(&bob, &invitation).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let (_, role) = bob
        .get(&acme.org(&format!("/members/{}/roles", bob.id)))
        .await;
    assert_eq!(role["roleId"], "member");
    let bobs_key = opened_key(&acme, &bob).await;
    assert_eq!(bobs_key, acme.project_key);

    //    With it he reads a blob the owner pushed through the sync API.
    let owners_key = SymmetricJwk::from_json(&acme.project_key).unwrap().key();
    let content = blob_content(&json!({"_id": "req_1", "type": "Request", "name": "Get"}));
    let id = blob_id(&content);
    let (status, uploaded) = alice
        .gql(
            "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }",
            json!({"project": "prj_1", "blobs": [{"id": id, "content": seal_blob(&owners_key, &content).unwrap()}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["data"]["blobsCreate"]["count"], 1, "{uploaded}");
    let (_, pulled) = bob
        .gql(
            "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }",
            json!({"ids": [id], "project": "prj_1"}),
        )
        .await;
    let bobs_aes = SymmetricJwk::from_json(&bobs_key).unwrap().key();
    assert_eq!(
        open_blob(
            &bobs_aes,
            pulled["data"]["blobs"][0]["content"].as_str().unwrap(),
            1 << 20
        )
        .unwrap(),
        content
    );
}

/// Three invitations at once, one transaction: dave, erin, frank as admins, keys for all; dave
/// accepts and opens the key. The admin then invites gina the newest way without keys (it sends
/// `{}`), at the app's default role, with no roleId at all.
async fn three_invitations_at_once_and_an_admin_inviting_without_keys(db: TestDb) {
    let acme = Acme::new(&db).await;
    let [dave, erin, frank, gina] = acme.app.actors(["dave", "erin", "frank", "gina"]).await;
    acme.add_newest(&acme.alice, &[&dave, &erin, &frank], "admin")
        .await;
    let (_, erins) = erin.get("/v1/user/invites").await;
    assert_eq!(
        erins["invitations"][0]["organizationName"], "Acme",
        "{erins}"
    );
    let (_, daves) = dave.get("/v1/user/invites").await;
    let dave_invitation = daves["invitations"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(daves["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = accept(&dave, &dave_invitation).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(opened_key(&acme, &dave).await, acme.project_key);

    let (_, gina_entry) = dave
        .post(
            &acme.desk("/start-adding"),
            json!({"teamIds": [], "emails": ["gina@example.com"]}),
        )
        .await;
    assert!(gina_entry[gina.id.as_str()].is_object(), "{gina_entry}");
    let (status, _) = dave
        .post(
            &acme.desk("/finish-adding"),
            json!({"teamIds": [], "keys": {}, "accountIds": [gina.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, ginas) = gina.get("/v1/user/invites").await;
    assert_eq!(
        ginas["invitations"][0]["roles"],
        json!(["member"]),
        "{ginas}"
    );
}
