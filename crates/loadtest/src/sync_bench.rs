//! `hypnos-sync-bench`: pushes, then pulls, a project of many documents through the running
//! server's GraphQL API, on the code path of `hypnos push` and `hypnos pull` (issue #5's
//! benchmark; issue 14 put it on the client's).
//!
//! Set-up, with `hypnos-client`: sign up and log in, a team project in the personal
//! organization, and a backend project with its key encrypted to the one member.
//! Push, with the client's sync layer ([`Remote`]): make the documents' blobs (deterministic
//! stringify and id, as the app does), `blobsMissing` for all of them, seal them (gzip, AES-GCM
//! with the project key) on all cores, upload with `blobsCreate` in the app's batches of at most
//! 200 blobs or 2 MiB, four in flight, then `snapshotsCreate` one snapshot holding every document.
//! Pull: `branch`, the tip's `snapshots`, `blobs` 50 a query, each blob opened and checked
//! against its id. Each way is timed whole, the client's crypto included, and the making and
//! sealing of the blobs apart; the server's peak memory (VmHWM) is read from /proc when its
//! process id is given.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use hypnos_client::{
    Api, NewAccount, Session,
    sync::{
        Progress,
        remote::{NewSnapshot, Project, Remote, seal_blobs},
        state::state_of,
    },
};
use hypnos_crypto::{
    aes::AesKey,
    random::{prefixed_id, random_hex_32},
    sync::{EMPTY_HASH, snapshot_id},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::LoadError;

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
    /// Of which making and sealing the blobs on the client.
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
    Some(crate::cpu::status_kib(pid, "VmHWM")? as f64 / 1024.0)
}

/// Counts the requests of a sync: the client's upload and download tell their [`Progress`] of
/// each batch as it lands, one request each; the other operations are one request each.
#[derive(Default)]
pub(crate) struct Requests(AtomicUsize);

