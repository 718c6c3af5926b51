//! The app's GraphQL sync API over real HTTP, on SQLite and on PostgreSQL, with blobs encrypted
//! the way the app encrypts them: create a project with keys for its members, push, pull and
//! decrypt, push a second snapshot uploading only the changed blob, and see non-fast-forward,
//! malformed and unauthorized requests refused with nothing changed.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::sync::Arc;

use common::app::{TestApp, data_or_error};
use hypnos_crypto::{
    aes::AesKey,
    jwk::SymmetricJwk,
    rsa::RsaPublicKey,
    sync::{EMPTY_HASH, blob_content, blob_id, open_blob, seal_blob, snapshot_id},
};
use hypnos_server::storage::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SNAPSHOT_FIELDS: &str = "id parent created author authorAccount { firstName lastName email } name description state { blob key name }";

/// A snapshot input over `docs` (document id → blob id) on top of `parent`.
fn snapshot(project: &str, parent: &str, docs: &[(&str, &str)]) -> Value {
    let blobs: Vec<&str> = docs.iter().map(|(_, blob)| *blob).collect();
    json!({
        "id": snapshot_id(project, parent, &blobs),
        "parent": parent,
        "created": "2026-11-28T08:00:00.000Z",
        "author": "",
        "name": "a change",
        "description": "",
        "state": docs.iter().map(|(key, blob)| json!({"key": key, "blob": blob, "name": key})).collect::<Vec<_>>(),
    })
}

