//! Team projects as the newest app lists them, and branch names with a slash.

use super::*;

common::on_both_backends!(
    newest_projects_query_lists_every_team_project,
    a_branch_with_a_slash_is_pushed_listed_read_and_removed,
);

async fn newest_projects_query_lists_every_team_project(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    let apis = alice.team_project(&team, "APIs").await;
    let tools = alice.team_project(&team, "Tools").await;
    let first = "prj_00000000000000000000000000000001";
    let second = "prj_00000000000000000000000000000002";
    alice
        .create_project(&team, Some(&apis), first, "wrk_1", "Orders API")
        .await;
    bob.create_project(&team, Some(&tools), second, "wrk_2", "Scripts")
        .await;

    // The dashboard's list: every project of the organization, with its team project.
    let listed = bob
        .data(
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await
        .unwrap();
    assert_eq!(
        listed["projects"],
        json!([
            {"id": first, "name": "Orders API", "rootDocumentId": "wrk_1", "teamProjectId": apis,
             "teams": [{"id": team, "name": "Acme"}]},
            {"id": second, "name": "Scripts", "rootDocumentId": "wrk_2", "teamProjectId": tools,
             "teams": [{"id": team, "name": "Acme"}]},
        ])
    );
    // `allProjects` wins over a team project named beside it.
    let both = alice.data("query ($teamId: ID, $teamProjectId: ID, $allProjects: Boolean) { projects(teamId: $teamId, teamProjectId: $teamProjectId, allProjects: $allProjects) { id } }",
            json!({ "teamId": team, "teamProjectId": apis, "allProjects": true }),
        )
        .await
        .unwrap();
    assert_eq!(both["projects"].as_array().unwrap().len(), 2, "{both}");

    // The 10.x app's form, and the newest app's per-team-project one, are unchanged.
    let under_apis = alice
        .data(
            PROJECTS_OF_TEAM_PROJECT,
            json!({ "teamId": team, "teamProjectId": apis }),
        )
        .await
        .unwrap();
    assert_eq!(
        under_apis["projects"],
        json!([{"id": first, "name": "Orders API", "rootDocumentId": "wrk_1",
                "teams": [{"id": team, "name": "Acme"}]}])
    );
    let not_all = alice
        .data(
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": false }),
        )
        .await
        .unwrap();
    assert_eq!(not_all["projects"].as_array().unwrap().len(), 2);

    // Someone else's organization is refused, as before.
    let outsider = app.actor("dave").await;
    let refused = outsider
        .refused(
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        )
        .await;
    assert!(refused.contains("invalid access"), "{refused}");
    let own = outsider
        .data(PROJECTS_OF_TEAM, json!({ "allProjects": true }))
        .await
        .unwrap();
    assert_eq!(own["projects"], json!([]), "no team: its own organizations");

    // With no backend project active, the newest app names a new one by its workspace id
    // (insomnia-wire-newer.md §6.3).
    let workspace = "wrk_0123456789abcdef0123456789abcdef";
    alice
        .create_project(&team, Some(&apis), workspace, workspace, "Fallback")
        .await;
    let found = bob.data(PROJECT, json!({ "id": workspace })).await.unwrap();
    assert_eq!(
        found["project"],
        json!({"id": workspace, "name": "Fallback", "rootDocumentId": workspace})
    );
    // The looser rule keeps the old one whole: `prj_` and up to 64 hex digits, longer than the
    // 64 characters of other ids (projects made by earlier clients keep their ids).
    let long = format!("prj_{}", "ab".repeat(32));
    alice
        .create_project(&team, Some(&apis), &long, "wrk_3", "Long id")
        .await;
    let found = bob.data(PROJECT, json!({ "id": long })).await.unwrap();
    assert_eq!(found["project"]["id"], long.as_str());
    app.server.stop().await;
}

async fn a_branch_with_a_slash_is_pushed_listed_read_and_removed(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    let apis = alice.team_project(&team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = alice
        .create_project(&team, Some(&apis), project, "wrk_1", "Orders API")
        .await;

    let on_master = alice
        .push(
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // A branch forked from master, one commit ahead.
    let docs = [request("req_1", "List orders"), request("req_2", "Log in")];
    let contents: Vec<String> = docs.iter().map(blob_content).collect();
    let forked = snapshot(project, &on_master, &docs);
    let master_first = snapshot(project, EMPTY_HASH, &[request("req_1", "List orders")]);
    alice.data(UPLOAD,
            json!({"projectId": project, "blobs": [{"id": blob_id(&contents[1]), "content": seal_blob(&key, &contents[1]).unwrap()}]}),
        )
        .await
        .unwrap();
    let pushed = alice.data(PUSH,
            json!({"branchName": "feature/login", "projectId": project, "snapshots": [master_first, forked]}),
        )
        .await
        .unwrap();
    assert_eq!(pushed["snapshotsCreate"].as_array().unwrap().len(), 2);

    // Listed and read by a teammate, who decrypts the new document.
    let branches = bob
        .data(BRANCHES, json!({ "projectId": project }))
        .await
        .unwrap();
    let mut names: Vec<&str> = branches["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| branch["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["feature/login", "master"]);
    let read = bob
        .data(
            BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        )
        .await
        .unwrap();
    assert_eq!(read["branch"]["name"], "feature/login");
    assert_eq!(
        read["branch"]["snapshots"],
        json!([on_master, forked["id"]])
    );
    let snapshots = bob
        .data(
            SNAPSHOTS,
            json!({ "ids": [forked["id"]], "projectId": project }),
        )
        .await
        .unwrap();
    assert_eq!(snapshots["snapshots"][0]["parent"], on_master.as_str());
    let blob = snapshots["snapshots"][0]["state"][1]["blob"]
        .as_str()
        .unwrap()
        .to_owned();
    let bobs_key = bob.project_key(project).await;
    let blobs = bob
        .data(BLOBS, json!({ "ids": [blob], "projectId": project }))
        .await
        .unwrap();
    assert_eq!(
        open_blob(
            &bobs_key,
            blobs["blobs"][0]["content"].as_str().unwrap(),
            1 << 20
        )
        .unwrap(),
        contents[1]
    );

    // Names neither app makes are refused wherever a branch is named; nothing changes.
    let branch_rows = count(&db, "branches").await;
    let snapshot_rows = count(&db, "snapshots").await;
    for bad in [
        "feature/",
        "feature//login",
        "/feature",
        "feature/.hidden",
        "feature/x.lock",
        "feature/a..b",
        "fe",
        "feature login",
    ] {
        let next = snapshot(
            project,
            forked["id"].as_str().unwrap(),
            &[request("req_1", "List orders")],
        );
        for (query, variables) in [
            (
                PUSH,
                json!({"branchName": bad, "projectId": project, "snapshots": [next]}),
            ),
            (BRANCH, json!({ "projectId": project, "branch": bad })),
            (
                REMOVE_BRANCH,
                json!({ "projectId": project, "branch": bad }),
            ),
        ] {
            let refused = alice.refused(query, variables).await;
            assert!(refused.contains("branch names"), "{bad}: {refused}");
        }
    }
    assert_eq!(count(&db, "branches").await, branch_rows);
    assert_eq!(count(&db, "snapshots").await, snapshot_rows);

    // Removed by the teammate: gone from the list and from reads; master stays.
    let removed = bob
        .data(
            REMOVE_BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        )
        .await
        .unwrap();
    assert_eq!(removed["branchRemove"], true);
    assert_eq!(bob.branch(project, "feature/login").await, None);
    let branches = alice
        .data(BRANCHES, json!({ "projectId": project }))
        .await
        .unwrap();
    assert_eq!(branches["branches"], json!([{"name": "master"}]));
    assert_eq!(alice.branch(project, "master").await, Some(vec![on_master]));
    app.server.stop().await;
}