impl Requests {
    /// One more request made.
    fn one(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count since the last take, and a fresh start.
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Progress for Requests {
    fn begin(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {
        self.one();
    }
    fn end(&self) {}
}

/// A signed-up, logged-in account with a new, empty project whose key it holds.
pub(crate) struct Seeded {
    pub(crate) api: Api,
    pub(crate) session: Session,
    /// The account's passphrase, for a later log-in.
    pub(crate) passphrase: String,
    pub(crate) remote: Remote,
    /// The account's personal organization, where the project is.
    pub(crate) org: String,
    pub(crate) project: String,
    pub(crate) key: AesKey,
}

/// Signs up an account (e-mail `<prefix>-<tag>@load.test`) and logs in with `hypnos-client`,
/// then creates a project in a new team project of its personal organization, with its key
/// encrypted to it, as `hypnos push` does for a new workspace.
pub(crate) async fn seed(base: &str, prefix: &str) -> Result<Seeded, LoadError> {
    let api = Api::new(base)?;
    let email = format!("{prefix}-{}@load.test", &random_hex_32()?[..12]);
    let passphrase = random_hex_32()?;
    hypnos_client::sign_up(
        &api,
        &NewAccount {
            email: &email,
            first_name: "Load",
            last_name: prefix,
            passphrase: &passphrase,
        },
    )
    .await?;
    let session = hypnos_client::log_in(&api, &email, &passphrase).await?;
    let organizations = hypnos_client::orgs::list(&api, &session.id).await?;
    let org = organizations
        .first()
        .ok_or_else(|| LoadError::Setup("the new account has no organization".into()))?
        .id
        .clone();
    let team =
        hypnos_client::orgs::create_team_project(&api, &session.id, &org, "Benchmark").await?;
    let remote = Remote::new(&api, &session.id);
    let project = Project {
        id: prefixed_id("prj")?,
        name: "Benchmark".into(),
        root_document_id: "wrk_bench".into(),
    };
    let key = remote
        .create_project(&project, &org, &team.id, |_, _| Ok(()))
        .await
        .map_err(|failure| LoadError::Setup(failure.to_string()))?;
    Ok(Seeded {
        api,
        session,
        passphrase,
        remote,
        org,
        project: project.id,
        key,
    })
}

/// What a push sent.
pub(crate) struct Pushed {
    /// Bytes of ciphertext uploaded.
    pub(crate) uploaded_bytes: usize,
    /// Time spent making and sealing the blobs on the client.
    pub(crate) crypto: Duration,
}

/// Pushes `count` documents of about `size` bytes to the project's master branch as one
/// snapshot, as `hypnos push` pushes a new workspace (`Syncer::push_snapshot`: the server's
/// missing blobs, sealed and uploaded, then the snapshot); `requests` counts its requests.
pub(crate) async fn push_documents(
    remote: &Remote,
    project: &str,
    key: &AesKey,
    (count, size): (usize, usize),
    requests: &Requests,
) -> Result<Pushed, LoadError> {
    let documents: Vec<Value> = (0..count).map(|i| document(i, size)).collect();
    let made = Instant::now();
    let (state, contents) = state_of(&documents);
    let mut crypto = made.elapsed();
    let blobs: Vec<&str> = state.values().map(|entry| entry.blob.as_str()).collect();
    let missing = remote.missing_blobs(project, &blobs).await?;
    requests.one();
    let upload: Vec<(&str, &str)> = contents
        .iter()
        .filter(|(id, _)| missing.contains(*id))
        .map(|(id, content)| (id.as_str(), content.as_str()))
        .collect();
    let sealing = Instant::now();
    let sealed = seal_blobs(key, &upload)?;
    crypto += sealing.elapsed();
    let uploaded_bytes = remote.upload_sealed(project, sealed, requests).await?;
    remote
        .push_snapshot(
            project,
            "master",
            &NewSnapshot {
                id: &snapshot_id(project, EMPTY_HASH, &blobs),
                parent: EMPTY_HASH,
                message: "Initial Snapshot",
                state: &state,
            },
        )
        .await?;
    requests.one();
    Ok(Pushed {
        uploaded_bytes,
        crypto,
    })
}

/// Pulls the master branch's newest snapshot as `hypnos pull` reads it (`Syncer::pull`: the
/// branch, its tip, the blobs in the app's batches, each opened and checked against its id);
/// returns how many documents came.
async fn pull_documents(
    remote: &Remote,
    project: &str,
    key: &AesKey,
    requests: &Requests,
) -> Result<usize, LoadError> {
    let history = remote.branch(project, "master").await?;
    requests.one();
    let tip = history
        .last()
        .ok_or_else(|| LoadError::Setup("the pushed branch has no snapshot".into()))?;
    let snapshot = remote.snapshot(project, tip).await?;
    requests.one();
    let wanted: Vec<String> = snapshot
        .state
        .values()
        .map(|entry| entry.blob.clone())
        .collect();
    let contents = remote
        .download_blobs(project, key, &wanted, requests)
        .await?;
    Ok(contents.len())
}

/// Signs up, logs in, creates the project, pushes and pulls; returns the figures.
pub async fn run(args: &Args) -> Result<Report, LoadError> {
    let base = args.server.trim_end_matches('/').to_owned();
    let Seeded {
        remote,
        project,
        key,
        ..
    } = seed(&base, "sync-bench").await?;
    let requests = Requests::default();

    // Push.
    let started = Instant::now();
    let Pushed {
        uploaded_bytes,
        crypto,
    } = push_documents(
        &remote,
        &project,
        &key,
        (args.documents, args.document_bytes),
        &requests,
    )
    .await?;
    let push = started.elapsed();
    let push_requests = requests.take();

    // Pull.
    let started = Instant::now();
    let pulled = pull_documents(&remote, &project, &key, &requests).await?;
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
        requests: (push_requests, requests.take()),
        server_peak_mib: args.server_pid.and_then(peak_mib),
    })
}