async fn sync(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let [alice, bob, carol] = app.actors(["alice", "bob", "carol"]).await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;

    // Ensure the remote project: not there yet; encrypt a new key to every member; create.
    let project = "prj_0123456789abcdef0123456789abcdef";
    let found = data_or_error(
        alice
            .gql(
                "query ($id: ID!) { project(id: $id) { id } }",
                json!({"id": project}),
            )
            .await,
    )
    .unwrap();
    assert_eq!(found["project"], Value::Null);
    let members = data_or_error(alice.gql("query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey autoLinked } } }", json!({"teamId": team})).await)
    .unwrap();
    let members = members["teamMemberKeys"]["memberKeys"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(members.len(), 2, "alice and bob");
    let project_key = AesKey::generate().unwrap();
    let key_json = project_key.to_jwk().to_json().to_string();
    let team_keys: Vec<Value> = members
        .iter()
        .map(|member| {
            let public =
                RsaPublicKey::from_jwk_json(member["publicKey"].as_str().unwrap()).unwrap();
            json!({
                "accountId": member["accountId"],
                "encSymmetricKey": public.encrypt_string(&key_json).unwrap(),
                "autoLinked": false,
            })
        })
        .collect();
    const CREATE: &str = "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!], $teamProjectId: ID,) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys, teamProjectId: $teamProjectId) { id name rootDocumentId } }";
    let create = |keys: Vec<Value>| json!({"name": "My API", "id": project, "rootDocumentId": "wrk_1", "teamId": team, "teamKeys": keys});
    let refused =
        data_or_error(alice.gql(CREATE, create(team_keys[..1].to_vec())).await).unwrap_err();
    assert!(refused.contains("missing"), "{refused}");
    let made = data_or_error(alice.gql(CREATE, create(team_keys.clone())).await).unwrap();
    assert_eq!(
        made["projectCreate"],
        json!({"id": project, "name": "My API", "rootDocumentId": "wrk_1"})
    );
    let again = data_or_error(alice.gql(CREATE, create(team_keys.clone())).await).unwrap();
    assert_eq!(again, made, "creating again returns the project");
    let listed = data_or_error(alice.gql("query ($teamId: ID) { projects(teamId: $teamId) { id name rootDocumentId teams { id name } } }", json!({"teamId": team})).await).unwrap();
    assert_eq!(listed["projects"][0]["teams"][0]["id"], team.as_str());
    assert_eq!(listed["projects"][0]["teams"][0]["name"], "Acme");

    // The caller's key, decrypted as the app does.
    let mine = data_or_error(
        alice
            .gql(
                "query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }",
                json!({"projectId": project}),
            )
            .await,
    )
    .unwrap();
    let opened = alice
        .user
        .private
        .decrypt_string(mine["projectKey"]["encSymmetricKey"].as_str().unwrap())
        .unwrap();
    let key = SymmetricJwk::from_json(&opened).unwrap().key();

    // Push: upload the missing blobs (gzip + AES-GCM, pretty JSON), then the snapshot.
    let docs = [
        json!({"_id": "req_1", "type": "Request", "name": "Get", "url": "https://a.example", "modified": 1}),
        json!({"_id": "req_2", "type": "Request", "name": "Post", "url": "https://b.example", "modified": 2}),
    ];
    let contents: Vec<String> = docs.iter().map(blob_content).collect();
    let ids: Vec<String> = contents.iter().map(|c| blob_id(c)).collect();
    const MISSING: &str = "query ($project: ID!, $ids: [ID!]!) { blobsMissing(project: $project, ids: $ids) { missing } }";
    const UPLOAD: &str = "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }";
    const PUSH: &str = "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id parent author authorAccount { email } } }";
    let missing = data_or_error(
        alice
            .gql(MISSING, json!({"project": project, "ids": ids}))
            .await,
    )
    .unwrap();
    assert_eq!(missing["blobsMissing"]["missing"], json!(ids));
    let blobs: Vec<Value> = contents
        .iter()
        .zip(&ids)
        .map(|(content, id)| json!({"id": id, "content": seal_blob(&key, content).unwrap()}))
        .collect();
    let uploaded = data_or_error(
        alice
            .gql(UPLOAD, json!({"project": project, "blobs": blobs}))
            .await,
    )
    .unwrap();
    assert_eq!(uploaded["blobsCreate"]["count"], 2);
    let missing = data_or_error(
        alice
            .gql(MISSING, json!({"project": project, "ids": ids}))
            .await,
    )
    .unwrap();
    assert_eq!(missing["blobsMissing"]["missing"], json!([]));
    let s1 = snapshot(
        project,
        EMPTY_HASH,
        &[("req_1", &ids[0]), ("req_2", &ids[1])],
    );
    let pushed = data_or_error(
        alice
            .gql(
                PUSH,
                json!({"project": project, "snapshots": [s1], "branch": "master"}),
            )
            .await,
    )
    .unwrap();
    assert_eq!(pushed["snapshotsCreate"][0]["id"], s1["id"]);
    assert_eq!(
        pushed["snapshotsCreate"][0]["authorAccount"]["email"],
        "alice@example.com"
    );

    // Pull as bob: branch, snapshots, blobs, decrypted with his own copy of the key.
    let bobs_key = data_or_error(
        bob.gql(
            "query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }",
            json!({"projectId": project}),
        )
        .await,
    )
    .unwrap();
    let bobs_key = SymmetricJwk::from_json(
        &bob.user
            .private
            .decrypt_string(bobs_key["projectKey"]["encSymmetricKey"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
    .key();
    let branch = data_or_error(bob.gql("query ($project: ID!, $name: String!,) { branch(project: $project, name: $name) { created modified name snapshots } }", json!({"project": project, "name": "master"})).await).unwrap();
    assert_eq!(branch["branch"]["snapshots"], json!([s1["id"]]));
    let snaps = data_or_error(bob.gql(&format!("query ($ids: [ID!]!, $project: ID!) {{ snapshots(ids: $ids, project: $project) {{ {SNAPSHOT_FIELDS} }} }}"), json!({"ids": [s1["id"]], "project": project})).await).unwrap();
    assert_eq!(snaps["snapshots"][0]["state"].as_array().unwrap().len(), 2);
    assert_eq!(
        snaps["snapshots"][0]["author"],
        alice.id.as_str(),
        "an empty author is filled in with the pusher"
    );
    let pulled = data_or_error(bob.gql("query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }", json!({"ids": [ids[1], ids[0]], "project": project})).await).unwrap();
    let pulled = pulled["blobs"].as_array().unwrap();
    assert_eq!(pulled[0]["id"], ids[1].as_str(), "in the order asked");
    assert_eq!(
        open_blob(&bobs_key, pulled[0]["content"].as_str().unwrap(), 1 << 20).unwrap(),
        contents[1]
    );

    // A second snapshot: only the changed document's blob is missing and uploaded.
    let changed = blob_content(
        &json!({"_id": "req_2", "type": "Request", "name": "Post v2", "url": "https://b.example"}),
    );
    let changed_id = blob_id(&changed);
    let missing = data_or_error(
        alice
            .gql(
                MISSING,
                json!({"project": project, "ids": [ids[0], changed_id]}),
            )
            .await,
    )
    .unwrap();
    assert_eq!(missing["blobsMissing"]["missing"], json!([changed_id]));
    data_or_error(alice.gql(UPLOAD, json!({"project": project, "blobs": [{"id": changed_id, "content": seal_blob(&key, &changed).unwrap()}]})).await).unwrap();
    let s2 = snapshot(
        project,
        s1["id"].as_str().unwrap(),
        &[("req_1", &ids[0]), ("req_2", &changed_id)],
    );
    data_or_error(
        alice
            .gql(
                PUSH,
                json!({"project": project, "snapshots": [s2], "branch": "master"}),
            )
            .await,
    )
    .unwrap();

    // Refused, each changing nothing: not a fast-forward, a forged id, a missing blob, bad blobs.
    let stale = snapshot(project, s1["id"].as_str().unwrap(), &[("req_1", &ids[0])]);
    let mut forged = snapshot(project, s2["id"].as_str().unwrap(), &[("req_1", &ids[0])]);
    forged["id"] = json!("f".repeat(40));
    let unknown_blob = snapshot(
        project,
        s2["id"].as_str().unwrap(),
        &[("req_9", &"9".repeat(40))],
    );
    for (bad, expected) in [
        (stale, "fast-forward"),
        (forged, "does not match"),
        (unknown_blob, "blob"),
    ] {
        let error = data_or_error(
            alice
                .gql(
                    PUSH,
                    json!({"project": project, "snapshots": [bad], "branch": "master"}),
                )
                .await,
        )
        .unwrap_err();
        assert!(error.contains(expected), "{error}");
    }
    for (blob, expected) in [
        (json!({"id": "XYZ", "content": "{}"}), "40 lowercase hex"),
        (
            json!({"id": "e".repeat(40), "content": "not encrypted"}),
            "AES-GCM",
        ),
    ] {
        let error = data_or_error(
            alice
                .gql(UPLOAD, json!({"project": project, "blobs": [blob]}))
                .await,
        )
        .unwrap_err();
        assert!(error.contains(expected), "{error}");
    }
    let branch = data_or_error(bob.gql("query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }", json!({"project": project, "name": "master"})).await).unwrap();
    assert_eq!(
        branch["branch"]["snapshots"],
        json!([s1["id"], s2["id"]]),
        "nothing changed"
    );

    // Access: a non-member and a member without a key get "invalid access" and no data.
    app.join(&alice, &team, &carol, Role::Member).await;
    let dave = app.actor("dave").await;
    for session in [&carol, &dave] {
        for (query, variables) in [
            (
                "query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }",
                json!({"projectId": project}),
            ),
            (
                "query ($project: ID!) { branches(project: $project) { name } }",
                json!({"project": project}),
            ),
            (
                "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }",
                json!({"ids": [ids[0]], "project": project}),
            ),
            (
                PUSH,
                json!({"project": project, "snapshots": [], "branch": "master"}),
            ),
        ] {
            let error = data_or_error(session.gql(query, variables).await).unwrap_err();
            assert!(error.contains("invalid access"), "{error}");
        }
    }
    let hidden = data_or_error(
        dave.gql(
            "query ($id: ID!) { project(id: $id) { id } }",
            json!({"id": project}),
        )
        .await,
    )
    .unwrap();
    assert_eq!(hidden["project"], Value::Null);

    // Branches: master stays; others go. Archiving takes everything.
    let error = data_or_error(alice.gql("mutation ($project: ID!, $name: String!) { branchRemove(project: $project, name: $name) }", json!({"project": project, "name": "master"})).await)
    .unwrap_err();
    assert!(error.contains("master"), "{error}");
    let refused = data_or_error(
        bob.gql(
            "mutation ($id: ID!) { projectArchive(id: $id) }",
            json!({"id": project}),
        )
        .await,
    )
    .unwrap_err();
    assert!(
        refused.contains("invalid access"),
        "a member with a key may not delete the project: {refused}"
    );
    data_or_error(
        alice
            .gql(
                "mutation ($id: ID!) { projectArchive(id: $id) }",
                json!({"id": project}),
            )
            .await,
    )
    .unwrap();
    let gone = data_or_error(
        alice
            .gql(
                "query ($id: ID!) { project(id: $id) { id } }",
                json!({"id": project}),
            )
            .await,
    )
    .unwrap();
    assert_eq!(gone["project"], Value::Null);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM blobs").await, 0);
}

common::on_both_backends!(sync, racing_pushers,);

/// The database dropping every connection mid-traffic (what a restart does to the server) costs
/// at most the requests in flight: the server lives on and answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_costs_requests_not_the_server() {
    let db = common::TestDb::postgres().await;
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    const LIST: &str = "query { projects { id } }";
    data_or_error(alice.gql(LIST, json!({})).await).unwrap();

    let database = db.url.rsplit('/').next().unwrap().to_owned();
    for _ in 0..3 {
        let ended = db
            .scalar(&format!(
                "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) \
                 FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ))
            .await;
        assert!(ended >= 1, "the server's connections were ended");
        // Requests right after may fail (a 503 or an error), never hang or kill the server; it
        // reconnects within moments.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (status, body) = alice.post("/graphql", json!({"query": LIST})).await;
            if status == StatusCode::OK && body["errors"].is_null() {
                break;
            }
            assert!(
                status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::OK,
                "{status}: {body}"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not recover"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let health = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
}

/// Eight clients push onto one branch at once over HTTP, each retrying after a non-fast-forward
/// on top of the tip it then reads: every snapshot lands exactly once, in one chain.
async fn racing_pushers(db: common::TestDb) {
    let app = TestApp::start(&db).await;
    let alice = Arc::new(app.actor("alice").await);
    let team = alice.personal.clone();
    let key = AesKey::generate().unwrap();
    let wrapped = alice
        .user
        .private
        .public_key()
        .unwrap()
        .encrypt_string(&key.to_jwk().to_json())
        .unwrap();
    let project = "prj_feedfacefeedfacefeedfacefeedface";
    data_or_error(alice.gql("mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys) { id } }", json!({"name": "Race", "id": project, "rootDocumentId": "wrk_1", "teamId": team, "teamKeys": [{"accountId": alice.id, "encSymmetricKey": wrapped}]})).await).unwrap();
    let contents: Vec<String> = (0..8)
        .map(|i| blob_content(&json!({"_id": format!("req_{i}"), "n": i})))
        .collect();
    let blobs: Vec<Value> = contents
        .iter()
        .map(|c| json!({"id": blob_id(c), "content": seal_blob(&key, c).unwrap()}))
        .collect();
    data_or_error(alice.gql("mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }", json!({"project": project, "blobs": blobs})).await).unwrap();

    const TIP: &str = "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }";
    let mut pushers = tokio::task::JoinSet::new();
    for content in contents.clone() {
        let alice = alice.clone();
        pushers.spawn(async move {
            let blob = blob_id(&content);
            loop {
                let branch = data_or_error(alice.gql(TIP, json!({"project": project, "name": "master"})).await).unwrap();
                let tip = branch["branch"]["snapshots"]
                    .as_array()
                    .and_then(|list| list.last())
                    .and_then(Value::as_str)
                    .unwrap_or(EMPTY_HASH)
                    .to_owned();
                let mine = snapshot(project, &tip, &[("req", &blob)]);
                match data_or_error(alice.gql("mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id } }", json!({"project": project, "snapshots": [mine], "branch": "master"})).await) {
                    Ok(_) => return,
                    Err(message) => assert!(message.contains("fast-forward"), "{message}"),
                }
            }
        });
    }
    while let Some(done) = pushers.join_next().await {
        done.unwrap();
    }
    let branch = data_or_error(
        alice
            .gql(TIP, json!({"project": project, "name": "master"}))
            .await,
    )
    .unwrap();
    let ids: Vec<Value> = branch["branch"]["snapshots"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 8);
    let chain = data_or_error(alice.gql("query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { id parent state { blob } } }", json!({"ids": ids, "project": project})).await).unwrap();
    let mut parent = EMPTY_HASH.to_owned();
    let mut seen = std::collections::BTreeSet::new();
    for snapshot in chain["snapshots"].as_array().unwrap() {
        assert_eq!(snapshot["parent"], parent.as_str(), "one chain");
        parent = snapshot["id"].as_str().unwrap().to_owned();
        seen.insert(snapshot["state"][0]["blob"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 8, "every pusher's snapshot exactly once");
}
