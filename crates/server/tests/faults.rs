//! Real faults under a running server, which must answer cleanly through them and recover by
//! itself, without a restart:
//!
//! - the disk holding the database fills up during pushes (a small tmpfs of the test's own): on
//!   SQLite, on PostgreSQL (a tablespace on the tmpfs, in a throw-away cluster). Writes fail with
//!   the error shape (a 503, never a 500 or a panic), reads go on, `/readyz` says the server
//!   cannot write; once there is room again, writes succeed and `/readyz` is 200.
//! - the PostgreSQL server restarts (a throw-away cluster, `pg_ctl restart` and a stop/start):
//!   requests fail cleanly during the outage, `/readyz` reports it, and everything works again
//!   afterwards.
//!
//! Every test is bounded by [`TEST_TIMEOUT`]. The helpers (tmpfs, cluster) are in `faults/`.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "faults/cluster.rs"]
mod cluster;
mod common;
#[path = "faults/tmpfs.rs"]
mod tmpfs;

use std::future::Future;
use std::time::{Duration, Instant};

use cluster::Cluster;
use common::http::{
    TestServer, call,
    users::{User, sign_up_and_log_in},
};
use hypnos_crypto::{aes::AesKey, sync::seal_blob};
use hypnos_server::storage;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tmpfs::Tmpfs;

/// No test here may take longer.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// How long the server may take to notice that writing works again (its readiness probe is
/// reused for two seconds).
const RECOVERY: Duration = Duration::from_secs(15);

/// A server with the default settings on `database_url`.
async fn start_server(database_url: &str) -> TestServer {
    let mut config = hypnos_server::ServerConfig::parse_defaults();
    config.database_url = Some(database_url.to_owned());
    TestServer::start_with(config).await
}

/// Runs a test body under [`TEST_TIMEOUT`].
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finished in time");
}

/// A signed-up user with a project of their own, pushing blobs into it.
struct Pusher {
    http: Client,
    session: String,
    project: String,
    key: AesKey,
    /// Makes every blob different (and incompressible).
    counter: u64,
}

impl Pusher {
    /// Signs up `email` and creates a project holding its key.
    async fn new(server: &TestServer, email: &str) -> Self {
        let http = Client::new();
        let user = User::new(email, "a passphrase for faults");
        let (ids, session) = sign_up_and_log_in(server, &http, &user).await;
        let key = AesKey::generate().unwrap();
        let public = user.private.public_key().unwrap();
        let project = "prj_00000000000000000000000000000fa1".to_owned();
        let made = gql(
            server,
            &http,
            &session,
            "mutation ($id: ID!, $keys: [ProjectCreateKeyInput!]) { projectCreate(name: \"Faults\", id: $id, rootDocumentId: \"wrk_1\", teamKeys: $keys) { id } }",
            json!({"id": project, "keys": [{
                "accountId": ids.account_id,
                "encSymmetricKey": public.encrypt_string(&key.to_jwk().to_json()).unwrap(),
            }]}),
        )
        .await;
        assert_eq!(made.1["data"]["projectCreate"]["id"], project, "{made:?}");
        Self {
            http,
            session,
            project,
            key,
            counter: 0,
        }
    }

