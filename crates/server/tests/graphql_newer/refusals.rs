//! Every refused operation is a 200 with a data object and a message the app reads.

use super::*;

common::on_both_backends!(every_refusal_is_a_200_with_a_data_object,);

/// Every operation of the sync API on `project` (of organization `team`), with variables that
/// would succeed for a member holding its key: the shapes the refusals are tried with.
fn every_operation(
    team: &str,
    project: &str,
    key: &AesKey,
    tip: &str,
) -> Vec<(&'static str, Value)> {
    let content = blob_content(&request("req_9", "Other"));
    let next = snapshot(project, tip, &[request("req_9", "Other")]);
    vec![
        (PROJECT_KEY, json!({ "projectId": project })),
        (BRANCHES, json!({ "projectId": project })),
        (BRANCH, json!({ "projectId": project, "branch": "master" })),
        (SNAPSHOTS, json!({ "ids": [tip], "projectId": project })),
        (
            MISSING,
            json!({ "projectId": project, "ids": [blob_id(&content)] }),
        ),
        (
            BLOBS,
            json!({ "ids": [blob_id(&content)], "projectId": project }),
        ),
        (
            UPLOAD,
            json!({"projectId": project, "blobs": [{"id": blob_id(&content), "content": seal_blob(key, &content).unwrap()}]}),
        ),
        (
            PUSH,
            json!({"branchName": "master", "projectId": project, "snapshots": [next]}),
        ),
        (
            REMOVE_BRANCH,
            json!({ "projectId": project, "branch": "feature/login" }),
        ),
        (ARCHIVE, json!({ "id": project })),
        (TEAM_MEMBER_KEYS, json!({ "teamId": team })),
        (
            PROJECTS_OF_TEAM,
            json!({ "teamId": team, "allProjects": true }),
        ),
        (
            CREATE_PROJECT,
            json!({"name": "Mine", "id": "prj_ffffffffffffffffffffffffffffffff", "rootDocumentId": "wrk_9", "teamId": team, "teamKeys": []}),
        ),
    ]
}

