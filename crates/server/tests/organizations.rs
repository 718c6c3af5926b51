//! Organizations over real HTTP, on SQLite and on PostgreSQL: the list the app loads after
//! log-in, creating, reading and deleting a team, the storage rule, features, permissions and
//! the audit log; every organization-scoped endpoint tried by a non-member (who learns nothing)
//! and by each role (the permission table decides).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;
#[path = "http/mod.rs"]
mod http;

use http::{
    TestServer, call,
    users::{User, sign_up_and_log_in},
};
use hypnos_server::permissions::{Permission, allows};
use hypnos_server::storage::Role;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// Every endpoint that names an organization, with the permission it needs and a body: on
/// organization `org`, its team project `project` and its member `member` (whose role is set
/// to what it is). The destructive ones (DELETE) are tried apart.
fn scoped_endpoints(
    org: &str,
    project: &str,
    member: &str,
) -> Vec<(Method, String, Option<Value>, Permission)> {
    let path = |rest: &str| format!("/v1/organizations/{org}{rest}");
    vec![
        (Method::GET, path(""), None, Permission::ReadMembership),
        (
            Method::GET,
            path("/storage-rule"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::PUT,
            path("/storage-rule"),
            Some(json!({"storage": "cloud_plus_local"})),
            Permission::OwnOrganization,
        ),
        (
            Method::GET,
            path("/features"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/user-permissions"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/audit-log"),
            None,
            Permission::ReadAuditLog,
        ),
        (
            Method::GET,
            path("/members"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path(&format!("/members/{member}/roles")),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::PUT,
            path(&format!("/members/{member}/roles")),
            Some(json!({"roles": ["member"]})),
            Permission::UpdateMembership,
        ),
        // Insomnia 11-13 set a role with PATCH.
        (
            Method::PATCH,
            path(&format!("/members/{member}/roles")),
            Some(json!({"roles": ["member"]})),
            Permission::UpdateMembership,
        ),
        (
            Method::PATCH,
            path("/git-projects"),
            Some(json!({"count": 0})),
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            format!("/v1/desktop/organizations/{org}/collaborators?per_page=5"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            format!("/v1/desktop/organizations/{org}/collaborators/search/example"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/team-projects"),
            None,
            Permission::ReadTeamProject,
        ),
        (
            Method::POST,
            path("/team-projects"),
            Some(json!({"name": "Made in the matrix"})),
            Permission::CreateTeamProject,
        ),
        (
            Method::PATCH,
            path(&format!("/team-projects/{project}")),
            Some(json!({"name": "Renamed in the matrix"})),
            Permission::UpdateTeamProject,
        ),
        (
            Method::POST,
            path("/check-seats"),
            Some(json!({"emails": ["someone@example.com"]})),
            Permission::CreateInvitation,
        ),
        (
            Method::GET,
            path("/invites"),
            None,
            Permission::ReadInvitation,
        ),
        (
            Method::GET,
            path("/my-project-keys"),
            None,
            Permission::ReadTeamProject,
        ),
        (
            Method::POST,
            path("/reconcile-keys"),
            Some(json!({"keys": []})),
            Permission::ReadTeamProject,
        ),
    ]
}

/// The destructive endpoints (and those that would create something for the caller), with
/// valid bodies, tried by non-members only: they must change nothing.
fn destructive_endpoints(
    org: &str,
    project: &str,
    member: &str,
) -> Vec<(Method, String, Option<Value>)> {
    let path = |rest: &str| format!("/v1/organizations/{org}{rest}");
    vec![
        (Method::DELETE, path(""), None),
        (Method::DELETE, path(&format!("/members/{member}")), None),
        (
            Method::DELETE,
            path(&format!("/team-projects/{project}")),
            None,
        ),
        (Method::DELETE, path("/invites/inv_any"), None),
        (
            Method::PATCH,
            path("/invites/inv_any"),
            Some(json!({"roles": ["member"]})),
        ),
        (
            Method::POST,
            path("/invites/instructions"),
            Some(json!({"inviteeEmail": "someone@example.com"})),
        ),
        (
            Method::POST,
            path("/invites"),
            Some(json!({"inviteeId": "acct_any", "inviteKeys": []})),
        ),
        (Method::POST, path("/invites/inv_any/reinvite"), None),
        (
            Method::POST,
            format!("/v1/desktop/organizations/{org}/collaborators/start-adding"),
            Some(json!({"teamIds": [], "emails": ["someone@example.com"]})),
        ),
        (
            Method::POST,
            format!("/v1/desktop/organizations/{org}/collaborators/finish-adding"),
            Some(
                json!({"teamIds": [], "keys": {}, "accountIds": ["acct_any"], "roleId": "member"}),
            ),
        ),
        (
            Method::DELETE,
            format!("/v1/desktop/organizations/{org}/collaborators/{member}/unlink"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/desktop/organizations/{org}/collaborators/inv_any/unlink"),
            None,
        ),
    ]
}

async fn organizations(db: common::TestDb) {
    let server = TestServer::start(&db.url, 1_000).await;
    let http = Client::new();
    let alice = User::new("alice@example.com", "alice's passphrase");
    let (alice_ids, alice_session) = sign_up_and_log_in(&server, &http, &alice).await;
    let bob = User::new("bob@example.com", "bob's passphrase");
    let (bob_ids, bob_session) = sign_up_and_log_in(&server, &http, &bob).await;
    let get = |session: &str, path: &str| {
        let (session, url, http) = (session.to_owned(), server.url(path), &http);
        async move { call(http, Method::GET, url, &session, None).await }
    };

    // After log-in the app needs its personal organization, owned by the caller.
    let (status, list) = get(&alice_session, "/v1/organizations").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1);
    let personal = &list["organizations"][0];
    assert_eq!(personal["id"], alice_ids.personal_organization_id.as_str());
    assert_eq!(personal["metadata"]["organizationType"], "personal");
    assert_eq!(
        personal["metadata"]["ownerAccountId"],
        alice_ids.account_id.as_str()
    );
    assert!(personal["display_name"].is_string());
    assert_eq!(personal["branding"]["logo_url"], "");
    let (status, _) = call(
        &http,
        Method::GET,
        server.url("/v1/organizations"),
        "",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The caller's profile, plan and the roles.
    let (status, profile) = get(&alice_session, "/v1/user/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["id"], alice_ids.account_id.as_str());
    assert_eq!(profile["email"], "alice@example.com");
    assert_eq!(profile["name"], "Ada Lovelace");
    assert_eq!(profile["given_name"], "Ada");
    let (_, plan) = get(&alice_session, "/v1/billing/current-plan").await;
    assert_eq!(plan["isActive"], true);
    assert_eq!(plan["type"], "team");
    assert!(plan["planId"].is_string());
    let (_, roles) = get(&alice_session, "/v1/organizations/roles").await;
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
        let (status, body) = call(
            &http,
            Method::POST,
            server.url("/v1/organizations"),
            &alice_session,
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        assert_eq!(body["error"], "BAD_REQUEST");
    }
    let (status, team) = call(
        &http,
        Method::POST,
        server.url("/v1/organizations"),
        &alice_session,
        Some(json!({"name": " Acme "})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    assert_eq!(team["name"], "Acme");
    assert_eq!(team["metadata"]["organizationType"], "team");
    assert_eq!(
        team["metadata"]["ownerAccountId"],
        alice_ids.account_id.as_str()
    );
    let team_id = team["id"].as_str().unwrap().to_owned();
    let (_, list) = get(&alice_session, "/v1/organizations").await;
    let ids: Vec<&str> = list["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|org| org["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            alice_ids.personal_organization_id.as_str(),
            team_id.as_str()
        ]
    );
    let (status, one) = get(&alice_session, &format!("/v1/organizations/{team_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["metadata"]["description"], "");

    // A non-member tries every endpoint on both of alice's organizations, and on one that does
    // not exist: the same 404 each time, and nothing changes.
    let (_, not_found) = get(&bob_session, "/v1/organizations/org_doesnotexist").await;
    assert_eq!(not_found["error"], "NOT_FOUND");
    let (status, project) = call(
        &http,
        Method::POST,
        server.url(&format!("/v1/organizations/{team_id}/team-projects")),
        &alice_session,
        Some(json!({"name": "Design"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let project_id = project["id"].as_str().unwrap().to_owned();
    for org in [
        team_id.as_str(),
        alice_ids.personal_organization_id.as_str(),
    ] {
        let member = alice_ids.account_id.as_str();
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
            let (status, answer) =
                call(&http, method.clone(), server.url(&path), &bob_session, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
            assert_eq!(answer, not_found, "{method} {path} must tell nothing");
        }
    }
    let (_, projects) = get(
        &alice_session,
        &format!("/v1/organizations/{team_id}/team-projects"),
    )
    .await;
    assert_eq!(
        projects,
        json!({"data": [{"id": project_id, "name": "Design"}]})
    );
    let (_, rule) = get(
        &alice_session,
        &format!("/v1/organizations/{team_id}/storage-rule"),
    )
    .await;
    assert_eq!(
        rule,
        json!({"storage": "cloud_plus_local", "isOverridden": false,
               "enableCloudSync": true, "enableLocalVault": true, "enableGitSync": true})
    );
    let (_, bobs) = get(&bob_session, "/v1/organizations").await;
    assert_eq!(bobs["total"], 1, "bob sees only his own: {bobs}");
    assert_eq!(
        bobs["organizations"][0]["id"],
        bob_ids.personal_organization_id.as_str()
    );

    // The owner sets the storage rule; bad values are refused; the audit log records it.
    let rule_path = format!("/v1/organizations/{team_id}/storage-rule");
    let (status, _) = call(
        &http,
        Method::PUT,
        server.url(&rule_path),
        &alice_session,
        Some(json!({"storage": "everywhere"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, rule) = call(
        &http,
        Method::PUT,
        server.url(&rule_path),
        &alice_session,
        Some(json!({"storage": "cloud_only"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rule}");
    let (_, rule) = get(&alice_session, &rule_path).await;
    assert_eq!(
        rule,
        json!({"storage": "cloud_only", "isOverridden": true,
               "enableCloudSync": true, "enableLocalVault": false, "enableGitSync": true})
    );
    let log_path = format!("/v1/organizations/{team_id}/audit-log");
    let (status, log) = get(&alice_session, &log_path).await;
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
    assert_eq!(
        log["events"][0]["actorAccountId"],
        alice_ids.account_id.as_str()
    );
    assert_eq!(
        log["events"][0]["details"],
        json!({"from": "cloud_plus_local", "to": "cloud_only"})
    );
    let (_, page) = get(&alice_session, &format!("{log_path}?limit=1")).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1);
    for bad in ["?limit=0", "?limit=501", "?limit=many", "?before=yesterday"] {
        let (status, body) = get(&alice_session, &format!("{log_path}{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "BAD_REQUEST");
    }

    // Each role against every endpoint: the permission table decides.
    let carol = User::new("carol@example.com", "carol's passphrase");
    let (carol_ids, carol_session) = sign_up_and_log_in(&server, &http, &carol).await;
    db.execute(&format!(
        "INSERT INTO memberships (organization_id, account_id, role, created_at) VALUES \
         ('{team_id}', '{}', 'member', 0), ('{team_id}', '{}', 'admin', 0);",
        bob_ids.account_id, carol_ids.account_id
    ))
    .await;
    for (role, session) in [
        (Role::Owner, &alice_session),
        (Role::Admin, &carol_session),
        (Role::Member, &bob_session),
    ] {
        for (method, path, body, permission) in
            scoped_endpoints(&team_id, &project_id, &bob_ids.account_id)
        {
            let (status, answer) =
                call(&http, method.clone(), server.url(&path), session, body).await;
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
                format!(
                    "/v1/organizations/{team_id}/members/{}",
                    alice_ids.account_id
                ),
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
                let (status, answer) =
                    call(&http, method.clone(), server.url(&path), session, body).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role:?} {method} {path}: {answer}"
                );
            }
        }
        let (_, granted) = get(
            session,
            &format!("/v1/organizations/{team_id}/user-permissions"),
        )
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
    let (_, features) = get(
        &bob_session,
        &format!("/v1/organizations/{team_id}/features"),
    )
    .await;
    assert_eq!(features["features"]["cloudSync"]["enabled"], true);
    assert_eq!(features["billing"]["isActive"], true);

    // Deleting: not by an admin, never a personal organization; the owner deletes the team and
    // its members lose it.
    let team_path = format!("/v1/organizations/{team_id}");
    let (status, _) = call(
        &http,
        Method::DELETE,
        server.url(&team_path),
        &carol_session,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = call(
        &http,
        Method::DELETE,
        server.url(&format!(
            "/v1/organizations/{}",
            alice_ids.personal_organization_id
        )),
        &alice_session,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "PERSONAL_ORGANIZATION");
    let (status, _) = call(
        &http,
        Method::DELETE,
        server.url(&team_path),
        &alice_session,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = get(&bob_session, &team_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, bobs) = get(&bob_session, "/v1/organizations").await;
    assert_eq!(bobs["total"], 1);
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE organization_id = '{team_id}'"
        ))
        .await,
        0
    );
    server.stop().await;
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_sqlite() {
    organizations(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_postgres() {
    organizations(common::TestDb::postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_team_projects_sqlite() {
    members_and_team_projects(common::TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_team_projects_postgres() {
    members_and_team_projects(common::TestDb::postgres().await).await;
}
