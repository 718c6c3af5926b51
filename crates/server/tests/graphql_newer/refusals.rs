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
    let world = World::with(db, |config| {
        config.max_body_bytes = 128 * 1024;
        config.max_blob_bytes = 40 * 1024;
        config.max_answer_bytes = 40 * 1024;
    })
    .await;
    let alice = world.person("alice@example.com").await;
    let bob = world.person("bob@example.com").await;
    let carol = world.person("carol@example.com").await;
    let dave = world.person("dave@example.com").await;
    let erin = world.person("erin@example.com").await;
    let team = world.team(&alice, "Acme").await;
    world.join(&alice, &team, &bob, "member").await;
    world.join(&alice, &team, &carol, "member").await;
    let apis = world.team_project(&alice, &team, "APIs").await;
    let project = "prj_0123456789abcdef0123456789abcdef";
    let key = world
        .create_project(&alice, &team, Some(&apis), project, "wrk_1", "Orders API")
        .await;
    let tip = world
        .push(
            &alice,
            project,
            &key,
            "master",
            EMPTY_HASH,
            &[request("req_1", "List orders")],
        )
        .await;
    // Erin joins after the project was made: a member without its key.
    world.join(&alice, &team, &erin, "member").await;
    // Carol is removed; dave never was a member.
    let (status, _) = world
        .rest(
            Method::DELETE,
            &alice,
            &format!("/v1/organizations/{team}/members/{}", carol.account_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // A project of another organization, which alice does not belong to.
    let other = world.team(&dave, "Other").await;
    let theirs_under = world.team_project(&dave, &other, "Theirs").await;
    let theirs = "prj_dddddddddddddddddddddddddddddddd";
    let their_key = world
        .create_project(
            &dave,
            &other,
            Some(&theirs_under),
            theirs,
            "wrk_d",
            "Theirs",
        )
        .await;
    let their_tip = world
        .push(
            &dave,
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
            counts.push(world.count(table).await);
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
            let refused = world.refused(who, query, variables.clone()).await;
            assert!(
                refused.contains("invalid access"),
                "{}: {query} {variables}: {refused}",
                who.user.email
            );
        }
        let hidden = world
            .gql(who, PROJECT, json!({ "id": target }))
            .await
            .unwrap();
        assert_eq!(hidden["project"], Value::Null, "{}", who.user.email);
    }
    // A member may not delete the team's project; one without its key may not read or write it.
    let refused = world.refused(&bob, ARCHIVE, json!({ "id": project })).await;
    assert!(refused.contains("invalid access"), "{refused}");
    for (query, variables) in every_operation(&team, project, &key, &tip) {
        if [ARCHIVE, TEAM_MEMBER_KEYS, PROJECTS_OF_TEAM, CREATE_PROJECT].contains(&query) {
            continue;
        }
        let refused = world.refused(&erin, query, variables.clone()).await;
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
        let refused = world.refused(&alice, query, variables).await;
        assert!(refused.contains(expected), "{query}: {refused}");
    }
    let aliases = format!(
        "{{ {} }}",
        (0..=world.server.config.graphql_max_aliases)
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
        let refused = world.refused(&alice, query, json!({})).await;
        assert!(refused.contains(expected), "{refused}");
    }
    // The answer's byte budget: two blobs of about 26 KB in one answer of at most 40 KB.
    let big: Vec<String> = (0..2)
        .map(|n| {
            blob_content(&json!({"_id": format!("req_big{n}"), "type": "Request", "name": "big", "body": noise(n, 24 * 1024)}))
        })
        .collect();
    for content in &big {
        world
            .gql(&alice, UPLOAD, json!({"projectId": project, "blobs": [{"id": blob_id(content), "content": seal_blob(&key, content).unwrap()}]}))
            .await
            .unwrap();
    }
    let ids: Vec<String> = big.iter().map(|content| blob_id(content)).collect();
    let refused = world
        .refused(&alice, BLOBS, json!({ "ids": ids, "projectId": project }))
        .await;
    assert!(refused.contains("more than"), "{refused}");
    for content in &big {
        world
            .db
            .execute(&format!(
                "DELETE FROM blobs WHERE id = '{}'",
                blob_id(content)
            ))
            .await;
    }

    // The session and the body, refused before GraphQL runs, answer the same way: the REST
    // code in `extensions.code`, the sentence in the message.
    let logged_out = world.person("frank@example.com").await;
    let (status, _) = world
        .rest(Method::POST, &logged_out, "/auth/logout", None)
        .await;
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
        let (status, answer) = world.post_graphql(session, body).await;
        assert_eq!(answer["errors"][0]["extensions"]["code"], code, "{answer}");
        let refused = data_or_error(status, answer).unwrap_err();
        assert!(refused.contains(expected), "{code}: {refused}");
    }

    // Nothing any refusal touched changed.
    let mut after = Vec::new();
    for table in ["projects", "project_keys", "branches", "snapshots", "blobs"] {
        after.push(world.count(table).await);
    }
    assert_eq!(after, before);
    assert_eq!(
        world.branch(&alice, project, "master").await,
        Some(vec![tip])
    );
    assert_eq!(
        world.branch(&dave, theirs, "master").await,
        Some(vec![their_tip])
    );
    world.server.stop().await;
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
