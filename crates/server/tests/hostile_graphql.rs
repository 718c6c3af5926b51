//! A hostile client against the GraphQL sync API, over real HTTP on SQLite and PostgreSQL:
//! aliases and fragments past the budgets, answers past their byte limit, a damaged stored
//! snapshot, a forged snapshot author, and refusals that must not tell what exists in another
//! organization. Every refusal is a GraphQL error in a 200 answer, as the app expects.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::time::Duration;

use common::app::{Actor, TestApp};
use common::vcs::Vcs;
use common::{Backend, TestDb};
use hypnos_crypto::{
    aes::AesKey,
    sync::{EMPTY_HASH, blob_content, blob_id, seal_blob, snapshot_id},
};
use hypnos_server::ServerConfig;
use hypnos_server::storage::{AccountId, ProjectId};
use reqwest::StatusCode;
use serde_json::{Value, json};

common::on_both_backends!(
    timeout = Duration::from_secs(180);
    aliases_fields_and_fragments_past_the_budget_are_refused,
    an_answer_is_bounded_in_bytes,
    a_damaged_snapshot_state_is_an_error_not_an_empty_state,
    the_author_is_the_pusher_and_details_stay_in_the_organization,
    a_refused_project_id_tells_nothing_of_other_organizations,
    pushed_fields_and_asked_ids_are_bounded,
    the_store_tells_sizes_and_member_authors,
);

const PROJECT: &str = "prj_0123456789abcdef0123456789abcdef";
const SNAPSHOT_FIELDS: &str = "id parent created author authorAccount { firstName lastName email } name description state { blob key name }";
const PUSH: &str = "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id author authorAccount { email } } }";
const UPLOAD: &str = "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }";

/// A server, alice with a team ("Acme") holding the project [`PROJECT`] (made as the app
/// makes it: its key encrypted to every member), and its key.
struct World {
    app: TestApp,
    alice: Actor,
    key: AesKey,
}

impl World {
    async fn new(db: &TestDb, config: impl FnOnce(&mut ServerConfig)) -> Self {
        let app = TestApp::start_tuned(db, config).await;
        let alice = app.actor("alice").await;
        let team = app.team(&alice, "Acme").await;
        let key = alice
            .create_project(&team, None, PROJECT, "wrk_1", "API")
            .await;
        Self { app, alice, key }
    }

    /// Uploads one blob of `content` (sealed as the app seals it); returns its id.
    async fn upload(&self, content: &str) -> String {
        let id = blob_id(content);
        let sealed = seal_blob(&self.key, content).unwrap();
        let uploaded = ok(
            &self.alice,
            UPLOAD,
            json!({"project": PROJECT, "blobs": [{"id": id, "content": sealed}]}),
        )
        .await;
        assert_eq!(uploaded["blobsCreate"]["count"], 1);
        id
    }

    /// Pushes one snapshot with one document to master, naming `author`; returns its id.
    async fn push(&self, author: &str) -> String {
        let blob = self
            .upload(&blob_content(
                &json!({"_id": "req_1", "type": "Request", "name": "Get"}),
            ))
            .await;
        let id = snapshot_id(PROJECT, EMPTY_HASH, &[blob.as_str()]);
        let pushed = ok(
            &self.alice,
            PUSH,
            json!({"project": PROJECT, "branch": "master", "snapshots": [{
                "id": id, "parent": EMPTY_HASH, "created": "2026-11-28T08:00:00.000Z",
                "author": author, "name": "first", "description": "",
                "state": [{"key": "req_1", "blob": blob, "name": "Get"}],
            }]}),
        )
        .await;
        assert_eq!(pushed["snapshotsCreate"][0]["id"], id.as_str());
        id
    }

    async fn snapshots(&self, ids: &[&str]) -> Value {
        answer(
            &self.alice,
            &format!("query ($ids: [ID!]!, $project: ID!) {{ snapshots(ids: $ids, project: $project) {{ {SNAPSHOT_FIELDS} }} }}"),
            json!({"ids": ids, "project": PROJECT}),
        )
        .await
    }
}