async fn every_refusal_is_a_200_with_a_data_object(db: common::TestDb) {
    let app = TestApp::start_tuned(&db, |config| {
        config.max_body_bytes = 128 * 1024;
        config.max_blob_bytes = 40 * 1024;
        config.max_answer_bytes = 40 * 1024;
    })
    .await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let carol = app.actor("carol").await;
    let dave = app.actor("dave").await;
    let erin = app.actor("erin").await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    app.join(&alice, &team, &carol, Role::Member).await;
    let apis = alice.team_project(&team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = alice
        .create_project(&team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    let tip = alice
        .push(
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Erin joins after the project was made: a member without its key.
    app.join(&alice, &team, &erin, Role::Member).await;
    // Carol is removed; dave never was a member.
    let (status, _) = alice
        .send(
            Method::DELETE,
            &format!("/v1/organizations/{team}/members/{}", carol.id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A project of another organization, which alice does not belong to.
    let other = app.team(&dave, "Other").await;
    let theirs_under = dave.team_project(&other, "Theirs").await;
    let theirs = "prj_dddddddddddddddddddddddddddddddd";
    let their_key = dave
        .create_project(&other, Some(&theirs_under), theirs, "wrk_d", "Theirs")
        .await;
    let their_tip = dave
        .push(
            theirs,
            &their_key,
            "master",
            EMPTY_HASH,
            &[request("req_d", "Theirs")],
        )
        .await;

    let before: Vec<i64> = {
        let mut counts = Vec::new();
        for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
            counts.push(count(&db, table).await);
        }
        counts
    };

    // Access refusals: "invalid access", a 200 and a data object, whoever asks.
    for (who, org, target, key, tip) in [
        (&dave, team.as_str(), project, &key, tip.as_str()),
        (&carol, team.as_str(), project, &key, tip.as_str()),
        (
            &alice,
            other.as_str(),
            theirs,
            &their_key,
            their_tip.as_str(),
        ),
    ] {
        for (query, variables) in every_operation(org, target, key, tip) {
            let refused = who.refused(query, variables.clone()).await;
            assert!(
                refused.contains("invalid access"),
                "{}: {query} {variables}: {refused}",
                who.user.email
            );
        }
        let hidden = who.data(PROJECT, json!({ "id": target })).await.unwrap();
        assert_eq!(hidden["project"], Value::Null, "{}", who.user.email);
    }
    // A member may not delete the team's project; one without its key may not read or write it.
    let refused = bob.refused(ARCHIVE, json!({ "id": project })).await;
    assert!(refused.contains("invalid access"), "{refused}");
    for (query, variables) in every_operation(&team, project, &key, &tip) {
        if [ARCHIVE, TEAM_MEMBER_KEYS, PROJECTS_OF_TEAM, CREATE_PROJECT].contains(&query) {
            continue;
        }
        let refused = erin.refused(query, variables.clone()).await;
        assert!(
            refused.contains("invalid access"),
            "{query} {variables}: {refused}"
        );
    }

    // Not access refusals, still a 200 with a data object: a bad branch name, a push that is not
    // a fast-forward (a resolver error that nulls a non-null field), a document that does not
    // parse or validate, and each request limit.
    let stale = snapshot(project, &"1".repeat(40), &[request("req_1", "List orders")]);
    for (query, variables, expected) in [
        (
            PUSH,
            json!({"branchName": "feature//x", "projectId": project, "snapshots": []}),
            "branch names",
        ),
        (
            PUSH,
            json!({"branchName": "master", "projectId": project, "snapshots": [stale]}),
            "fast-forward",
        ),
        (
            CREATE_PROJECT,
            json!({"name": "Bad", "id": "prj_../x", "rootDocumentId": "wrk_9", "teamId": team, "teamKeys": []}),
            "id must be",
        ),
        ("{ projects { id ", json!({}), "expected"),
        ("{ projects { nope } }", json!({}), "nope"),
        (
            "query ($id: ID!) { project(id: $id) { id } }",
            json!({}),
            "id",
        ),
    ] {
        let refused = alice.refused(query, variables).await;
        assert!(refused.contains(expected), "{query}: {refused}");
    }
    let aliases = format!(
        "{{ {} }}",
        (0..=app.server.config.graphql_max_aliases)
            .map(|n| format!("a{n}: projects {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let nested = format!(
        "{{ blobs(project: \"{project}\", ids: {}\"a\"{}) {{ id }} }}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let long = format!("{{ projects {{ id }} }}{}", " ".repeat(65 * 1024));
    for (query, expected) in [
        (aliases.as_str(), "top-level fields"),
        (nested.as_str(), "nests brackets"),
        (long.as_str(), "longer than"),
    ] {
        let refused = alice.refused(query, json!({})).await;
        assert!(refused.contains(expected), "{refused}");
    }
    // The answer's byte budget: two blobs of about 26 KB in one answer of at most 40 KB.
    let big: Vec<String> = (0..2)
        .map(|n| {
            blob_content(&json!({"_id": format!("req_big{n}"), "type": "Request", "name": "big", "body": noise(n, 24 * 1024)}))
        })
        .collect();
    for content in &big {
        alice.data(UPLOAD, json!({"projectId": project, "blobs": [{"id": blob_id(content), "content": seal_blob(&key, content).unwrap()}]}))
            .await
            .unwrap();
    }
    let ids: Vec<String> = big.iter().map(|content| blob_id(content)).collect();
    let refused = alice
        .refused(BLOBS, json!({ "ids": ids, "projectId": project }))
        .await;
    assert!(refused.contains("more than"), "{refused}");
    for content in &big {
        db.execute(&format!(
            "DELETE FROM blobs WHERE id = '{}'",
            blob_id(content)
        ))
        .await;
    }

    // The session and the body, refused before GraphQL runs, answer the same way: the REST
    // code in `extensions.code`, the sentence in the message.
    let logged_out = app.actor("frank").await;
    let (status, _) = logged_out.send(Method::POST, "/auth/logout", None).await;
    assert!(status.is_success(), "{status}");
    let list =
        json!({ "query": PROJECTS_OF_TEAM, "variables": { "allProjects": true } }).to_string();
    for (session, body, code, expected) in [
        (None, list.clone(), "UNAUTHORIZED", "not logged in"),
        (Some("not-hex"), list.clone(), "UNAUTHORIZED", "64 hex"),
        (
            Some(logged_out.session.as_str()),
            list.clone(),
            "UNAUTHORIZED",
            "log in again",
        ),
        (
            Some(alice.session.as_str()),
            "this is not JSON".to_owned(),
            "BAD_REQUEST",
            "JSON",
        ),
        (
            Some(alice.session.as_str()),
            format!("{{\"query\": \"{}\"}}", " ".repeat(200 * 1024)),
            "PAYLOAD_TOO_LARGE",
            "too large",
        ),
    ] {
        let (status, answer) = post_graphql(&app, session, body).await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], code, "{answer}");
        let refused = data_or_error((status, answer)).unwrap_err();
        assert!(refused.contains(expected), "{code}: {refused}");
    }

    // Nothing any refusal touched changed.
    let mut after = Vec::new();
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        after.push(count(&db, table).await);
    }
    assert_eq!(after, before);
    assert_eq!(alice.branch(project, "master").await, Some(vec![tip]));
    assert_eq!(dave.branch(theirs, "master").await, Some(vec![their_tip]));
    app.server.stop().await;
}

/// `bytes` hex characters that gzip cannot shrink much.
fn noise(seed: u64, bytes: usize) -> String {
    let mut state = (seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(&format!("{state:016x}"));
    }
    out
}

/// One GraphQL request with the session `session` (none: no header) and this body text, which
/// need not be JSON; the status and the answer.
async fn post_graphql(app: &TestApp, session: Option<&str>, body: String) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(app.url("/graphql?op"))
        .header("Content-Type", "application/json")
        .body(body);
    if let Some(session) = session {
        request = request.header("X-Session-Id", session);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
