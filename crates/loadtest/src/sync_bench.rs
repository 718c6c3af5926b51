//! `hypnos-sync-bench`: pushes, then pulls, a project of many documents through the running
//! server's GraphQL API, batched as the app batches (issue #5's benchmark).
//!
//! Push: make the documents' blobs (deterministic stringify, gzip, AES-GCM with the project key,
//! as the app does), ask `blobsMissing` for all of them, upload with `blobsCreate` in batches of
//! at most 200 blobs or 2 MiB, then `snapshotsCreate` one snapshot holding every document.
//! Pull: `branch`, `snapshots` (20 ids a query), `blobs` (50 a query), each blob decrypted and
//! checked against its id. Each way is timed whole, the client's crypto included; the server's
//! peak memory (VmHWM) is read from /proc when its process id is given.

use std::time::{Duration, Instant};

use hypnos_crypto::{
    aes::AesKey,
    rsa::RsaPublicKey,
    sync::{EMPTY_HASH, blob_content, blob_id, open_blob, seal_blob, snapshot_id},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{LoadError, account, login, run::http_client};

/// The app's upload batch: at most this many blobs, or this many bytes.
const UPLOAD_BLOBS: usize = 200;
const UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// The app's download batches.
const SNAPSHOTS_PER_QUERY: usize = 20;
const BLOBS_PER_QUERY: usize = 50;

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "hypnos-sync-bench", version, about, long_about = None)]
pub struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub server: String,
    /// How many documents the project holds.
    #[arg(long, default_value_t = 10_000)]
    pub documents: usize,
    /// About how many bytes each document's JSON has.
    #[arg(long, default_value_t = 1024)]
    pub document_bytes: usize,
    /// The server's process id: report its peak memory (VmHWM).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Documents pushed and pulled.
    pub documents: usize,
    /// Bytes of ciphertext uploaded.
    pub uploaded_bytes: usize,
    /// Seconds for the whole push, client crypto included.
    pub push_seconds: f64,
    /// Of which sealing the blobs on the client.
    pub push_client_crypto_seconds: f64,
    /// Seconds for the whole pull, client decryption included.
    pub pull_seconds: f64,
    /// Documents per second, pushing.
    pub push_documents_per_second: f64,
    /// Documents per second, pulling.
    pub pull_documents_per_second: f64,
    /// HTTP requests made for the push and the pull.
    pub requests: (usize, usize),
    /// The server's peak resident memory in MiB, when its pid was given.
    pub server_peak_mib: Option<f64>,
}

/// A logged-in account's GraphQL client, counting its requests.
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) session: String,
    pub(crate) requests: usize,
}

impl Client {
    pub(crate) async fn gql(&mut self, query: &str, variables: Value) -> Result<Value, LoadError> {
        self.requests += 1;
        let response = self
            .http
            .post(&self.url)
            .header("X-Session-Id", &self.session)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?;
        let body: Value = response.json().await?;
        if let Some(error) = body["errors"].as_array().and_then(|errors| errors.first()) {
            return Err(LoadError::Setup(format!(
                "GraphQL error: {}",
                error["message"]
            )));
        }
        Ok(body["data"].clone())
    }
}

/// One document of about `size` bytes.
fn document(index: usize, size: usize) -> Value {
    json!({
        "_id": format!("req_{index:032x}"),
        "type": "Request",
        "parentId": "wrk_bench",
        "name": format!("Request {index}"),
        "method": "POST",
        "url": format!("https://api.example.com/items/{index}"),
        "body": {"mimeType": "application/json", "text": "x".repeat(size.saturating_sub(200))},
        "modified": 1_700_000_000_000u64 + index as u64,
    })
}

fn peak_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A signed-up, logged-in account with a new, empty project whose key it holds.
pub(crate) struct Seeded {
    pub(crate) client: Client,
    pub(crate) account: account::LoadAccount,
    pub(crate) project: String,
    pub(crate) key: AesKey,
}

