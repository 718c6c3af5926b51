//! Members and team projects: listed, paged, roles changed, removed.

use super::*;

common::on_both_backends!(members_and_team_projects,);

/// Members and team projects: paging and filtering, roles, removing and leaving (with the keys
/// and invitations a removal takes along), the owner who stays, and team projects whose ids are
/// tried through another organization's path.
async fn members_and_team_projects(db: common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let user = User::new(
            &format!("{name}@example.com"),
            &format!("{name}'s passphrase"),
        );
        let (ids, session) = sign_up_and_log_in(&server, &http, &user).await;
        users.push((ids.account_id, ids.personal_organization_id, session));
    }
    let [
        (alice, _, alice_s),
        (bob, bob_org, bob_s),
        (carol, _, carol_s),
        (dave, _, _),
    ] = <[_; 4]>::try_from(users).unwrap();
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
    db.execute(&format!(
        "INSERT INTO memberships (organization_id, account_id, role, created_at) VALUES \
         ('{team}', '{bob}', 'member', 0), ('{team}', '{carol}', 'admin', 0), \
         ('{team}', '{dave}', 'member', 0);"
    ))
    .await;
    let members = format!("/v1/organizations/{team}/members");

    // The list: by e-mail, paged, filtered (the filter is text, not a pattern).
    let (status, list) = request(Method::GET, &bob_s, &members, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 4);
    let emails = |list: &Value| -> Vec<String> {
        list["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["email"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        emails(&list),
        [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com"
        ]
    );
    assert_eq!(list["members"][0]["role_name"], "owner");
    assert_eq!(list["members"][0]["user_id"], alice.as_str());
    assert_eq!(list["members"][0]["name"], "Ada Lovelace");
    let (_, page) = request(
        Method::GET,
        &bob_s,
        &format!("{members}?per_page=2&page=1"),
        None,
    )
    .await;
    assert_eq!(emails(&page), ["carol@example.com", "dave@example.com"]);
    assert_eq!(
        (page["total"].clone(), page["start"].clone()),
        (json!(4), json!(2))
    );
    let (_, found) = request(Method::GET, &bob_s, &format!("{members}?email=CAR"), None).await;
    assert_eq!(emails(&found), ["carol@example.com"]);
    assert_eq!(found["total"], 1);
    let (_, none) = request(Method::GET, &bob_s, &format!("{members}?email=%25"), None).await;
    assert_eq!(none["total"], 0, "a % in the filter is a character: {none}");
    for bad in ["?per_page=0", "?per_page=101", "?page=first"] {
        let (status, _) = request(Method::GET, &bob_s, &format!("{members}{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Roles: an admin promotes and demotes; nobody becomes or un-becomes the owner.
    let role_of = |who: &str| format!("{members}/{who}/roles");
    let (_, alices) = request(Method::GET, &bob_s, &role_of(&alice), None).await;
    assert_eq!(alices["roleId"], "owner");
    assert!(alices["description"].is_string());
    let (status, now) = request(
        Method::PUT,
        &carol_s,
        &role_of(&bob),
        Some(json!({"roles": ["admin"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["name"], "admin");
    let (_, bobs) = request(Method::GET, &alice_s, &role_of(&bob), None).await;
    assert_eq!(bobs["roleId"], "admin");
    for (body, expected) in [
        (json!({"roles": ["owner"]}), StatusCode::BAD_REQUEST),
        (json!({"roles": []}), StatusCode::BAD_REQUEST),
        (
            json!({"roles": ["admin", "member"]}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"roles": ["boss"]}), StatusCode::BAD_REQUEST),
    ] {
        let (status, answer) =
            request(Method::PUT, &carol_s, &role_of(&bob), Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, answer) = request(
        Method::PUT,
        &carol_s,
        &role_of(&alice),
        Some(json!({"roles": ["member"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"], "OWNER_STAYS");
    let (status, _) = request(
        Method::PUT,
        &carol_s,
        &role_of("acct_nobody"),
        Some(json!({"roles": ["member"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = request(
        Method::PUT,
        &alice_s,
        &role_of(&bob),
        Some(json!({"roles": ["member"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Removing dave takes his project keys and the invitations to him along.
    db.execute(&format!(
        "INSERT INTO team_projects (organization_id, id, name, created_at) \
         VALUES ('{team}', 'proj_keys', 'Keys', 0); \
         INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
         created_at) VALUES ('{team}', 'prj_keys', 'proj_keys', 'P', 'wrk_1', 0); \
         INSERT INTO project_keys (organization_id, project_id, account_id, enc_symmetric_key, \
         created_at) VALUES ('{team}', 'prj_keys', '{dave}', 'k', 0), \
         ('{team}', 'prj_keys', '{alice}', 'k', 0); \
         INSERT INTO invitations (organization_id, id, invitee_account_id, inviter_account_id, \
         role, created_at, expires_at) VALUES ('{team}', 'inv_dave', '{dave}', '{alice}', \
         'admin', 0, 9999999999999);"
    ))
    .await;
    let (status, _) = request(Method::DELETE, &bob_s, &format!("{members}/{dave}"), None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a member cannot remove another"
    );
    let (status, _) = request(Method::DELETE, &carol_s, &format!("{members}/{dave}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let count = |sql: String| {
        let db = &db;
        async move { db.scalar(&sql).await }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{dave}'"
        ))
        .await,
        0
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{alice}'"
        ))
        .await,
        1,
        "the others' keys stay"
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM invitations WHERE invitee_account_id = '{dave}'"
        ))
        .await,
        0
    );
    let (status, _) = request(Method::DELETE, &carol_s, &format!("{members}/{dave}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already gone");

    // The owner stays: neither leaving nor removed. Bob leaves on his own.
    let (status, answer) = request(
        Method::DELETE,
        &alice_s,
        &format!("{members}/{alice}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"], "OWNER_STAYS");
    let (status, _) = request(
        Method::DELETE,
        &carol_s,
        &format!("{members}/{alice}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = request(Method::DELETE, &bob_s, &format!("{members}/{bob}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = request(Method::GET, &bob_s, &members, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob is no longer a member");
    let (_, log) = request(
        Method::GET,
        &alice_s,
        &format!("/v1/organizations/{team}/audit-log"),
        None,
    )
    .await;
    let actions: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..4],
        [
            "membership.left",
            "membership.removed",
            "membership.role_changed",
            "membership.role_changed"
        ]
    );
    assert_eq!(log["events"][0]["target"], bob.as_str());

    // Team projects: names checked, created, renamed, deleted with what they hold.
    let projects = format!("/v1/organizations/{team}/team-projects");
    for bad in [
        json!({"name": " "}),
        json!({}),
        json!({"name": "x".repeat(101)}),
    ] {
        let (status, _) = request(Method::POST, &carol_s, &projects, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, made) = request(
        Method::POST,
        &carol_s,
        &projects,
        Some(json!({"name": "Design"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["organizationId"], team.as_str());
    assert!(made["id"].as_str().unwrap().starts_with("proj_"));
    let design = made["id"].as_str().unwrap().to_owned();
    let (status, _) = request(
        Method::PATCH,
        &carol_s,
        &format!("{projects}/{design}"),
        Some(json!({"name": "Design system"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = request(Method::GET, &carol_s, &projects, None).await;
    assert_eq!(
        list,
        json!({"data": [{"id": "proj_keys", "name": "Keys"}, {"id": design, "name": "Design system"}]})
    );
    let (status, _) = request(
        Method::DELETE,
        &carol_s,
        &format!("{projects}/proj_keys"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM projects WHERE organization_id = '{team}'"
        ))
        .await,
        0,
        "the synced projects in it went too"
    );
    let (status, _) = request(
        Method::DELETE,
        &carol_s,
        &format!("{projects}/proj_keys"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another organization's team project, named through this organization's path: not found,
    // and untouched.
    let (_, bobs) = request(
        Method::POST,
        &bob_s,
        &format!("/v1/organizations/{bob_org}/team-projects"),
        Some(json!({"name": "Bob's"})),
    )
    .await;
    let bobs = bobs["id"].as_str().unwrap().to_owned();
    for (method, body) in [
        (Method::PATCH, Some(json!({"name": "Mine now"}))),
        (Method::DELETE, None),
    ] {
        let (status, _) = request(
            method.clone(),
            &alice_s,
            &format!("{projects}/{bobs}"),
            body,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (_, still) = request(
        Method::GET,
        &bob_s,
        &format!("/v1/organizations/{bob_org}/team-projects"),
        None,
    )
    .await;
    assert_eq!(still, json!({"data": [{"id": bobs, "name": "Bob's"}]}));
    server.stop().await;
}
