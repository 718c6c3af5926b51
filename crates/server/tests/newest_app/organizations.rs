//! The storage rule, features and plan in both apps' shapes, member roles by PATCH and PUT, and the start-up defaults.

use super::*;

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    storage_rule_features_and_plan_carry_both_apps_fields,
    member_roles_change_by_patch_and_put,
    start_up_defaults_answer_their_types,
);

async fn storage_rule_features_and_plan_carry_both_apps_fields(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let team = app.team(&alice, "Rules").await;
    let rule_path = format!("/v1/organizations/{team}/storage-rule");

    let (status, rule) = alice
        .get(&format!(
            "/v1/organizations/{}/storage-rule",
            alice.personal
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rule,
        json!({
            "storage": "cloud_plus_local",
            "isOverridden": false,
            "enableCloudSync": true,
            "enableLocalVault": true,
            "enableGitSync": true,
        })
    );
    for (storage, cloud, local) in [
        ("local_only", false, true),
        ("cloud_only", true, false),
        ("cloud_plus_local", true, true),
    ] {
        let expected = json!({
            "storage": storage,
            "isOverridden": storage != "cloud_plus_local",
            "enableCloudSync": cloud,
            "enableLocalVault": local,
            "enableGitSync": true,
        });
        let (status, set) = alice
            .send(Method::PUT, &rule_path, Some(json!({"storage": storage})))
            .await;
        assert_eq!((status, &set), (StatusCode::OK, &expected));
        let (status, read) = alice.get(&rule_path).await;
        assert_eq!((status, &read), (StatusCode::OK, &expected));
    }

    let (status, features) = alice
        .get(&format!("/v1/organizations/{team}/features"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let on = json!({"enabled": true});
    for key in [
        "cloudSync",
        "localVault",
        "gitSync",
        "orgBasicRbac",
        "bulkImport",
    ] {
        assert_eq!(features["features"][key], on, "{key}: {features}");
    }
    for key in [
        "aiMockServers",
        "aiCommitMessages",
        "aiMcpClient",
        "konnectSync",
    ] {
        assert_eq!(
            features["features"][key],
            json!({"enabled": false, "reason": "not available on a self-hosted Hypnos server"}),
            "{key}"
        );
    }
    assert_eq!(features["features"].as_object().unwrap().len(), 9);
    assert_eq!(
        features["billing"],
        json!({
            "isActive": true,
            "expirationWarningMessage": "",
            "expirationErrorMessage": "",
            "accessDenied": false,
        })
    );

    let (status, plan) = alice.get("/v1/billing/current-plan").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        plan,
        json!({
            "isActive": true,
            "period": "year",
            "planId": "self-hosted",
            "price": 0,
            "quantity": 1_000_000,
            "type": "team",
            "planName": "Self-hosted",
            "status": "active",
        })
    );
}

async fn member_roles_change_by_patch_and_put(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let carol = app.actor("carol").await;
    let team = app.team(&alice, "Roles").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    let roles = |account: &str| format!("/v1/organizations/{team}/members/{account}/roles");
    let role_of = |body: &Value| body["roleId"].as_str().unwrap().to_owned();

    // The newest app's PATCH and 10.x's PUT do the same.
    for (method, role) in [
        (Method::PATCH, "admin"),
        (Method::PUT, "member"),
        (Method::PATCH, "admin"),
    ] {
        let (status, set) = alice
            .send(
                method.clone(),
                &roles(&bob.id),
                Some(json!({"roles": [role]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{method} {role}: {set}");
        assert_eq!(role_of(&set), role);
        let (_, read) = alice.get(&roles(&bob.id)).await;
        assert_eq!(role_of(&read), role);
    }
    let (_, audit) = alice
        .get(&format!("/v1/organizations/{team}/audit-log"))
        .await;
    let changes = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "membership.role_changed")
        .count();
    assert_eq!(changes, 3);

    // Refusals change nothing.
    for (who, target, body, expected) in [
        (
            &alice,
            &alice.id,
            json!({"roles": ["member"]}),
            StatusCode::CONFLICT,
        ),
        (
            &alice,
            &bob.id,
            json!({"roles": ["owner"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &alice,
            &bob.id,
            json!({"roles": ["admin", "member"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &alice,
            &bob.id,
            json!({"role": "member"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &carol,
            &bob.id,
            json!({"roles": ["member"]}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = who.send(Method::PATCH, &roles(target), Some(body)).await;
        assert_eq!(status, expected, "{body}");
        assert!(body["error"].is_string() && body["message"].is_string());
    }
    app.join(&alice, &team, &carol, Role::Member).await;
    let (status, _) = carol
        .send(
            Method::PATCH,
            &roles(&bob.id),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a member changes no roles");
    let (_, read) = alice.get(&roles(&bob.id)).await;
    assert_eq!(role_of(&read), "admin");
}

async fn start_up_defaults_answer_their_types(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let unlimited = 1_000_000;
    let with_session = [
        (
            Method::GET,
            "/v1/trials/eligibility",
            json!({"isEligible": false}),
        ),
        (Method::POST, "/v1/trials/start", json!({"success": false})),
        (
            Method::GET,
            "/v1/user/resource-usage",
            json!({"mocks": {"quota": 0, "calls": 0,
                             "autoPurchase": {"enabled": false, "unit": 0}}}),
        ),
        (Method::GET, "/v1/user/enterprises", json!([])),
        (
            Method::GET,
            "/v1/accounts/seats",
            json!({"memberCount": 0, "inviteCount": 0, "used": 0, "total": unlimited}),
        ),
        (
            Method::GET,
            "/v1/enterprise/ent_123/license-usage",
            json!({"used": 0, "total": unlimited, "memberCount": 0, "inviteCount": 0,
                   "free": unlimited}),
        ),
    ];
    for (method, path, expected) in with_session {
        let (status, body) = alice.send(method.clone(), path, None).await;
        assert_eq!(
            (status, &body),
            (StatusCode::OK, &expected),
            "{method} {path}"
        );
        let (status, body) = app.send_as("", method.clone(), path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
    let (status, body) = alice
        .get(&format!("/v1/enterprise/{}/license-usage", "e".repeat(101)))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Sent without our session by the app: nothing to reveal.
    let (status, planes) = app
        .send_as("", Method::GET, "/v2/control-planes", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        planes,
        json!({"data": [], "meta": {"page": {"number": 1, "size": 100, "total": 0}}})
    );
    let response = app
        .http
        .get(
            app.server
                .url("/integrations/stainless/sdk?endpoint=GET%20%2Fusers"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "null");

    // The newest app's Git project count: any member reports it; it is checked, not kept.
    let team = app.team(&alice, "Gitty").await;
    let path = format!("/v1/organizations/{team}/git-projects");
    let (status, body) = alice
        .send(Method::PATCH, &path, Some(json!({"count": 3})))
        .await;
    assert_eq!((status, &body), (StatusCode::NO_CONTENT, &Value::Null));
    let (status, _) = alice
        .send(
            Method::PATCH,
            &format!("/v1/organizations/{}/git-projects", alice.personal),
            Some(json!({"count": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = bob
        .send(Method::PATCH, &path, Some(json!({"count": 3})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");
    for bad in [
        json!({"count": -1}),
        json!({"count": 1_000_001}),
        json!({"count": "3"}),
        json!({}),
    ] {
        let (status, body) = alice.send(Method::PATCH, &path, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = app
        .send_as("", Method::PATCH, &path, Some(json!({"count": 3})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let audited = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE organization_id = '{team}'"
        ))
        .await;
    assert_eq!(audited, 1, "only the team's creation");
}
