//! A server killed (SIGKILL) in the middle of a push and started again shows the whole push or
//! none of it (issue #5), on SQLite and on PostgreSQL: the real binary, killed at several
//! moments while a 300-snapshot push is in flight, then restarted on the same database.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use assert_cmd::cargo::cargo_bin;
use hypnos_client::{Api, NewAccount};
use hypnos_crypto::{
    aes::AesKey,
    rsa::RsaPublicKey,
    sync::{EMPTY_HASH, blob_content, blob_id, seal_blob, snapshot_id},
};
use serde_json::{Value, json};

/// The PostgreSQL server the tests use, as in the server crate's tests.
fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(database: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(cargo_bin("hypnos"))
            .args(["server", "--listen", &format!("127.0.0.1:{port}")])
            // Servers of parallel tests would fight over the default metrics port.
            .args(["--metrics-listen", "off"])
            .args(["--database", database])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{base}/readyz")).await.is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, base }
    }

    fn kill(mut self) {
        // Child::kill sends SIGKILL: no shutdown, no flushing, no goodbye.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

async fn gql(api: &Api, session: &str, query: &str, variables: Value) -> Value {
    api.graphql(session, query, variables)
        .await
        .unwrap_or_else(|err| panic!("{err}"))
}

async fn tip_and_length(api: &Api, session: &str, project: &str) -> (String, usize) {
    let branch = gql(
        api,
        session,
        "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }",
        json!({"project": project, "name": "master"}),
    )
    .await;
    let snapshots = branch["branch"]["snapshots"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let tip = snapshots
        .last()
        .and_then(Value::as_str)
        .unwrap_or(EMPTY_HASH)
        .to_owned();
    (tip, snapshots.len())
}

async fn kill_during_pushes(database: &str) {
    const BATCH: usize = 300;
    let mut server = Server::start(database).await;
    let mut api = Api::new(&server.base).unwrap();

    // An account, a project and the blobs the snapshots will name.
    let passphrase = "kill's long passphrase";
    let email = "kill@example.com";
    hypnos_client::sign_up(
        &api,
        &NewAccount {
            email,
            first_name: "Kill",
            last_name: "",
            passphrase,
        },
    )
    .await
    .unwrap();
    let session = hypnos_client::log_in(&api, email, passphrase)
        .await
        .unwrap()
        .id
        .to_string();
    let team = hypnos_client::orgs::list(&api, &session).await.unwrap()[0]
        .id
        .clone();
    let members = gql(&api, &session, "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey } } }", json!({"teamId": team})).await;
    let member = &members["teamMemberKeys"]["memberKeys"][0];
    let key = AesKey::generate().unwrap();
    let wrapped = RsaPublicKey::from_jwk_json(member["publicKey"].as_str().unwrap())
        .unwrap()
        .encrypt_string(&key.to_jwk().to_json())
        .unwrap();
    let project = "prj_00112233445566778899aabbccddeeff";
    gql(&api, &session, "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys) { id } }", json!({"name": "Kill", "id": project, "rootDocumentId": "wrk_1", "teamId": team, "teamKeys": [{"accountId": member["accountId"], "encSymmetricKey": wrapped}]})).await;
    let contents: Vec<String> = (0..BATCH)
        .map(|i| blob_content(&json!({"_id": format!("req_{i}"), "n": i})))
        .collect();
    let blobs: Vec<Value> = contents
        .iter()
        .map(|c| json!({"id": blob_id(c), "content": seal_blob(&key, c).unwrap()}))
        .collect();
    gql(&api, &session, "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }", json!({"project": project, "blobs": blobs})).await;

    let (mut whole, mut none) = (0, 0);
    for delay_ms in [0u64, 3, 10, 25, 50, 100] {
        let (tip, before) = tip_and_length(&api, &session, project).await;
        // A chain of BATCH snapshots on the tip, snapshot i naming blob i.
        let mut parent = tip;
        let mut snapshots = Vec::with_capacity(BATCH);
        for content in &contents {
            let blob = blob_id(content);
            let id = snapshot_id(project, &parent, &[blob.as_str()]);
            snapshots.push(json!({"id": id, "parent": parent, "created": "2026-11-28T09:00:00.000Z", "author": "", "name": "s", "description": "", "state": [{"key": "req", "blob": blob, "name": "r"}]}));
            parent = id;
        }
        let push = {
            let (api, session) = (api.clone(), session.clone());
            let variables = json!({"project": project, "snapshots": snapshots, "branch": "master"});
            tokio::spawn(async move {
                api.graphql(&session, "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id } }", variables)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.kill();
        let _ = push.await;
        server = Server::start(database).await;
        api = Api::new(&server.base).unwrap();
        let (_, after) = tip_and_length(&api, &session, project).await;
        assert!(
            after == before || after == before + BATCH,
            "killed {delay_ms} ms into a push: {after} snapshots, expected {before} or {}",
            before + BATCH
        );
        if after == before {
            none += 1
        } else {
            whole += 1
        }
    }
    eprintln!("{database}: {whole} pushes landed whole, {none} not at all");
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_killed_midway_lands_whole_or_not_at_all_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_during_pushes(&format!(
        "sqlite://{}/hypnos.db?mode=rwc",
        dir.path().display()
    ))
    .await;
}

/// A throw-away PostgreSQL database, dropped even when the test fails.
struct PostgresDb {
    admin: String,
    name: String,
}

impl PostgresDb {
    fn psql(admin: &str, sql: &str) -> bool {
        Command::new("psql")
            .args([admin, "-qc", sql])
            .status()
            .is_ok_and(|status| status.success())
    }

    fn create() -> Self {
        let admin = admin_url();
        let name = format!("hypnos_kill_{}", std::process::id());
        assert!(
            Self::psql(&admin, &format!("CREATE DATABASE {name}")),
            "cannot create {name} on {admin}"
        );
        Self { admin, name }
    }

    fn url(&self) -> String {
        let base = self
            .admin
            .rsplit_once('/')
            .map_or(self.admin.as_str(), |(base, _)| base);
        format!("{base}/{}", self.name)
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        Self::psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_killed_midway_lands_whole_or_not_at_all_postgres() {
    let db = PostgresDb::create();
    kill_during_pushes(&db.url()).await;
}
