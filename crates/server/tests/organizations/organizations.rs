//! Organizations: the list, profile, plan and roles, teams made and deleted, the storage rule and the audit log, and the access every endpoint checks.

use super::*;

common::on_both_backends!(organizations,);

async fn organizations(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;

    // After log-in the app needs its personal organization, owned by the caller.
    let (status, list) = alice.get("/v1/organizations").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1);
    let personal = &list["organizations"][0];
    assert_eq!(personal["id"], alice.personal.as_str());
    assert_eq!(personal["metadata"]["organizationType"], "personal");
    assert_eq!(personal["metadata"]["ownerAccountId"], alice.id.as_str());
    assert!(personal["display_name"].is_string());
    assert_eq!(personal["branding"]["logo_url"], "");
    let (status, _) = call(
        &app.http,
        Method::GET,
        app.url("/v1/organizations"),
        "",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The caller's profile, plan and the roles.
    let (status, profile) = alice.get("/v1/user/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["id"], alice.id.as_str());
    assert_eq!(profile["email"], "alice@example.com");
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["given_name"], "Ada");
    let (_, plan) = alice.get("/v1/billing/current-plan").await;
    assert_eq!(plan["isActive"], true);
    assert_eq!(plan["type"], "team");
    assert!(plan["planId"].is_string());
    let (_, roles) = alice.get("/v1/organizations/roles").await;
    let names: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|role| role["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["owner", "admin", "member"]);

    // A team: bad names are refused, a good one is created with the caller as owner.
    for bad in [
        json!({"name": ""}),
        json!({"name": "  "}),
        json!({}),
        json!({"name": "x".repeat(101)}),
    ] {
        let (status, body) = alice.post("/v1/organizations", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert_eq!(body["error"], "BAD_REQUEST");
    }
    let (status, team) = alice
        .post("/v1/organizations", json!({"name": " Acme "}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    assert_eq!(team["name"], "Acme");
    assert_eq!(team["metadata"]["organizationType"], "team");
    assert_eq!(team["metadata"]["ownerAccountId"], alice.id.as_str());
    let team_id = team["id"].as_str().unwrap().to_owned();
    let (_, list) = alice.get("/v1/organizations").await;
    let ids: Vec<&str> = list["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|org| org["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [alice.personal.as_str(), team_id.as_str()]);
    let (status, one) = alice.get(&format!("/v1/organizations/{team_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["metadata"]["description"], "");

    // A non-member tries every endpoint on both of alice's organizations, and on one that does
    // not exist: the same 404 each time, and nothing changes.
    let (_, not_found) = bob.get("/v1/organizations/org_doesnotexist").await;
    assert_eq!(not_found["error"], "NOT_FOUND");
    let (status, project) = alice
        .post(
            &format!("/v1/organizations/{team_id}/team-projects"),
            json!({"name": "Design"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project_id = project["id"].as_str().unwrap().to_owned();
    for org in [team_id.as_str(), alice.personal.as_str()] {
        let member = alice.id.as_str();
        let mut endpoints: Vec<(Method, String, Option<Value>)> =
            scoped_endpoints(org, &project_id, member)
                .into_iter()
                .map(|(method, path, body, _)| (method, path, body))
                .collect();
        endpoints.extend(destructive_endpoints(org, &project_id, member));
        endpoints.push((
            Method::PUT,
            format!("/v1/organizations/{org}/storage-rule"),
            Some(json!({"storage": "local_only"})),
        ));
        for (method, path, body) in endpoints {
            let (status, answer) = bob.send(method.clone(), &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
            assert_eq!(answer, not_found, "{method} {path} must tell nothing");
        }
    }
    let (_, projects) = alice
        .get(&format!("/v1/organizations/{team_id}/team-projects"))
        .await;
    assert_eq!(
        projects,
        json!({"data": [{"id": project_id, "name": "Design"}]})
    );
    let (_, rule) = alice
        .get(&format!("/v1/organizations/{team_id}/storage-rule"))
        .await;
    assert_eq!(
        rule,
        json!({"storage": "cloud_plus_local", "isOverridden": false,
               "enableCloudSync": true, "enableLocalVault": true, "enableGitSync": true})
    );
    let (_, bobs) = bob.get("/v1/organizations").await;
    assert_eq!(bobs["total"], 1, "bob sees only his own: {bobs}");
    assert_eq!(bobs["organizations"][0]["id"], bob.personal.as_str());

    // The owner sets the storage rule; bad values are refused; the audit log records it.
    let rule_path = format!("/v1/organizations/{team_id}/storage-rule");
    let (status, _) = alice
        .put(&rule_path, json!({"storage": "everywhere"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, rule) = alice
        .put(&rule_path, json!({"storage": "cloud_only"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{rule}");
    let (_, rule) = alice.get(&rule_path).await;
    assert_eq!(
        rule,
        json!({"storage": "cloud_only", "isOverridden": true,
               "enableCloudSync": true, "enableLocalVault": false, "enableGitSync": true})
    );
    let log_path = format!("/v1/organizations/{team_id}/audit-log");
    let (status, log) = alice.get(&log_path).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let actions: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "storage_rule.changed",
            "team_project.created",
            "organization.created"
        ]
    );
    assert_eq!(log["events"][0]["actorAccountId"], alice.id.as_str());
    assert_eq!(
        log["events"][0]["details"],
        json!({"from": "cloud_plus_local", "to": "cloud_only"})
    );
    let (_, page) = alice.get(&format!("{log_path}?limit=1")).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    for bad in ["?limit=0", "?limit=501", "?limit=many", "?before=yesterday"] {
        let (status, body) = alice.get(&format!("{log_path}{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "BAD_REQUEST");
    }

    // Each role against every endpoint: the permission table decides.
    let carol = app.actor("carol").await;
    app.join(&alice, &team_id, &bob, Role::Member).await;
    app.join(&alice, &team_id, &carol, Role::Admin).await;
    for (role, session) in [
        (Role::Owner, &alice),
        (Role::Admin, &carol),
        (Role::Member, &bob),
    ] {
        for (method, path, body, permission) in scoped_endpoints(&team_id, &project_id, &bob.id) {
            let (status, answer) = session.send(method.clone(), &path, body).await;
            if allows(role, permission) {
                assert!(
                    status.is_success(),
                    "{role:?} {method} {path}: {status} {answer}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role:?} {method} {path}: {answer}"
                );
                assert_eq!(answer["error"], "FORBIDDEN");
            }
        }
        // The destructive ones, refused to the roles that lack them (the allowed are shown
        // elsewhere: they would end the story).
        for (method, path, body, permission) in [
            (
                Method::DELETE,
                format!("/v1/organizations/{team_id}/team-projects/{project_id}"),
                None,
                Permission::DeleteTeamProject,
            ),
            (
                Method::DELETE,
                format!("/v1/organizations/{team_id}/invites/inv_any"),
                None,
                Permission::DeleteInvitation,
            ),
            (
                Method::PATCH,
                format!("/v1/organizations/{team_id}/invites/inv_any"),
                Some(json!({"roles": ["member"]})),
                Permission::UpdateInvitation,
            ),
            (
                Method::DELETE,
                format!("/v1/organizations/{team_id}/members/{}", alice.id),
                None,
                Permission::DeleteMembership,
            ),
            (
                Method::DELETE,
                format!("/v1/organizations/{team_id}"),
                None,
                Permission::OwnOrganization,
            ),
        ] {
            if !allows(role, permission) {
                let (status, answer) = session.send(method.clone(), &path, body).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role:?} {method} {path}: {answer}"
                );
            }
        }
        let (_, granted) = session
            .get(&format!("/v1/organizations/{team_id}/user-permissions"))
            .await;
        assert_eq!(
            granted["own:organization"],
            role == Role::Owner,
            "{granted}"
        );
        assert_eq!(granted["read:membership"], true);
        assert_eq!(granted["create:invitation"], role != Role::Member);
        assert_eq!(granted["read:enterprise_connection"], false);
    }
    // Features are the same for everyone.
    let (_, features) = bob
        .get(&format!("/v1/organizations/{team_id}/features"))
        .await;
    assert_eq!(features["features"]["cloudSync"]["enabled"], true);
    assert_eq!(features["billing"]["isActive"], true);

    // Deleting: not by an admin, never a personal organization; the owner deletes the team and
    // its members lose it.
    let team_path = format!("/v1/organizations/{team_id}");
    let (status, _) = carol.delete(&team_path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = alice
        .delete(&format!("/v1/organizations/{}", alice.personal))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "PERSONAL_ORGANIZATION");
    let (status, _) = alice.delete(&team_path).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = bob.get(&team_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, bobs) = bob.get("/v1/organizations").await;
    assert_eq!(bobs["total"], 1);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE organization_id = '{team_id}'"
        ))
        .await,
        0
    );
}