/// One GraphQL request; the 200 answer (GraphQL errors are answered 200).
async fn answer(who: &Actor, query: &str, variables: Value) -> Value {
    let (status, body) = who.gql(query, variables).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `data` of a request that must succeed.
async fn ok(who: &Actor, query: &str, variables: Value) -> Value {
    let body = answer(who, query, variables).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

/// The first error's message of a request that must fail.
async fn refused(who: &Actor, query: &str, variables: Value) -> String {
    let body = answer(who, query, variables).await;
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("an error: {body}"))
        .to_owned()
}

/// `count` copies of `field`, each under its own alias.
fn aliased(count: usize, field: &str) -> String {
    let fields: Vec<String> = (0..count).map(|n| format!("a{n}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

async fn aliases_fields_and_fragments_past_the_budget_are_refused(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    world.push("").await;
    let branch = format!("branch(project: \"{PROJECT}\", name: \"master\") {{ name snapshots }}");

    // Up to the budget (10 top-level fields) is answered, each field in full: the store is
    // used by two of them at a time.
    let ten = ok(&world.alice, &aliased(10, &branch), json!({})).await;
    for n in 0..10 {
        assert_eq!(ten[format!("a{n}")]["name"], "master", "{ten}");
    }
    // One more is refused before anything runs.
    let message = refused(&world.alice, &aliased(11, &branch), json!({})).await;
    assert!(
        message.contains("more than 10 top-level fields"),
        "{message}"
    );
    // The report's request: 30,000 aliased `branches` in 2 MB. Refused unparsed for its length.
    let flood = aliased(
        30_000,
        &format!("branches(project: \"{PROJECT}\") {{ name }}"),
    );
    let message = refused(&world.alice, &flood, json!({})).await;
    assert!(message.contains("longer than"), "{message}");
    // The same many aliases within the text limit: refused for the aliases.
    let many = aliased(
        1_000,
        &format!("branches(project: \"{PROJECT}\") {{ name }}"),
    )
    .replace(&format!("(project: \"{PROJECT}\")"), "(project: $p)");
    let message = refused(
        &world.alice,
        &format!("query ($p: ID!) {}", many),
        json!({"p": PROJECT}),
    )
    .await;
    assert!(message.contains("more than 10"), "{message}");
    // Aliases below the top level count too.
    let inner = aliased(11, "name");
    let message = refused(
        &world.alice,
        &format!("{{ branch(project: \"{PROJECT}\", name: \"master\") {inner} }}"),
        json!({}),
    )
    .await;
    assert!(message.contains("more than 10 aliases"), "{message}");
    // More than 100 fields, without a single alias.
    let wide = format!("{{ projects {{ {} }} }}", "id ".repeat(101));
    let message = refused(&world.alice, &wide, json!({})).await;
    assert!(message.contains("more than 100 fields"), "{message}");
    // Fragments spread into each other: 2^14 expansions, refused after counting 100.
    let mut bomb = String::from("{ ...f0 }\n");
    for level in 0..14 {
        let next = level + 1;
        bomb.push_str(&format!(
            "fragment f{level} on QueryRoot {{ ...f{next} ...f{next} }}\n"
        ));
    }
    bomb.push_str(&format!("fragment f14 on QueryRoot {{ a: branch(project: \"{PROJECT}\", name: \"master\") {{ name }} }}\n"));
    let message = refused(&world.alice, &bomb, json!({})).await;
    assert!(message.contains("more than"), "{message}");

    // The app's own largest operation is well inside the budgets.
    let snapshot = world.snapshots(&[]).await;
    assert!(snapshot["errors"].is_null(), "{snapshot}");
    world.app.server.stop().await;
}

async fn an_answer_is_bounded_in_bytes(db: TestDb) {
    // Blobs up to 1 MiB, answers up to 3 MiB: five copies of a 700 KB blob do not fit.
    let world = World::new(&db, |config| {
        config.max_blob_bytes = 1024 * 1024;
        config.max_answer_bytes = 3 * 1024 * 1024;
    })
    .await;
    // Random hex does not compress: its sealed blob is about as large as it is.
    let mut noise = String::new();
    while noise.len() < 700 * 1024 {
        noise.push_str(&hypnos_crypto::random::random_hex_32().unwrap());
    }
    let blob = world
        .upload(&blob_content(&json!({"_id": "req_big", "body": noise})))
        .await;
    let one = format!("blobs(ids: [\"{blob}\"], project: \"{PROJECT}\") {{ id content }}");
    let single = ok(&world.alice, &format!("{{ {one} }}"), json!({})).await;
    let size = single["blobs"][0]["content"].as_str().unwrap().len();
    assert!(
        (650 * 1024..1024 * 1024).contains(&size),
        "the blob is large: {size}"
    );
    let message = refused(&world.alice, &aliased(5, &one), json!({})).await;
    assert!(message.contains("more than 3145728 bytes"), "{message}");
    // The same blob asked 1,000 times in one field is one blob.
    let repeated = vec![blob.as_str(); 1_000];
    let answer = ok(
        &world.alice,
        "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id } }",
        json!({"ids": repeated, "project": PROJECT}),
    )
    .await;
    assert_eq!(answer["blobs"].as_array().unwrap().len(), 1);
    world.app.server.stop().await;
}

async fn a_damaged_snapshot_state_is_an_error_not_an_empty_state(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    let id = world.push("").await;
    let fine = world.snapshots(&[&id]).await;
    assert_eq!(
        fine["data"]["snapshots"][0]["state"][0]["key"], "req_1",
        "{fine}"
    );
    db.execute(&format!(
        "UPDATE snapshots SET state = '[{{\"blob\": 1' WHERE id = '{id}'"
    ))
    .await;
    let damaged = world.snapshots(&[&id]).await;
    let message = damaged["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("damaged"),
        "an error, not an empty state: {damaged}"
    );
    // An empty data object (never null: the newest apps throw on a null one), not an empty state.
    assert!(
        damaged["data"]
            .as_object()
            .is_some_and(|data| data.is_empty()),
        "{damaged}"
    );
    world.app.server.stop().await;
}

async fn the_author_is_the_pusher_and_details_stay_in_the_organization(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    // Bob has an account but is no member of Acme.
    let bob = world.app.actor("bob").await;

    // Alice names bob as the author: the snapshot is hers, and bob's details stay hidden.
    let id = world.push(&bob.id).await;
    let read = world.snapshots(&[&id]).await;
    let snapshot = &read["data"]["snapshots"][0];
    assert_eq!(snapshot["author"], world.alice.id.as_str(), "{read}");
    assert_eq!(
        snapshot["authorAccount"]["email"], "alice@example.com",
        "{read}"
    );

    // A snapshot stored naming an account outside the organization (as older servers stored
    // what the pusher said) shows no details of it.
    let blobs = [hypnos_crypto::sync::blob_id("x")];
    let planted = snapshot_id(PROJECT, &id, &[blobs[0].as_str()]);
    db.execute(&format!(
        "INSERT INTO snapshots (organization_id, project_id, id, parent, created, author, name, \
             description, state) SELECT organization_id, id, '{planted}', '{id}', 'now', \
             '{}', 'planted', '', '[]' FROM projects WHERE id = '{PROJECT}'",
        bob.id
    ))
    .await;
    let read = world.snapshots(&[&planted, &id]).await;
    let snapshots = read["data"]["snapshots"].as_array().unwrap();
    assert_eq!(snapshots[0]["author"], bob.id.as_str(), "{read}");
    assert_eq!(
        snapshots[0]["authorAccount"],
        json!({"firstName": "", "lastName": "", "email": ""}),
        "no details of a non-member: {read}"
    );
    assert_eq!(
        snapshots[1]["authorAccount"]["email"], "alice@example.com",
        "{read}"
    );
    world.app.server.stop().await;
}

async fn a_refused_project_id_tells_nothing_of_other_organizations(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    let bob = world.app.actor("bob").await;
    // Bob creates a project with the id of alice's, in his personal organization, with a key
    // for himself as the app would.
    let create = "mutation ($id: ID!, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: \"Mine\", id: $id, rootDocumentId: \"wrk_2\", teamKeys: $teamKeys) { id } }";
    let keys =
        json!([{"accountId": bob.id, "encSymmetricKey": "ab".repeat(256), "autoLinked": false}]);
    let message = refused(&bob, create, json!({"id": PROJECT, "teamKeys": keys})).await;
    for telling in ["another organization", "exists", "Acme", "API"] {
        assert!(!message.contains(telling), "{telling:?} in {message}");
    }
    assert!(message.contains("invalid access"), "{message}");
    let mine = ok(&bob, "{ projects { id } }", json!({})).await;
    assert_eq!(mine["projects"], json!([]), "nothing was created");
    world.app.server.stop().await;
}

async fn pushed_fields_and_asked_ids_are_bounded(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    let blob = world.upload(&blob_content(&json!({"_id": "req_1"}))).await;
    let id = snapshot_id(PROJECT, EMPTY_HASH, &[blob.as_str()]);
    let snapshot = |created: String| {
        json!({"project": PROJECT, "branch": "master", "snapshots": [{
            "id": id, "parent": EMPTY_HASH, "created": created, "author": "", "name": "n",
            "description": "", "state": [{"key": "req_1", "blob": blob, "name": "R"}],
        }]})
    };
    let message = refused(&world.alice, PUSH, snapshot("9".repeat(100_000))).await;
    assert!(message.contains("created is at most"), "{message}");
    let branch = ok(
        &world.alice,
        &format!("{{ branch(project: \"{PROJECT}\", name: \"master\") {{ name }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(branch["branch"], Value::Null, "nothing was pushed");
    // blobsMissing echoes the ids it lacks: only blob ids are taken.
    let message = refused(
            &world.alice,
            "query ($ids: [ID!]!) { blobsMissing(project: \"prj_0123456789abcdef0123456789abcdef\", ids: $ids) { missing } }",
            json!({"ids": ["x".repeat(100_000)]}),
        )
        .await;
    assert!(message.contains("40 lowercase hex"), "{message}");
    // An AES message is JSON inside the blob's content: one nested 100,000 deep is refused as
    // malformed, not parsed without bound.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let message = refused(
        &world.alice,
        UPLOAD,
        json!({"project": PROJECT, "blobs": [{"id": "c".repeat(40), "content": deep}]}),
    )
    .await;
    assert!(message.contains("not an AES-GCM message"), "{message}");
    ok(
        &world.alice,
        PUSH,
        snapshot("2026-11-28T08:00:00.000Z".into()),
    )
    .await;
    world.app.server.stop().await;
}

async fn the_store_tells_sizes_and_member_authors(db: TestDb) {
    let world = World::new(&db, |_| {}).await;
    let snapshot = world.push("").await;
    let bob = world.app.actor("bob").await;
    let store = db.connect().await;
    let project_id = ProjectId::from(PROJECT);
    let (project, _) = store
        .project_of(&AccountId::from(world.alice.id.as_str()), &project_id)
        .await
        .unwrap()
        .unwrap();
    let organization = &project.organization_id;
    let blob = blob_id(&blob_content(
        &json!({"_id": "req_1", "type": "Request", "name": "Get"}),
    ));
    let stored = store
        .blobs(organization, &project_id, std::slice::from_ref(&blob))
        .await
        .unwrap();
    let asked = [blob.clone(), blob.clone(), "f".repeat(40)];
    let size = stored[0].content.len() as u64;
    assert!(
        store
            .blobs_within(organization, &project_id, &asked, size)
            .await
            .unwrap()
            .is_some_and(|found| found.iter().all(|found| found.id == blob)),
        "each blob counted once, unknown ids nothing"
    );
    assert!(
        store
            .blobs_within(organization, &project_id, &asked, size - 1)
            .await
            .unwrap()
            .is_none(),
        "past the limit nothing is loaded"
    );
    let state = store
        .snapshots(organization, &project_id, std::slice::from_ref(&snapshot))
        .await
        .unwrap()[0]
        .state
        .len() as u64;
    assert_eq!(
        store
            .snapshots_size(
                organization,
                &project_id,
                &[snapshot.clone(), snapshot.clone()]
            )
            .await
            .unwrap(),
        state
    );
    let authors = store
        .member_authors(
            organization,
            &[
                world.alice.id.clone(),
                bob.id.clone(),
                "acct_unknown".into(),
                world.alice.id.clone(),
            ],
        )
        .await
        .unwrap();
    assert_eq!(authors.len(), 1, "alice alone is a member: {authors:?}");
    assert_eq!(authors[0].account_id, world.alice.id);
    assert_eq!(authors[0].email, "alice@example.com");
    world.app.server.stop().await;
}

/// The peak resident memory of this process (`VmHWM` of /proc/self/status), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

/// A measurement, not a check (run it with `--ignored --nocapture`): the peak RSS of the test
/// process (server in process, the client discarding the answer as it arrives) for the report's
/// request, 100 aliases of `blobs` over one 8 MiB blob, and for 10 aliases (within the alias
/// budget, past the answer budget).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for the report: run with --ignored --nocapture"]
async fn measure_peak_rss_of_blob_aliases() {
    common::bounded(Duration::from_secs(180), async {
        let db = TestDb::new(Backend::Sqlite).await;
        let world = World::new(&db, |_| {}).await;
        let plain = "x".repeat(4 * 1024 * 1024 - 200);
        let content = hypnos_crypto::aes::encrypt_string(&world.key, &plain)
            .unwrap()
            .to_json();
        assert!(content.len() <= 8 * 1024 * 1024, "{}", content.len());
        let blob = "b".repeat(40);
        ok(
            &world.alice,
            UPLOAD,
            json!({"project": PROJECT, "blobs": [{"id": blob, "content": content}]}),
        )
        .await;
        drop(content);
        drop(plain);
        let one = format!("blobs(ids: [\"{blob}\"], project: \"{PROJECT}\") {{ id content }}");
        println!("idle after upload: peak RSS {} MiB", peak_rss_mib());
        for count in [10, 100] {
            let response = world
                .app
                .http
                .post(world.app.url("/graphql?measure"))
                .header("X-Session-Id", &world.alice.session)
                .json(&json!({"query": aliased(count, &one)}))
                .send()
                .await
                .unwrap();
            let mut response = response;
            let mut bytes = 0usize;
            let mut head = Vec::new();
            while let Some(chunk) = response.chunk().await.unwrap() {
                if head.len() < 300 {
                    head.extend_from_slice(&chunk[..chunk.len().min(300)]);
                }
                bytes += chunk.len();
            }
            println!(
                "{count} aliases: answer {bytes} bytes ({}…), peak RSS {} MiB",
                String::from_utf8_lossy(&head[..head.len().min(160)]),
                peak_rss_mib()
            );
        }
        world.app.server.stop().await;
    })
    .await;
}

#[test]
fn the_limits_are_checked_at_start() {
    let mut config = ServerConfig::parse_defaults();
    assert_eq!(config.max_answer_bytes, 64 * 1024 * 1024);
    assert_eq!(config.graphql_max_complexity, 100);
    assert_eq!(config.graphql_max_aliases, 10);
    assert!(config.validate().is_ok());
    config.max_answer_bytes = config.max_blob_bytes - 1;
    let refused = config.validate().unwrap_err();
    assert!(refused.contains("--max-answer-bytes"), "{refused}");
    config.max_answer_bytes = config.max_blob_bytes;
    config.graphql_max_aliases = 0;
    assert!(config.validate().is_err());
}
