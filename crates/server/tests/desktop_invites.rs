//! The newest app's team and invite flow (insomnia-wire-newer.md §4) over real HTTP, on SQLite
//! and on PostgreSQL, with real keys, beside the 10.x flow on the same data.
//!
//! The owner invites as the app's invite form does: check-seats, start-adding (the invitee's
//! public key), my-project-keys (it decrypts its own project key), reconcile-keys (a member who
//! lacks the key gets it), finish-adding (the key re-encrypted to the invitee). The invitee
//! accepts and decrypts the project key from its own key, and with it a blob the owner pushed.
//! Then the collaborator list (paging, filter, who sees invitations), the search (the
//! organization's people only), unlink (a member, an invitation), reinvite (an expired
//! invitation lives again), and refusals that write nothing.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::http::{
    TestServer, call,
    users::{User, sign_up_and_log_in},
};
use hypnos_crypto::{
    jwk::SymmetricJwk,
    rsa::RsaPublicKey,
    sync::{blob_content, blob_id, open_blob, seal_blob},
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// Someone who signed up and logged in.
struct Person {
    user: User,
    id: String,
    personal: String,
    session: String,
}

/// What the invitation tables hold, to show that a refusal wrote nothing.
async fn invitation_rows(db: &common::TestDb) -> (i64, i64) {
    (
        db.scalar("SELECT COUNT(*) FROM invitations").await,
        db.scalar("SELECT COUNT(*) FROM invitation_keys").await,
    )
}

async fn desktop_invites(db: common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let mut people = Vec::new();
    for name in [
        "alice", "bob", "carol", "dave", "erin", "frank", "gina", "zed",
    ] {
        let user = User::new(
            &format!("{name}@example.com"),
            &format!("{name}'s passphrase"),
        );
        let (ids, session) = sign_up_and_log_in(&server, &http, &user).await;
        people.push(Person {
            user,
            id: ids.account_id,
            personal: ids.personal_organization_id,
            session,
        });
    }
    let [alice, bob, carol, dave, erin, frank, gina, zed] = <[Person; 8]>::try_from(people)
        .map_err(|_| "eight people")
        .unwrap();
    let request = |method: Method, who: &Person, path: &str, body: Option<Value>| {
        let (session, url, http) = (who.session.clone(), server.url(path), &http);
        async move { call(http, method, url, &session, body).await }
    };
    let (_, team) = request(
        Method::POST,
        &alice,
        "/v1/organizations",
        Some(json!({"name": "Acme"})),
    )
    .await;
    let team = team["id"].as_str().unwrap().to_owned();
    let org = |rest: &str| format!("/v1/organizations/{team}{rest}");
    let desk = |rest: &str| format!("/v1/desktop/organizations/{team}/collaborators{rest}");
    let project_key =
        common::app::synced_project(&db, &team, "prj_1", &[(&alice.id, &alice.user)]).await;

    // 0. The 10.x flow, on the same tables: carol is invited without keys and accepts, so she
    //    is a member lacking the project key.
    let (status, how) = request(
        Method::POST,
        &alice,
        &org("/invites/instructions"),
        Some(json!({"inviteeEmail": "carol@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{how}");
    let (status, made) = request(
        Method::POST,
        &alice,
        &org("/invites"),
        Some(json!({"inviteeId": carol.id, "inviteKeys": [], "roles": ["member"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let carol_invitation = made["id"].as_str().unwrap().to_owned();
    let (_, listed) = request(Method::GET, &alice, &desk("?per_page=25&page=0"), None).await;
    let shown = listed["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "invite")
        .unwrap()
        .clone();
    assert_eq!(shown["id"], carol_invitation.as_str(), "{listed}");
    assert_eq!(shown["metadata"]["invitationId"], carol_invitation.as_str());
    assert_eq!(shown["metadata"]["email"], "carol@example.com");
    assert_eq!(shown["metadata"]["roleId"], "member");
    assert_eq!(shown["name"], "carol@example.com");
    let (status, _) = request(
        Method::POST,
        &carol,
        &format!("/v1/user/invites/{carol_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // 1. The newest app's invite, step by step. Seats: the app probes with a random address.
    let (status, seats) = request(
        Method::POST,
        &alice,
        &org("/check-seats"),
        Some(json!({"emails": ["insomnia-mock-check-seats-1b0e@example.net"]})),
    )
    .await;
    assert_eq!(
        (status, seats),
        (StatusCode::OK, json!({"isAllowed": true}))
    );

    // 2. start-adding: the invitee's account id and public key, keyed by account id. The app
    //    sends addresses as typed (trimmed, not lower-cased).
    let (status, instructions) = request(
        Method::POST,
        &alice,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["Bob@Example.com"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{instructions}");
    let entries = instructions.as_object().unwrap();
    assert_eq!(entries.len(), 1, "{instructions}");
    let bob_entry = &instructions[bob.id.as_str()];
    assert_eq!(bob_entry["accountId"], bob.id.as_str());
    assert_eq!(bob_entry["autoLinked"], false);
    let bob_public = RsaPublicKey::from_jwk_json(bob_entry["publicKey"].as_str().unwrap()).unwrap();

    // 3. my-project-keys: the owner's key, and carol who lacks it.
    let (status, mine) = request(Method::GET, &alice, &org("/my-project-keys"), None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["projectKeys"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["projectKeys"][0]["projectId"], "prj_1");
    let opened = alice
        .user
        .private
        .decrypt_string(mine["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*opened, project_key);
    assert_eq!(mine["members"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["members"][0]["accountId"], carol.id.as_str());

    // 4. reconcile-keys for carol, as the app does before finishing.
    let carol_public =
        RsaPublicKey::from_jwk_json(mine["members"][0]["publicKey"].as_str().unwrap()).unwrap();
    let (status, reconciled) = request(
        Method::POST,
        &alice,
        &org("/reconcile-keys"),
        Some(json!({"keys": [{
            "projectId": "prj_1",
            "accountId": carol.id,
            "encSymmetricKey": carol_public.encrypt_string(&opened).unwrap(),
        }]})),
    )
    .await;
    assert_eq!(
        (status, reconciled),
        (StatusCode::OK, json!({"created": 1, "skipped": 0}))
    );

    // 5. finish-adding: refused shapes and rights first, none of which writes anything.
    let for_bob = bob_public.encrypt_string(&opened).unwrap();
    let key = |account: &str, project: &str, enc: &str| json!({ account: { project: {"accountId": account, "projectId": project, "encKey": enc} } });
    let finish = |keys: Value, accounts: Value, role: Value| json!({"teamIds": [], "keys": keys, "accountIds": accounts, "roleId": role});
    common::app::synced_project(&db, &team, "prj_nokey", &[]).await;
    common::app::synced_project(&db, &bob.personal, "prj_bobs", &[(&bob.id, &bob.user)]).await;
    let before = invitation_rows(&db).await;
    let refusals: Vec<(&Person, Value, StatusCode, &str)> = vec![
        // A project of another organization, alone or beside a good invitation.
        (
            &alice,
            finish(
                key(&bob.id, "prj_bobs", &for_bob),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::CONFLICT,
            "KEY_NOT_SHAREABLE",
        ),
        (
            &alice,
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
            &alice,
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
            &alice,
            finish(
                key(&bob.id, "prj_1", "abc"),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(
                json!({ bob.id.as_str(): { "prj_1": {"accountId": bob.id, "projectId": "prj_other", "encKey": for_bob} } }),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(
                key(&dave.id, "prj_1", &for_bob),
                json!([bob.id]),
                json!("member"),
            ),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(json!({}), json!([bob.id, bob.id]), json!("member")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(json!({}), json!([]), json!("member")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(json!({}), json!([bob.id]), json!("owner")),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            json!({"teamIds": ["team_1"], "keys": {}, "accountIds": [bob.id]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            json!({"keys": [], "accountIds": [bob.id]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            finish(json!({}), json!(["acct_nobody"]), json!("member")),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        // Already a member (carol), alone or beside a good invitation.
        (
            &alice,
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
        let (status, answer) = request(
            Method::POST,
            who,
            &desk("/finish-adding"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{body}: {answer}");
        assert_eq!(invitation_rows(&db).await, before, "{body} wrote something");
    }

    let (status, done) = request(
        Method::POST,
        &alice,
        &desk("/finish-adding"),
        Some(finish(
            key(&bob.id, "prj_1", &for_bob),
            json!([bob.id]),
            json!("member"),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{done}");
    assert_eq!(invitation_rows(&db).await, (before.0 + 1, before.1 + 1));
    let (status, again) = request(
        Method::POST,
        &alice,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["bob@example.com"]})),
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
    let (_, old_list) = request(Method::GET, &alice, &org("/invites"), None).await;
    assert_eq!(
        old_list["invitations"][0]["invitee"]["email"],
        "bob@example.com"
    );
    assert_eq!(old_list["invitations"][0]["roles"], json!(["member"]));

    // 6. Bob accepts and decrypts the project key with his own private key.
    let (_, bobs) = request(Method::GET, &bob, "/v1/user/invites", None).await;
    assert_eq!(bobs["invitations"].as_array().unwrap().len(), 1, "{bobs}");
    let invitation = bobs["invitations"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bobs["invitations"][0]["organizationId"], team.as_str());
    let (status, accepted) = request(
        Method::POST,
        &bob,
        &format!("/v1/user/invites/{invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let (_, role) = request(
        Method::GET,
        &bob,
        &org(&format!("/members/{}/roles", bob.id)),
        None,
    )
    .await;
    assert_eq!(role["roleId"], "member");
    let (_, bobs_keys) = request(Method::GET, &bob, &org("/my-project-keys"), None).await;
    assert_eq!(bobs_keys["projectKeys"][0]["projectId"], "prj_1");
    let bobs_key = bob
        .user
        .private
        .decrypt_string(bobs_keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(*bobs_key, project_key);

    //    With it he reads a blob the owner pushed through the sync API.
    let owners_key = SymmetricJwk::from_json(&opened).unwrap().key();
    let content = blob_content(&json!({"_id": "req_1", "type": "Request", "name": "Get"}));
    let id = blob_id(&content);
    let gql = |who: &Person, query: &str, variables: Value| {
        let body = json!({"query": query, "variables": variables});
        request(Method::POST, who, "/graphql?op", Some(body))
    };
    let (status, uploaded) = gql(
        &alice,
        "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }",
        json!({"project": "prj_1", "blobs": [{"id": id, "content": seal_blob(&owners_key, &content).unwrap()}]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    assert_eq!(uploaded["data"]["blobsCreate"]["count"], 1, "{uploaded}");
    let (_, pulled) = gql(
        &bob,
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

    // 7. start-adding's refusals: unknown addresses named with where to sign up, members,
    //    groups, bad addresses, too many at once, rights.
    let before = invitation_rows(&db).await;
    let (status, unknown) = request(
        Method::POST,
        &alice,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["frank@example.com", "nobody@example.org"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{unknown}");
    assert_eq!(unknown["error"], "NO_ACCOUNT");
    let message = unknown["message"].as_str().unwrap();
    assert!(message.contains("nobody@example.org"), "{message}");
    assert!(!message.contains("frank@example.com"), "{message}");
    assert!(message.contains("sign up"), "{message}");
    let too_many: Vec<String> = (0..=server.config.invite_lookup_rate)
        .map(|n| format!("person{n}@example.com"))
        .collect();
    for (who, body, expected, code) in [
        (
            &alice,
            json!({"teamIds": [], "emails": ["carol@example.com", "frank@example.com"]}),
            StatusCode::CONFLICT,
            "ALREADY_MEMBER",
        ),
        (
            &alice,
            json!({"teamIds": ["team_1"], "emails": ["frank@example.com"]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            json!({"teamIds": [], "emails": []}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            json!({"teamIds": [], "emails": ["not an e-mail"]}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &alice,
            json!({"teamIds": [], "emails": too_many}),
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
        ),
        (
            &carol,
            json!({"teamIds": [], "emails": ["frank@example.com"]}),
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
        ),
        (
            &zed,
            json!({"teamIds": [], "emails": ["frank@example.com"]}),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
    ] {
        let (status, answer) = request(
            Method::POST,
            who,
            &desk("/start-adding"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert_eq!(answer["error"], code, "{body}: {answer}");
    }
    let (_, members_message) = request(
        Method::POST,
        &alice,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["carol@example.com"]})),
    )
    .await;
    assert!(
        members_message["message"]
            .as_str()
            .unwrap()
            .contains("carol@example.com")
    );
    assert_eq!(invitation_rows(&db).await, before);

    // 8. Three invitations at once, one transaction: dave (admin), erin, frank, keys for all.
    let (status, three) = request(
        Method::POST,
        &alice,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["dave@example.com", "erin@example.com", "frank@example.com"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{three}");
    let mut keys = json!({});
    let mut accounts = Vec::new();
    for (account, entry) in three.as_object().unwrap() {
        let public = RsaPublicKey::from_jwk_json(entry["publicKey"].as_str().unwrap()).unwrap();
        keys[account.as_str()] = key(account, "prj_1", &public.encrypt_string(&opened).unwrap())
            [account.as_str()]
        .clone();
        accounts.push(account.clone());
    }
    assert_eq!(accounts.len(), 3);
    let (status, _) = request(
        Method::POST,
        &alice,
        &desk("/finish-adding"),
        Some(finish(keys, json!(accounts), json!("admin"))),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, erins) = request(Method::GET, &erin, "/v1/user/invites", None).await;
    assert_eq!(
        erins["invitations"][0]["organizationName"], "Acme",
        "{erins}"
    );
    let (_, daves) = request(Method::GET, &dave, "/v1/user/invites", None).await;
    let dave_invitation = daves["invitations"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(daves["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = request(
        Method::POST,
        &dave,
        &format!("/v1/user/invites/{dave_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, daves_keys) = request(Method::GET, &dave, &org("/my-project-keys"), None).await;
    assert_eq!(
        *dave
            .user
            .private
            .decrypt_string(daves_keys["projectKeys"][0]["encKey"].as_str().unwrap())
            .unwrap(),
        project_key
    );
    //    The admin invites gina through the newest flow, without keys (it sends `{}`), at the
    //    app's default role, with no roleId at all.
    let (_, gina_entry) = request(
        Method::POST,
        &dave,
        &desk("/start-adding"),
        Some(json!({"teamIds": [], "emails": ["gina@example.com"]})),
    )
    .await;
    assert!(gina_entry[gina.id.as_str()].is_object(), "{gina_entry}");
    let (status, _) = request(
        Method::POST,
        &dave,
        &desk("/finish-adding"),
        Some(json!({"teamIds": [], "keys": {}, "accountIds": [gina.id]})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // 9. The collaborator list: members (alice, bob, carol, dave) by e-mail, then invitations
    //    (erin, frank, gina); pages from 0 as the app counts; `next` is the next page's path.
    let (status, page0) = request(Method::GET, &alice, &desk("?per_page=3&page=0"), None).await;
    assert_eq!(status, StatusCode::OK, "{page0}");
    assert_eq!(
        (
            &page0["start"],
            &page0["limit"],
            &page0["length"],
            &page0["total"]
        ),
        (&json!(0), &json!(3), &json!(3), &json!(7)),
        "{page0}"
    );
    assert_eq!(
        page0["next"],
        format!("/v1/desktop/organizations/{team}/collaborators?per_page=3&page=1")
    );
    let first = &page0["collaborators"][0];
    assert_eq!(first["id"], alice.id.as_str());
    assert_eq!(first["type"], "member");
    assert_eq!(first["name"], "Ada Lovelace");
    assert_eq!(first["picture"], "");
    assert_eq!(first["metadata"]["userId"], alice.id.as_str());
    assert_eq!(first["metadata"]["roleId"], "owner");
    assert_eq!(first["metadata"]["email"], "alice@example.com");
    assert!(first["metadata"].get("invitationId").is_none(), "{first}");
    assert!(first["createdAt"].as_str().unwrap().ends_with('Z'));
    let mut seen = Vec::new();
    for page in 0..3 {
        let (_, listed) = request(
            Method::GET,
            &alice,
            &desk(&format!("?per_page=3&page={page}")),
            None,
        )
        .await;
        for c in listed["collaborators"].as_array().unwrap() {
            seen.push((
                c["type"].as_str().unwrap().to_owned(),
                c["metadata"]["email"].as_str().unwrap().to_owned(),
            ));
        }
        if page == 2 {
            assert_eq!(listed["next"], "", "the last page");
            assert_eq!(listed["length"], 1);
        }
    }
    let expected: Vec<(String, String)> = [
        ("member", "alice"),
        ("member", "bob"),
        ("member", "carol"),
        ("member", "dave"),
        ("invite", "erin"),
        ("invite", "frank"),
        ("invite", "gina"),
    ]
    .iter()
    .map(|(kind, name)| ((*kind).to_owned(), format!("{name}@example.com")))
    .collect();
    assert_eq!(seen, expected);
    let (_, filtered) = request(
        Method::GET,
        &alice,
        &desk("?per_page=25&page=0&filter=FRANK"),
        None,
    )
    .await;
    assert_eq!(filtered["total"], 1, "{filtered}");
    let frank_shown = &filtered["collaborators"][0];
    assert_eq!(frank_shown["type"], "invite");
    assert_eq!(frank_shown["metadata"]["roleId"], "admin");
    let frank_invitation = frank_shown["metadata"]["invitationId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(frank_shown["id"], frank_invitation.as_str());
    assert!(frank_shown["metadata"]["expiresAt"].as_str().is_some());
    for (filter, total) in [
        ("lovelace", 4),
        ("ada%20love", 4),
        ("example.com", 7),
        ("%25", 0),
        // The newest app's filter arrives percent-encoded once more.
        ("bob%2540example.com", 1),
        ("ada%2520love", 4),
        ("_", 0),
        ("nobody", 0),
    ] {
        let (_, filtered) = request(
            Method::GET,
            &alice,
            &desk(&format!("?per_page=25&filter={filter}")),
            None,
        )
        .await;
        assert_eq!(filtered["total"], total, "{filter}: {filtered}");
    }
    //    A member sees the members, not the invitations (it may not read them).
    let (_, carols_view) = request(Method::GET, &carol, &desk("?per_page=25"), None).await;
    assert_eq!(carols_view["total"], 4, "{carols_view}");
    assert!(
        carols_view["collaborators"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"] == "member")
    );
    let long_filter = format!("?filter={}", "a".repeat(255));
    for (query, expected) in [
        ("?per_page=0", StatusCode::BAD_REQUEST),
        ("?per_page=101", StatusCode::BAD_REQUEST),
        ("?per_page=abc", StatusCode::BAD_REQUEST),
        ("?page=-1", StatusCode::BAD_REQUEST),
        (long_filter.as_str(), StatusCode::BAD_REQUEST),
        ("?page=1000000", StatusCode::OK),
    ] {
        let (status, answer) = request(Method::GET, &alice, &desk(query), None).await;
        assert_eq!(status, expected, "{query}: {answer}");
    }
    let (status, _) = request(Method::GET, &zed, &desk("?per_page=25"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");

    // 10. Search: the organization's members and invitations, the e-mail as the name; never
    //     another account of the server, even by its exact e-mail.
    let (status, found) = request(Method::GET, &alice, &desk("/search/frank"), None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found,
        json!([{"id": frank_invitation, "picture": "", "type": "invite", "name": "frank@example.com"}])
    );
    let (_, found) = request(Method::GET, &alice, &desk("/search/Lovelace"), None).await;
    assert_eq!(found.as_array().unwrap().len(), 4, "{found}");
    assert_eq!(found[0]["name"], "alice@example.com");
    assert_eq!(found[0]["type"], "member");
    let (_, found) = request(Method::GET, &alice, &desk("/search/zed@example.com"), None).await;
    assert_eq!(found, json!([]), "not a member: not found");
    let (_, found) = request(Method::GET, &carol, &desk("/search/frank"), None).await;
    assert_eq!(found, json!([]), "a member does not see invitations");
    let (status, _) = request(
        Method::GET,
        &alice,
        &desk(&format!("/search/{}", "a".repeat(255))),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = request(Method::GET, &alice, &desk("/search/%20"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = request(Method::GET, &zed, &desk("/search/alice"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // 11. Reinvite: an expired invitation is listed as such, then lives again.
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{frank_invitation}'"
    ))
    .await;
    let (_, franks) = request(Method::GET, &frank, "/v1/user/invites", None).await;
    assert_eq!(franks["invitations"], json!([]), "expired");
    let (_, listed) = request(Method::GET, &alice, &desk("?filter=frank"), None).await;
    assert_eq!(
        listed["collaborators"][0]["metadata"]["expiresAt"], "1970-01-01T00:00:00.000Z",
        "the app shows it as expired, with a Resend button"
    );
    let reinvite = format!("/invites/{frank_invitation}/reinvite");
    for (who, expected) in [
        (&carol, StatusCode::FORBIDDEN),
        (&zed, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = request(Method::POST, who, &org(&reinvite), None).await;
        assert_eq!(status, expected);
    }
    let (status, _) = request(
        Method::POST,
        &alice,
        &org("/invites/inv_nothing/reinvite"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = request(Method::POST, &alice, &org(&reinvite), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, franks) = request(Method::GET, &frank, "/v1/user/invites", None).await;
    assert_eq!(franks["invitations"][0]["id"], frank_invitation.as_str());
    assert_eq!(franks["invitations"][0]["roles"], json!(["admin"]));
    let (status, _) = request(
        Method::POST,
        &frank,
        &format!("/v1/user/invites/{frank_invitation}/accept"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, franks_keys) = request(Method::GET, &frank, &org("/my-project-keys"), None).await;
    assert_eq!(
        *frank
            .user
            .private
            .decrypt_string(franks_keys["projectKeys"][0]["encKey"].as_str().unwrap())
            .unwrap(),
        project_key,
        "the renewed invitation kept its key"
    );

    // 12. Unlink: an invitation (gina's) and a member (carol), by the ids the list hands out,
    //     with the 10.x endpoints' rights and rules.
    let (_, listed) = request(Method::GET, &alice, &desk("?filter=gina"), None).await;
    let gina_collaborator = listed["collaborators"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unlink = |id: &str| desk(&format!("/{id}/unlink"));
    for (who, id, expected) in [
        (&carol, gina_collaborator.as_str(), StatusCode::FORBIDDEN),
        (&carol, bob.id.as_str(), StatusCode::FORBIDDEN),
        (&zed, gina_collaborator.as_str(), StatusCode::NOT_FOUND),
        (&alice, alice.id.as_str(), StatusCode::CONFLICT),
        (&alice, "inv_nothing", StatusCode::NOT_FOUND),
        (&alice, zed.id.as_str(), StatusCode::NOT_FOUND),
        (&alice, "not%20an%20id", StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) = request(Method::DELETE, who, &unlink(id), None).await;
        assert_eq!(status, expected, "{id}: {answer}");
    }
    let (status, _) = request(Method::DELETE, &alice, &unlink(&gina_collaborator), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, ginas) = request(Method::GET, &gina, "/v1/user/invites", None).await;
    assert_eq!(ginas["invitations"], json!([]), "withdrawn");
    let (status, _) = request(Method::DELETE, &dave, &unlink(&carol.id), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an admin removes a member");
    let (status, _) = request(Method::GET, &carol, &desk("?per_page=25"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "carol is no longer a member");
    let (_, listed) = request(Method::GET, &alice, &desk("?per_page=25"), None).await;
    let left: Vec<&str> = listed["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["metadata"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        left,
        [
            "alice@example.com",
            "bob@example.com",
            "dave@example.com",
            "frank@example.com",
            "erin@example.com",
        ],
        "members (frank now too), then erin's invitation"
    );

    // 13. The audit log records the new actions as the 10.x ones, never a key.
    let (_, log) = request(Method::GET, &alice, &org("/audit-log?limit=100"), None).await;
    let text = log.to_string();
    for action in [
        "invitation.created",
        "invitation.accepted",
        "invitation.renewed",
        "invitation.withdrawn",
        "membership.removed",
        "project_keys.shared",
    ] {
        assert!(text.contains(action), "{action} missing from {log}");
    }
    assert!(!text.contains(&for_bob), "key material in the audit log");
    server.stop().await;
}

common::on_both_backends!(desktop_invites,);
