//! Remote files: deleted by the id the list gave, listed across every organization.

use super::*;

common::on_both_backends!(
    a_remote_file_is_deleted_by_the_id_the_list_gave,
    user_files_lists_the_files_of_every_organization,
);

async fn a_remote_file_is_deleted_by_the_id_the_list_gave(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let carol = app.actor("carol").await;
    let dave = app.actor("dave").await;
    let team = app.team(&alice, "Acme").await;
    let apis = alice.team_project(&team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = alice
        .create_project(&team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    alice
        .push(
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Bob, an admin, and carol, a member, join later: neither holds the project's key, and
    // neither has pulled it.
    app.join(&alice, &team, &bob, Role::Admin).await;
    app.join(&alice, &team, &carol, Role::Member).await;

    let listed = bob
        .data(
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await
        .unwrap();
    let id = listed["projects"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, project);
    let refused = bob.refused(PROJECT_KEY, json!({ "projectId": id })).await;
    assert!(
        refused.contains("invalid access"),
        "bob holds no key: {refused}"
    );

    // A non-member and a member without delete rights are refused, and nothing changes.
    for who in [&dave, &carol] {
        let refused = who.refused(ARCHIVE, json!({ "id": id })).await;
        assert!(refused.contains("invalid access"), "{refused}");
    }
    assert_eq!(count(&db, "projects").await, 1);
    assert_eq!(count(&db, "blobs").await, 1);

    // The admin deletes it by the listed id: the project and all it held go.
    let archived = bob.data(ARCHIVE, json!({ "id": id })).await.unwrap();
    assert_eq!(archived["projectArchive"], true);
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        assert_eq!(count(&db, table).await, 0, "{table}");
    }
    let gone = alice.data(PROJECT, json!({ "id": id })).await.unwrap();
    assert_eq!(gone["project"], Value::Null);
    let again = bob.refused(ARCHIVE, json!({ "id": id })).await;
    assert!(again.contains("invalid access"), "{again}");
    app.server.stop().await;
}

async fn user_files_lists_the_files_of_every_organization(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let dave = app.actor("dave").await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    let apis = alice.team_project(&team, "APIs").await;
    let (_, organizations) = bob.send(Method::GET, "/v1/organizations", None).await;
    let personal = organizations["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["metadata"]["organizationType"] == "personal")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drafts = bob.team_project(&personal, "Drafts").await;
    alice
        .create_project(
            &team,
            Some(&apis),
            "prj_00000000000000000000000000000001",
            "wrk_1",
            "Orders API",
        )
        .await;
    bob.create_project(
        &personal,
        Some(&drafts),
        "prj_00000000000000000000000000000002",
        "wrk_2",
        "Scratch",
    )
    .await;
    // Filed under no team project: the app could not pull it into one, so it is not offered.
    alice
        .create_project(
            &team,
            None,
            "prj_00000000000000000000000000000003",
            "wrk_3",
            "Loose",
        )
        .await;
    // Dave's file is his alone.
    let his = app.team(&dave, "Dave's").await;
    let his_under = dave.team_project(&his, "His").await;
    dave.create_project(
        &his,
        Some(&his_under),
        "prj_00000000000000000000000000000004",
        "wrk_4",
        "Private",
    )
    .await;

    let (status, files) = bob.send(Method::GET, "/v1/user/files", None).await;
    assert_eq!(status, StatusCode::OK, "{files}");
    let mut files: Vec<Value> = files.as_array().unwrap().clone();
    files.sort_by_key(|file| file["projectId"].as_str().unwrap().to_owned());
    assert_eq!(
        files,
        [
            json!({"id": "wrk_1", "name": "Orders API", "organizationId": team,
                   "teamProjectId": apis, "projectId": "prj_00000000000000000000000000000001"}),
            json!({"id": "wrk_2", "name": "Scratch", "organizationId": personal,
                   "teamProjectId": drafts, "projectId": "prj_00000000000000000000000000000002"}),
        ]
    );
    let (_, alices) = alice.send(Method::GET, "/v1/user/files", None).await;
    assert_eq!(alices.as_array().unwrap().len(), 1, "{alices}");
    let (_, daves) = dave.send(Method::GET, "/v1/user/files", None).await;
    assert_eq!(
        daves,
        json!([{"id": "wrk_4", "name": "Private", "organizationId": his,
                "teamProjectId": his_under, "projectId": "prj_00000000000000000000000000000004"}])
    );
    // A REST endpoint: a bad session is a 401.
    let (status, body) = app
        .send_as(&"0".repeat(64), Method::GET, "/v1/user/files", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    app.server.stop().await;
}