/// Signs up an account (e-mail `<prefix>-0-<tag>@load.test`), logs in and creates a project in
/// its personal organization with the key encrypted to it.
pub(crate) async fn seed(base: &str, prefix: &str) -> Result<Seeded, LoadError> {
    let http = http_client(4)?;
    let shared = tokio::task::spawn_blocking(account::SharedKeys::generate)
        .await
        .map_err(|err| LoadError::Setup(err.to_string()))??;
    let prefix = prefix.to_owned();
    let (load_account, request) =
        tokio::task::spawn_blocking(move || account::prepare(&shared, &prefix, 0))
            .await
            .map_err(|err| LoadError::Setup(err.to_string()))??;
    account::sign_up(&http, base, &request).await?;
    let logged_in = login::log_in(&http, base, &load_account)
        .await
        .map_err(|failure| LoadError::Setup(failure.key()))?;
    let mut client = Client {
        http,
        url: format!("{base}/graphql"),
        session: logged_in.session,
        requests: 0,
    };

    // The project, with its key encrypted to the one member.
    let organizations: Value = client
        .http
        .get(format!("{base}/v1/organizations"))
        .header("X-Session-Id", &client.session)
        .send()
        .await?
        .json()
        .await?;
    let team = organizations["organizations"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let members = client
        .gql(
            "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey } } }",
            json!({"teamId": team}),
        )
        .await?;
    let member = &members["teamMemberKeys"]["memberKeys"][0];
    let public = RsaPublicKey::from_jwk_json(member["publicKey"].as_str().unwrap_or_default())?;
    let key = AesKey::generate()?;
    let project = format!("prj_{}", hypnos_crypto::random::random_hex_32()?);
    client
        .gql(
            "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys) { id } }",
            json!({
                "name": "Benchmark", "id": project, "rootDocumentId": "wrk_bench", "teamId": team,
                "teamKeys": [{"accountId": member["accountId"], "encSymmetricKey": public.encrypt_string(&key.to_jwk().to_json())?, "autoLinked": false}],
            }),
        )
        .await?;
    Ok(Seeded {
        client,
        account: load_account,
        project,
        key,
    })
}

/// What a push sent.
pub(crate) struct Pushed {
    /// Bytes of ciphertext uploaded.
    pub(crate) uploaded_bytes: usize,
    /// Time spent sealing blobs on the client.
    pub(crate) crypto: Duration,
}

/// Pushes `count` documents of about `size` bytes to the project's master branch as one
/// snapshot, uploading the blobs in the app's batches.
pub(crate) async fn push_documents(
    client: &mut Client,
    project: &str,
    key: &AesKey,
    count: usize,
    size: usize,
) -> Result<Pushed, LoadError> {
    let documents: Vec<Value> = (0..count).map(|i| document(i, size)).collect();
    let crypto_started = Instant::now();
    let mut blobs = Vec::with_capacity(documents.len());
    for document in &documents {
        let content = blob_content(document);
        blobs.push((blob_id(&content), seal_blob(key, &content)?));
    }
    let crypto = crypto_started.elapsed();
    let ids: Vec<&str> = blobs.iter().map(|(id, _)| id.as_str()).collect();
    let missing = client
        .gql(
            "query ($project: ID!, $ids: [ID!]!) { blobsMissing(project: $project, ids: $ids) { missing } }",
            json!({"project": project, "ids": ids}),
        )
        .await?;
    let missing: std::collections::HashSet<&str> = missing["blobsMissing"]["missing"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut batch: Vec<Value> = Vec::new();
    let mut batch_bytes = 0;
    let mut uploaded_bytes = 0;
    for (id, content) in blobs.iter().filter(|(id, _)| missing.contains(id.as_str())) {
        if !batch.is_empty()
            && (batch.len() == UPLOAD_BLOBS || batch_bytes + content.len() > UPLOAD_BYTES)
        {
            upload(client, project, std::mem::take(&mut batch)).await?;
            batch_bytes = 0;
        }
        batch_bytes += content.len();
        uploaded_bytes += content.len();
        batch.push(json!({"id": id, "content": content}));
    }
    if !batch.is_empty() {
        upload(client, project, batch).await?;
    }
    let state: Vec<Value> = documents
        .iter()
        .zip(&blobs)
        .map(|(document, (id, _))| json!({"key": document["_id"], "blob": id, "name": document["name"]}))
        .collect();
    let snapshot = json!({
        "id": snapshot_id(project, EMPTY_HASH, &ids),
        "parent": EMPTY_HASH, "created": "2026-11-28T09:00:00.000Z", "author": "",
        "name": "Initial Snapshot", "description": "", "state": state,
    });
    client
        .gql(
            "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id } }",
            json!({"project": project, "snapshots": [snapshot], "branch": "master"}),
        )
        .await?;
    Ok(Pushed {
        uploaded_bytes,
        crypto,
    })
}

/// Signs up, logs in, creates the project, pushes and pulls; returns the figures.
pub async fn run(args: &Args) -> Result<Report, LoadError> {
    let base = args.server.trim_end_matches('/').to_owned();
    let Seeded {
        mut client,
        project,
        key,
        ..
    } = seed(&base, "sync-bench").await?;

    // Push.
    client.requests = 0;
    let started = Instant::now();
    let Pushed {
        uploaded_bytes,
        crypto,
    } = push_documents(
        &mut client,
        &project,
        &key,
        args.documents,
        args.document_bytes,
    )
    .await?;
    let push = started.elapsed();
    let push_requests = client.requests;

    // Pull.
    client.requests = 0;
    let started = Instant::now();
    let branch = client
        .gql(
            "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }",
            json!({"project": project, "name": "master"}),
        )
        .await?;
    let snapshot_ids: Vec<String> = branch["branch"]["snapshots"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut wanted = Vec::new();
    for chunk in snapshot_ids.chunks(SNAPSHOTS_PER_QUERY) {
        let found = client
            .gql(
                "query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { id state { blob key name } } }",
                json!({"ids": chunk, "project": project}),
            )
            .await?;
        for snapshot in found["snapshots"].as_array().into_iter().flatten() {
            for entry in snapshot["state"].as_array().into_iter().flatten() {
                wanted.push(entry["blob"].as_str().unwrap_or_default().to_owned());
            }
        }
    }
    let mut pulled = 0;
    for chunk in wanted.chunks(BLOBS_PER_QUERY) {
        let found = client
            .gql(
                "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }",
                json!({"ids": chunk, "project": project}),
            )
            .await?;
        for blob in found["blobs"].as_array().into_iter().flatten() {
            let content = open_blob(&key, blob["content"].as_str().unwrap_or_default(), 16 << 20)?;
            if blob_id(&content) != blob["id"].as_str().unwrap_or_default() {
                return Err(LoadError::Setup(
                    "a pulled blob does not match its id".into(),
                ));
            }
            pulled += 1;
        }
    }
    let pull = started.elapsed();
    if pulled != args.documents {
        return Err(LoadError::Setup(format!(
            "pulled {pulled} of {} documents",
            args.documents
        )));
    }
    let rate = |time: Duration| args.documents as f64 / time.as_secs_f64().max(f64::MIN_POSITIVE);
    Ok(Report {
        documents: args.documents,
        uploaded_bytes,
        push_seconds: push.as_secs_f64(),
        push_client_crypto_seconds: crypto.as_secs_f64(),
        pull_seconds: pull.as_secs_f64(),
        push_documents_per_second: rate(push),
        pull_documents_per_second: rate(pull),
        requests: (push_requests, client.requests),
        server_peak_mib: args.server_pid.and_then(peak_mib),
    })
}

async fn upload(client: &mut Client, project: &str, blobs: Vec<Value>) -> Result<(), LoadError> {
    client
        .gql(
            "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }",
            json!({"project": project, "blobs": blobs}),
        )
        .await
        .map(drop)
}