    /// Uploads one blob of about `bytes` stored bytes; the GraphQL error message on failure.
    async fn push_blob(&mut self, server: &TestServer, bytes: usize) -> Result<String, String> {
        self.counter += 1;
        let content = noise(self.counter, bytes);
        let id = hypnos_crypto::sync::blob_id(&content);
        let sealed = seal_blob(&self.key, &content).unwrap();
        let (status, body) = gql(
            server,
            &self.http,
            &self.session,
            "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }",
            json!({"project": self.project, "blobs": [{"id": id, "content": sealed}]}),
        )
        .await;
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "a failed push is a GraphQL error or a 503, never {status}: {body}"
        );
        match body["errors"].as_array() {
            Some(errors) if !errors.is_empty() => {
                let message = errors[0]["message"].as_str().unwrap_or_default().to_owned();
                // A failure of the server's own says so in its code, which refusals lack.
                if message.starts_with("the server could not") {
                    let code = errors[0]["extensions"]["code"].as_str();
                    assert!(matches!(code, Some("INTERNAL" | "UNAVAILABLE")), "{body}");
                }
                Err(message)
            }
            _ if status == StatusCode::OK => {
                assert_eq!(body["data"]["blobsCreate"]["count"], 1, "{body}");
                Ok(id)
            }
            _ => Err(body.to_string()),
        }
    }

    /// Whether a stored blob reads back.
    async fn blob_exists(&self, server: &TestServer, id: &str) -> bool {
        let (status, body) = gql(
            server,
            &self.http,
            &self.session,
            "query ($project: ID!, $ids: [ID!]!) { blobsMissing(project: $project, ids: $ids) { missing } }",
            json!({"project": self.project, "ids": [id]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["errors"].is_null(), "reads keep working: {body}");
        body["data"]["blobsMissing"]["missing"] == json!([])
    }

    /// Creates a team organization over REST (a small write of a few rows).
    async fn create_team(&self, server: &TestServer, n: usize) -> (StatusCode, Value) {
        call(
            &self.http,
            Method::POST,
            server.url("/v1/organizations"),
            &self.session,
            Some(json!({"name": format!("Team {n}")})),
        )
        .await
    }

    /// Reads the caller's profile over REST.
    async fn profile(&self, server: &TestServer) -> (StatusCode, Value) {
        call(
            &self.http,
            Method::GET,
            server.url("/v1/user/profile"),
            &self.session,
            None,
        )
        .await
    }
}

/// One GraphQL operation; the status and the body.
async fn gql(
    server: &TestServer,
    http: &Client,
    session: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    call(
        http,
        Method::POST,
        server.url("/graphql?op"),
        session,
        Some(json!({"query": query, "variables": variables})),
    )
    .await
}

/// `bytes` characters that gzip cannot shrink much (hex of a xorshift stream seeded by `seed`).
fn noise(seed: u64, bytes: usize) -> String {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = String::with_capacity(bytes + 16);
    while out.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push_str(&format!("{state:016x}"));
    }
    out
}

