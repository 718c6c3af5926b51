//! Remote files: deleted by the id the list gave, listed across every organization.

use super::*;

common::on_both_backends!(
    a_remote_file_is_deleted_by_the_id_the_list_gave,
    user_files_lists_the_files_of_every_organization,
);

async fn a_remote_file_is_deleted_by_the_id_the_list_gave(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let carol = world.person("carol@example.com").await;
    let dave = world.person("dave@example.com").await;
    let team = world.team(&alice, "Acme").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = world
        .create_project(&alice, &team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    world
        .push(
            &alice,
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Bob, an admin, and carol, a member, join later: neither holds the project's key, and
    // neither has pulled it.
    world.join(&alice, &team, &bob, "admin").await;
    world.join(&alice, &team, &carol, "member").await;

    let listed = world
        .gql(
            &bob,
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await
        .unwrap();
    let id = listed["projects"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, project);
    let refused = world
        .refused(&bob, PROJECT_KEY, json!({ "projectId": id }))
        .await;
    assert!(
        refused.contains("invalid access"),
        "bob holds no key: {refused}"
    );

    // A non-member and a member without delete rights are refused, and nothing changes.
    for who in [&dave, &carol] {
        let refused = world.refused(who, ARCHIVE, json!({ "id": id })).await;
        assert!(refused.contains("invalid access"), "{refused}");
    }
    assert_eq!(world.count("projects").await, 1);
    assert_eq!(world.count("blobs").await, 1);

    // The admin deletes it by the listed id: the project and all it held go.
    let archived = world.gql(&bob, ARCHIVE, json!({ "id": id })).await.unwrap();
    assert_eq!(archived["projectArchive"], true);
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        assert_eq!(world.count(table).await, 0, "{table}");
    }
    let gone = world
        .gql(&alice, PROJECT, json!({ "id": id }))
        .await
        .unwrap();
    assert_eq!(gone["project"], Value::Null);
    let again = world.refused(&bob, ARCHIVE, json!({ "id": id })).await;
    assert!(again.contains("invalid access"), "{again}");
    world.server.stop().await;
}

async fn user_files_lists_the_files_of_every_organization(db: common::TestDb) {
    let world = World::new(db).await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let dave = world.person("dave@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let (_, organizations) = world
        .rest(Method::GET, &bob, "/v1/organizations", None)
        .await;
    let personal = organizations["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|org| org["metadata"]["organizationType"] == "personal")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let drafts = world.team_project(&bob, &personal, "Drafts").await;
    world
        .create_project(
            &alice,
            &team,
            Some(&apis),
            "prj_00000000000000000000000000000001",
            "wrk_1",
            "Orders API",
        )
        .await;
    world
        .create_project(
            &bob,
            &personal,
            Some(&drafts),
            "prj_00000000000000000000000000000002",
            "wrk_2",
            "Scratch",
        )
        .await;
    // Filed under no team project: the app could not pull it into one, so it is not offered.
    world
        .create_project(
            &alice,
            &team,
            None,
            "prj_00000000000000000000000000000003",
            "wrk_3",
            "Loose",
        )
        .await;
    // Dave's file is his alone.
    let his = world.team(&dave, "Dave's").await;
    let his_under = world.team_project(&dave, &his, "His").await;
    world
        .create_project(
            &dave,
            &his,
            Some(&his_under),
            "prj_00000000000000000000000000000004",
            "wrk_4",
            "Private",
        )
        .await;

    let (status, files) = world.rest(Method::GET, &bob, "/v1/user/files", None).await;
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
    let (_, alices) = world
        .rest(Method::GET, &alice, "/v1/user/files", None)
        .await;
    assert_eq!(alices.as_array().unwrap().len(), 1, "{alices}");
    let (_, daves) = world.rest(Method::GET, &dave, "/v1/user/files", None).await;
    assert_eq!(
        daves,
        json!([{"id": "wrk_4", "name": "Private", "organizationId": his,
                "teamProjectId": his_under, "projectId": "prj_00000000000000000000000000000004"}])
    );
    // A REST endpoint: a bad session is a 401.
    let (status, body) = call(
        &world.http,
        Method::GET,
        world.server.url("/v1/user/files"),
        "0".repeat(64).as_str(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    world.server.stop().await;
}
