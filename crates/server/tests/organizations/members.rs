//! Members and team projects: listed, paged, roles changed, removed.

use super::*;

common::on_both_backends!(members_and_team_projects,);

/// Members and team projects: paging and filtering, roles, removing and leaving (with the keys
/// and invitations a removal takes along), the owner who stays, and team projects whose ids are
/// tried through another organization's path.
async fn members_and_team_projects(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let [alice, bob, carol, dave] = app.actors(["alice", "bob", "carol", "dave"]).await;
    let team = app.team(&alice, "Acme").await;
    for (member, role) in [
        (&bob, Role::Member),
        (&carol, Role::Admin),
        (&dave, Role::Member),
    ] {
        app.join(&alice, &team, member, role).await;
    }
    let (alice_id, bob_id, dave_id) = (&alice.id, &bob.id, &dave.id);
    let members = format!("/v1/organizations/{team}/members");

    // The list: by e-mail, paged, filtered (the filter is text, not a pattern).
    let (status, list) = bob.get(&members).await;
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
    assert_eq!(list["members"][0]["user_id"], alice.id.as_str());
    assert_eq!(list["members"][0]["name"], "Ada Lovelace");
    let (_, page) = bob.get(&format!("{members}?per_page=2&page=1")).await;
    assert_eq!(emails(&page), ["carol@example.com", "dave@example.com"]);
    assert_eq!(
        (page["total"].clone(), page["start"].clone()),
        (json!(4), json!(2))
    );
    let (_, found) = bob.get(&format!("{members}?email=CAR")).await;
    assert_eq!(emails(&found), ["carol@example.com"]);
    assert_eq!(found["total"], 1);
    let (_, none) = bob.get(&format!("{members}?email=%25")).await;
    assert_eq!(none["total"], 0, "a % in the filter is a character: {none}");
    for bad in ["?per_page=0", "?per_page=101", "?page=first"] {
        let (status, _) = bob.get(&format!("{members}{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Roles: an admin promotes and demotes; nobody becomes or un-becomes the owner.
    let role_of = |who: &str| format!("{members}/{who}/roles");
    let (_, alices) = bob.get(&role_of(&alice.id)).await;
    assert_eq!(alices["roleId"], "owner");
    assert!(alices["description"].is_string());
    let (status, now) = carol
        .put(&role_of(&bob.id), json!({"roles": ["admin"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["name"], "admin");
    let (_, bobs) = alice.get(&role_of(&bob.id)).await;
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
        let (status, answer) = carol.put(&role_of(&bob.id), body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    let (status, answer) = carol
        .put(&role_of(&alice.id), json!({"roles": ["member"]}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"], "OWNER_STAYS");
    let (status, _) = carol
        .put(&role_of("acct_nobody"), json!({"roles": ["member"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alice
        .put(&role_of(&bob.id), json!({"roles": ["member"]}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Removing dave takes his project keys and the invitations to him along.
    db.execute(&format!(
        "INSERT INTO team_projects (organization_id, id, name, created_at) \
         VALUES ('{team}', 'proj_keys', 'Keys', 0); \
         INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
         created_at) VALUES ('{team}', 'prj_keys', 'proj_keys', 'P', 'wrk_1', 0); \
         INSERT INTO project_keys (organization_id, project_id, account_id, enc_symmetric_key, \
         created_at) VALUES ('{team}', 'prj_keys', '{dave_id}', 'k', 0), \
         ('{team}', 'prj_keys', '{alice_id}', 'k', 0); \
         INSERT INTO invitations (organization_id, id, invitee_account_id, inviter_account_id, \
         role, created_at, expires_at) VALUES ('{team}', 'inv_dave', '{dave_id}', '{alice_id}', \
         'admin', 0, 9999999999999);"
    ))
    .await;
    let (status, _) = bob.delete(&format!("{members}/{dave_id}")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a member cannot remove another"
    );
    let (status, _) = carol.delete(&format!("{members}/{dave_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let count = |sql: String| {
        let db = &db;
        async move { db.scalar(&sql).await }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{dave_id}'"
        ))
        .await,
        0
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM project_keys WHERE account_id = '{alice_id}'"
        ))
        .await,
        1,
        "the others' keys stay"
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM invitations WHERE invitee_account_id = '{dave_id}'"
        ))
        .await,
        0
    );
    let (status, _) = carol.delete(&format!("{members}/{dave_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already gone");

    // The owner stays: neither leaving nor removed. Bob leaves on his own.
    let (status, answer) = alice.delete(&format!("{members}/{alice_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"], "OWNER_STAYS");
    let (status, _) = carol.delete(&format!("{members}/{alice_id}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = bob.delete(&format!("{members}/{bob_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = bob.get(&members).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob is no longer a member");
    let (_, log) = alice
        .get(&format!("/v1/organizations/{team}/audit-log"))
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
    assert_eq!(log["events"][0]["target"], bob.id.as_str());

    // Team projects: names checked, created, renamed, deleted with what they hold.
    let projects = format!("/v1/organizations/{team}/team-projects");
    for bad in [
        json!({"name": " "}),
        json!({}),
        json!({"name": "x".repeat(101)}),
    ] {
        let (status, _) = carol.post(&projects, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, made) = carol.post(&projects, json!({"name": "Design"})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["organizationId"], team.as_str());
    assert!(made["id"].as_str().unwrap().starts_with("proj_"));
    let design = made["id"].as_str().unwrap().to_owned();
    let (status, _) = carol
        .patch(
            &format!("{projects}/{design}"),
            json!({"name": "Design system"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = carol.get(&projects).await;
    assert_eq!(
        list,
        json!({"data": [{"id": "proj_keys", "name": "Keys"}, {"id": design, "name": "Design system"}]})
    );
    let (status, _) = carol.delete(&format!("{projects}/proj_keys")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM projects WHERE organization_id = '{team}'"
        ))
        .await,
        0,
        "the synced projects in it went too"
    );
    let (status, _) = carol.delete(&format!("{projects}/proj_keys")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another organization's team project, named through this organization's path: not found,
    // and untouched.
    let (_, bobs) = bob
        .post(
            &format!("/v1/organizations/{}/team-projects", bob.personal),
            json!({"name": "Bob's"}),
        )
        .await;
    let bobs = bobs["id"].as_str().unwrap().to_owned();
    for (method, body) in [
        (Method::PATCH, Some(json!({"name": "Mine now"}))),
        (Method::DELETE, None),
    ] {
        let (status, _) = alice
            .send(method.clone(), &format!("{projects}/{bobs}"), body)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    let (_, still) = bob
        .get(&format!("/v1/organizations/{}/team-projects", bob.personal))
        .await;
    assert_eq!(still, json!({"data": [{"id": bobs, "name": "Bob's"}]}));
}