/// `GET /readyz`: the status and the body.
async fn readyz(http: &Client, server: &TestServer) -> (StatusCode, Value) {
    let response = http.get(server.url("/readyz")).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET /healthz`'s status.
async fn healthz(http: &Client, server: &TestServer) -> StatusCode {
    http.get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .status()
}

/// Asserts an answer is the 503 of the error shape (never a 500).
fn assert_unavailable(status: StatusCode, body: &Value, what: &str) {
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} fails with a 503: {body}"
    );
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{what} answers the error shape: {body}"
    );
}

/// Polls `/readyz` until it answers 200 (failing the test after [`RECOVERY`]).
async fn wait_ready(http: &Client, server: &TestServer) {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let (status, body) = readyz(http, server).await;
        if status == StatusCode::OK {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz did not come back: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The full-disk sequence on a server whose database lives on `disk`: push blobs until the disk
/// is full, then small writes until they fail too; check the answers, reads and `/readyz`; give
/// the disk room and check that everything works again in the same process.
async fn fill_the_disk_and_recover(server: &TestServer, disk: &Tmpfs, blob_bytes: usize) {
    let mut pusher = Pusher::new(server, "filler@example.com").await;
    let http = Client::new();
    assert_eq!(readyz(&http, server).await.0, StatusCode::OK);

    // Push until the disk is full.
    let mut stored = Vec::new();
    let refusal = loop {
        match pusher.push_blob(server, blob_bytes).await {
            Ok(id) => stored.push(id),
            Err(message) => break message,
        }
        assert!(stored.len() < 400, "the disk never filled up");
    };
    assert!(!stored.is_empty(), "some pushes fit before the disk filled");
    assert!(
        refusal.contains("try again") || refusal.contains("unavailable"),
        "a push refused for lack of room says to retry: {refusal}"
    );

    // Small writes, too, fail once SQLite's or PostgreSQL's files cannot grow; each refusal is a
    // 503 with the error shape, and the server stays up.
    let mut n_team = 0;
    let (status, body) = loop {
        n_team += 1;
        let (status, body) = pusher.create_team(server, n_team).await;
        if status != StatusCode::CREATED {
            break (status, body);
        }
        assert!(n_team < 2_000, "small writes never failed on a full disk");
    };
    assert_unavailable(status, &body, "a write on a full disk");

    // Reads keep working; the server is alive but says it cannot write.
    assert_eq!(pusher.profile(server).await.0, StatusCode::OK);
    assert!(
        pusher.blob_exists(server, &stored[0]).await,
        "what was written before is still there"
    );
    assert_eq!(healthz(&http, server).await, StatusCode::OK);
    tokio::time::sleep(storage_recheck()).await;
    let (status, body) = readyz(&http, server).await;
    assert_unavailable(status, &body, "/readyz on a full disk");
    assert_eq!(body["error"], "NOT_READY");
    assert!(
        body["message"].as_str().unwrap().contains("cannot write"),
        "{body}"
    );

    // Room again: the same server takes writes and says it is ready, by itself.
    disk.resize("96m");
    wait_ready(&http, server).await;
    let (status, body) = pusher.create_team(server, n_team + 1).await;
    assert_eq!(status, StatusCode::CREATED, "writes resume: {body}");
    let id = pusher.push_blob(server, blob_bytes).await.unwrap();
    assert!(pusher.blob_exists(server, &id).await);
    for id in &stored {
        assert!(
            pusher.blob_exists(server, id).await,
            "nothing written is lost"
        );
    }
}

/// A little longer than the server reuses a readiness probe, so the next `/readyz` probes anew.
fn storage_recheck() -> Duration {
    Duration::from_millis(2_100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_full_disk_fails_writes_cleanly_and_recovers() {
    bounded(async {
        let disk = Tmpfs::mount("sqlite", "4m");
        let url = storage::default_sqlite_url(&disk.path().join("data"));
        let server = start_server(&url).await;
        fill_the_disk_and_recover(&server, &disk, 384 * 1024).await;
        server.stop().await;
    })
    .await;
}

/// The throw-away cluster's own start: a port taken between choosing it and PostgreSQL binding
/// it (as parallel tests' servers do) costs a retry on another port, not the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_cluster_starts_when_its_port_is_taken() {
    bounded(async {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let cluster = Cluster::start_on(port);
        assert_ne!(cluster.port, port);
        cluster.execute("postgres", "SELECT 1").await;
        drop(taken);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_full_tablespace_fails_writes_cleanly_and_recovers() {
    bounded(async {
        let disk = Tmpfs::mount("pg-space", "16m");
        let cluster = Cluster::start();
        let space = cluster::tablespace_dir(disk.path(), "space");
        cluster
            .execute(
                "postgres",
                &format!("CREATE TABLESPACE faults LOCATION '{}'", space.display()),
            )
            .await;
        let url = cluster.app_database("hypnos", Some("faults")).await;
        let server = start_server(&url).await;
        fill_the_disk_and_recover(&server, &disk, 384 * 1024).await;
        server.stop().await;
        drop(cluster);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_fails_requests_cleanly_and_recovers() {
    bounded(async {
        let cluster = Cluster::start();
        let url = cluster.app_database("hypnos", None).await;
        let server = start_server(&url).await;
        let http = Client::new();
        let mut pusher = Pusher::new(&server, "restart@example.com").await;
        let before = pusher.push_blob(&server, 4096).await.unwrap();
        assert_eq!(readyz(&http, &server).await.0, StatusCode::OK);

        // A restart while the pool holds connections the database then ends: the next requests
        // get fresh connections (or, at worst, a 503), never a 500, and writes work again.
        cluster.restart();
        let deadline = Instant::now() + RECOVERY;
        let mut n_team = 0;
        loop {
            n_team += 1;
            let (status, body) = pusher.create_team(&server, n_team).await;
            if status == StatusCode::CREATED {
                break;
            }
            assert_unavailable(status, &body, "a write just after a restart");
            assert!(Instant::now() < deadline, "writes did not resume");
        }
        assert!(pusher.blob_exists(&server, &before).await);

        // An outage: writes and reads fail cleanly, /readyz says so, /healthz does not.
        cluster.stop();
        let (write, read, ready, live) = tokio::join!(
            pusher.create_team(&server, n_team + 1),
            pusher.profile(&server),
            readyz(&http, &server),
            healthz(&http, &server),
        );
        assert_unavailable(write.0, &write.1, "a write while the database is down");
        assert_unavailable(read.0, &read.1, "a read while the database is down");
        assert_unavailable(ready.0, &ready.1, "/readyz while the database is down");
        assert_eq!(ready.1["error"], "NOT_READY");
        assert_eq!(live, StatusCode::OK, "/healthz stays 200");
        let push = pusher.push_blob(&server, 4096).await;
        assert!(push.is_err(), "a push while the database is down fails");

        // Back up: the same server recovers by itself.
        cluster.start_again();
        wait_ready(&http, &server).await;
        let (status, body) = pusher.create_team(&server, n_team + 2).await;
        assert_eq!(status, StatusCode::CREATED, "writes resume: {body}");
        let after = pusher.push_blob(&server, 4096).await.unwrap();
        assert!(pusher.blob_exists(&server, &after).await);
        assert!(pusher.blob_exists(&server, &before).await);
        server.stop().await;
        drop(cluster);
    })
    .await;
}
