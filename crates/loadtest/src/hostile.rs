//! `hypnos-hostile`: one hostile client does its worst against a running server while an honest
//! client keeps working, and the tool reports what the honest client saw and what the server's
//! memory did (issue 12's measurement).
//!
//! Set-up: an honest account with a project of `--documents` documents (pushed as the app
//! pushes), and an attacker account with a project holding one blob of `--big-blob-bytes`.
//! Then a baseline phase and one phase per attack, each `--phase` long:
//!
//! | phase | what the attacker sends |
//! |---|---|
//! | `nesting` | GraphQL whose argument is a list nested `--nesting` levels deep |
//! | `aliases` | 100 aliases of `blobs` over the big blob; 30,000 aliased `branches` |
//! | `slow-clients` | 200 connections trickling their headers, 20 sending 30 MiB of a body and stalling |
//! | `big-bodies` | 40 MiB GraphQL bodies and 2 MiB log-in bodies, over and over |
//! | `lock-out` | failed log-ins (login-a, then a wrong login-m1) for the honest account's e-mail from eight other addresses, flat out |
//!
//! The attacker's connections come from `127.0.0.2` and up (all of 127/8 is this machine), the
//! honest client's from `127.0.0.1`, so per-address limits tell them apart as they would tell
//! two hosts apart. Throughout, the honest client asks `whoami`, the master branch and 50 blobs
//! of its project, and decrypts nothing (the server's answer time is what counts); in the
//! baseline and lock-out phases it also logs in once. The server's resident memory is sampled
//! every 50 ms (`--server-pid`). Every loop ends with its phase: the tool stops by itself.

use std::{
    collections::BTreeMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hypnos_crypto::{encoding::to_hex, random::bytes};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
    task::JoinSet,
};

use crate::{
    LoadError, login,
    report::Latency,
    sync_bench::{Seeded, push_documents, seed},
};

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "hypnos-hostile", version, about, long_about = None)]
pub struct Args {
    /// Base URL of the server on this machine, e.g. http://127.0.0.1:8080 (plain HTTP).
    #[arg(long)]
    pub server: String,
    /// The server's process id: sample its resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Documents in the honest account's project.
    #[arg(long, default_value_t = 10_000)]
    pub documents: usize,
    /// Size of the attacker's one big blob (at most the server's --max-blob-bytes).
    #[arg(long, default_value_t = 8 * 1024 * 1024 - 1024)]
    pub big_blob_bytes: usize,
    /// How deep the nested list of the `nesting` attack goes.
    #[arg(long, default_value_t = 5_000)]
    pub nesting: usize,
    /// Length of each phase (e.g. 10s).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub phase: Duration,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| err.to_string())
}

/// The phases, in the order they run.
pub const PHASES: [&str; 6] = [
    "baseline",
    "nesting",
    "aliases",
    "slow-clients",
    "big-bodies",
    "lock-out",
];

/// What one phase measured.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The phase's name.
    pub phase: &'static str,
    /// Latency of the honest client's requests that were answered with success.
    pub honest: Latency,
    /// How many honest requests succeeded.
    pub honest_ok: usize,
    /// Honest requests that failed, by what happened.
    pub honest_failures: BTreeMap<String, usize>,
    /// Whether the honest log-in of this phase (baseline and lock-out only) succeeded.
    pub honest_login: Option<bool>,
    /// What the attacker's requests got, by HTTP status or error kind.
    pub attacker: BTreeMap<String, usize>,
    /// The server's peak resident memory during the phase, in MiB above its idle level.
    pub server_rss_above_idle_mib: Option<f64>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The server's resident memory before the first phase, in MiB.
    pub server_idle_rss_mib: Option<f64>,
    /// Every phase.
    pub phases: Vec<PhaseReport>,
    /// Whether `/readyz` still answered 200 at the end.
    pub server_up_at_end: bool,
}

impl Report {
    /// The slowest successful honest request over all phases, in milliseconds.
    pub fn worst_honest_ms(&self) -> f64 {
        self.phases
            .iter()
            .map(|phase| phase.honest.max_ms)
            .fold(0.0, f64::max)
    }

    /// What broke the promises (empty when none did): the server down at the end, an honest
    /// request that failed or took 2 s or more, a failed honest log-in, memory that grew by
    /// 256 MiB or more.
    pub fn broken_promises(&self) -> Vec<String> {
        let mut broken = Vec::new();
        if !self.server_up_at_end {
            broken.push("the server was not ready at the end".to_owned());
        }
        for phase in &self.phases {
            let name = phase.phase;
            if !phase.honest_failures.is_empty() {
                broken.push(format!(
                    "{name}: honest requests failed: {:?}",
                    phase.honest_failures
                ));
            }
            if phase.honest.max_ms >= 2000.0 {
                broken.push(format!(
                    "{name}: an honest request took {:.0} ms",
                    phase.honest.max_ms
                ));
            }
            if phase.honest_login == Some(false) {
                broken.push(format!("{name}: the honest log-in failed"));
            }
            if phase
                .server_rss_above_idle_mib
                .is_some_and(|mib| mib >= 256.0)
            {
                broken.push(format!(
                    "{name}: the server's memory grew by {:.0} MiB",
                    phase.server_rss_above_idle_mib.unwrap_or_default()
                ));
            }
        }
        broken
    }

    /// The largest memory growth over all phases, in MiB.
    pub fn worst_rss_growth_mib(&self) -> Option<f64> {
        self.phases
            .iter()
            .filter_map(|phase| phase.server_rss_above_idle_mib)
            .reduce(f64::max)
    }
}

/// Samples a process's resident memory; the peak since the last reset.
struct RssSampler {
    peak_kib: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

fn rss_kib(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let peak_kib = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak, stopped) = (peak_kib.clone(), stop.clone());
        tokio::spawn(async move {
            while !stopped.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { peak_kib, stop }
    }

    fn take_peak(&self) -> usize {
        self.peak_kib.swap(0, Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Counts outcomes by label.
#[derive(Clone, Default)]
struct Tally(Arc<Mutex<BTreeMap<String, usize>>>);

impl Tally {
    fn add(&self, label: impl Into<String>) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *map.entry(label.into()).or_default() += 1;
    }

    fn take(&self) -> BTreeMap<String, usize> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

fn error_label(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timeout".into()
    } else if error.is_connect() {
        "connect error".into()
    } else {
        "connection error".into()
    }
}

/// The honest client's measurements of the running phase.
#[derive(Clone, Default)]
struct HonestLog {
    latencies: Arc<Mutex<Vec<Duration>>>,
    failures: Tally,
}

impl HonestLog {
    fn ok(&self, took: Duration) {
        self.latencies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(took);
    }

    fn take(&self) -> (Vec<Duration>, BTreeMap<String, usize>) {
        let latencies = std::mem::take(
            &mut *self
                .latencies
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        (latencies, self.failures.take())
    }
}

/// An HTTP client whose connections come from `source`.
fn client_from(source: IpAddr, timeout: Duration) -> Result<reqwest::Client, LoadError> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .local_address(source)
        .timeout(timeout)
        .build()?)
}

fn attacker_address(index: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + index))
}

/// Sends one request and reads (and drops) the whole answer, however large.
async fn send_and_drain(request: reqwest::RequestBuilder, tally: &Tally) {
    match request.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16().to_string();
            loop {
                match response.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        tally.add(status);
                        break;
                    }
                    Err(error) => {
                        tally.add(format!("{status}, then {}", error_label(&error)));
                        break;
                    }
                }
            }
        }
        Err(error) => tally.add(error_label(&error)),
    }
}

/// The honest client's loop: whoami, the branch, 50 blobs, until `stop`.
async fn honest_loop(
    http: reqwest::Client,
    base: String,
    session: String,
    project: String,
    blob_ids: Vec<String>,
    log: HonestLog,
    stop: Arc<AtomicBool>,
) {
    let graphql = format!("{base}/graphql");
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let start = (round * 50) % blob_ids.len().max(1);
        let ids: Vec<&String> = blob_ids.iter().cycle().skip(start).take(50).collect();
        let requests = [
            http.get(format!("{base}/auth/whoami")),
            http.post(&graphql).json(&json!({
                "query": "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }",
                "variables": {"project": project, "name": "master"},
            })),
            http.post(&graphql).json(&json!({
                "query": "query ($ids: [ID!]!, $project: ID!) { blobs(ids: $ids, project: $project) { id content } }",
                "variables": {"ids": ids, "project": project},
            })),
        ];
        for request in requests {
            let sent = Instant::now();
            match request.header("X-Session-Id", &session).send().await {
                Ok(response) if response.status().is_success() => {
                    match response.json::<Value>().await {
                        Ok(body) if body.get("errors").is_none() => log.ok(sent.elapsed()),
                        Ok(_) => log.failures.add("GraphQL error"),
                        Err(error) => log.failures.add(error_label(&error)),
                    }
                }
                Ok(response) => log.failures.add(response.status().as_u16().to_string()),
                Err(error) => log.failures.add(error_label(&error)),
            }
        }
        round += 1;
    }
}

/// The attack of one phase, running until `until`.
async fn attack(
    phase: &str,
    target: &Target,
    until: Instant,
    tally: Tally,
) -> Result<(), LoadError> {
    let mut tasks = JoinSet::new();
    match phase {
        "nesting" => {
            let depth = target.nesting;
            let query = format!(
                "{{ blobs(project: \"{}\", ids: {}\"x\"{}) {{ id }} }}",
                target.attacker_project,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            for worker in 0..4u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let (url, session, body) = (
                    target.graphql(),
                    target.attacker_session.clone(),
                    json!({ "query": query }),
                );
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http.post(&url).header("X-Session-Id", &session).json(&body);
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "aliases" => {
            let blobs: String = (0..100)
                .map(|i| {
                    format!(
                        "a{i}: blobs(project: \"{}\", ids: [\"{}\"]) {{ content }} ",
                        target.attacker_project, target.big_blob_id
                    )
                })
                .collect();
            let branches: String = (0..30_000)
                .map(|i| {
                    format!(
                        "b{i}: branches(project: \"{}\") {{ name }} ",
                        target.attacker_project
                    )
                })
                .collect();
            for (worker, query) in [format!("{{ {blobs} }}"), format!("{{ {branches} }}")]
                .into_iter()
                .cycle()
                .take(4)
                .enumerate()
            {
                let http = client_from(attacker_address(worker as u8), Duration::from_secs(60))?;
                let (url, session) = (target.graphql(), target.attacker_session.clone());
                let body = json!({ "query": query });
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http.post(&url).header("X-Session-Id", &session).json(&body);
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "slow-clients" => {
            for index in 0..200u32 {
                let (address, tally) = (target.address, tally.clone());
                tasks.spawn(async move {
                    trickle_headers(address, attacker_address((index % 8) as u8), until, &tally)
                        .await;
                });
            }
            for index in 0..20u32 {
                let (address, tally) = (target.address, tally.clone());
                let session = target.attacker_session.clone();
                tasks.spawn(async move {
                    stall_body(
                        address,
                        attacker_address((index % 8) as u8),
                        &session,
                        until,
                        &tally,
                    )
                    .await;
                });
            }
        }
        "big-bodies" => {
            let big = Arc::new(vec![b' '; 40 * 1024 * 1024]);
            let small = Arc::new(vec![b' '; 2 * 1024 * 1024]);
            for worker in 0..4u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let (base, session) = (target.base.clone(), target.attacker_session.clone());
                let (big, small, tally) = (big.clone(), small.clone(), tally.clone());
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http
                            .post(format!("{base}/graphql"))
                            .header("X-Session-Id", &session)
                            .header("Content-Type", "application/json")
                            .body(big.to_vec());
                        send_and_drain(request, &tally).await;
                        let request = http
                            .post(format!("{base}/auth/login-a"))
                            .header("Content-Type", "application/json")
                            .body(small.to_vec());
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "lock-out" => {
            // Failed log-ins (a start, then a wrong proof), as a passphrase guesser makes them.
            let a = to_hex(&[7u8; 256]);
            for worker in 0..8u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let base = target.base.clone();
                let start = json!({"email": target.honest_email, "srpA": a});
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        guess(&http, &base, &start, &tally).await;
                    }
                });
            }
        }
        _ => {}
    }
    // Every task ends by `until`; a stuck one is abandoned a little later.
    let deadline = until + Duration::from_secs(5);
    while tokio::time::timeout_at(deadline.into(), tasks.join_next())
        .await
        .is_ok_and(|next| next.is_some())
    {}
    tasks.abort_all();
    Ok(())
}

/// One wrong guess: login-a, then login-m1 with a random proof; tallies the proof's answer (or
/// the start's, when the start is refused).
async fn guess(http: &reqwest::Client, base: &str, start: &Value, tally: &Tally) {
    let started = match http
        .post(format!("{base}/auth/login-a"))
        .json(start)
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => response.json::<Value>().await,
        Ok(response) => {
            tally.add(format!("login-a {}", response.status().as_u16()));
            return;
        }
        Err(error) => {
            tally.add(error_label(&error));
            return;
        }
    };
    let Ok(started) = started else {
        tally.add("login-a unreadable");
        return;
    };
    let proof = bytes::<32>()
        .map(|proof| to_hex(&proof))
        .unwrap_or_default();
    let request = http.post(format!("{base}/auth/login-m1")).json(&json!({
        "srpM1": proof,
        "sessionStarterId": started["sessionStarterId"],
    }));
    match request.send().await {
        Ok(response) => tally.add(format!("login-m1 {}", response.status().as_u16())),
        Err(error) => tally.add(error_label(&error)),
    }
}

async fn connect_from(
    address: SocketAddr,
    source: IpAddr,
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(address).await
}

/// Sends a request head one byte a second until the server closes or `until`.
async fn trickle_headers(address: SocketAddr, source: IpAddr, until: Instant, tally: &Tally) {
    let Ok(mut stream) = connect_from(address, source).await else {
        tally.add("trickle: connect refused");
        return;
    };
    if stream
        .write_all(b"POST /auth/login-s HTTP/1.1\r\nHost: hostile\r\nX-Slow: ")
        .await
        .is_err()
    {
        tally.add("trickle: closed by server");
        return;
    }
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if stream.write_all(b"a").await.is_err() {
            tally.add("trickle: closed by server");
            return;
        }
    }
    tally.add("trickle: still open at phase end");
}

/// Sends 30 MiB of a 32,000,000-byte GraphQL body, then nothing until the server gives up or
/// `until`.
async fn stall_body(
    address: SocketAddr,
    source: IpAddr,
    session: &str,
    until: Instant,
    tally: &Tally,
) {
    let Ok(mut stream) = connect_from(address, source).await else {
        tally.add("stall: connect refused");
        return;
    };
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: hostile\r\nX-Session-Id: {session}\r\nContent-Type: application/json\r\nContent-Length: 32000000\r\n\r\n"
    );
    let chunk = vec![b' '; 1024 * 1024];
    let mut sent = stream.write_all(head.as_bytes()).await.is_ok();
    for _ in 0..30 {
        if !sent || Instant::now() >= until {
            break;
        }
        sent = stream.write_all(&chunk).await.is_ok();
    }
    let mut buffer = [0u8; 4096];
    let remaining = until.saturating_duration_since(Instant::now());
    match tokio::time::timeout(remaining, stream.read(&mut buffer)).await {
        Err(_) => tally.add("stall: still open at phase end"),
        Ok(Ok(0)) | Ok(Err(_)) => tally.add("stall: closed by server"),
        Ok(Ok(read)) => {
            let answer = String::from_utf8_lossy(&buffer[..read]);
            let status = answer.split_whitespace().nth(1).unwrap_or("?").to_owned();
            tally.add(format!("stall: answered {status}"));
        }
    }
}

/// Where and whom to attack.
struct Target {
    base: String,
    address: SocketAddr,
    attacker_session: String,
    attacker_project: String,
    big_blob_id: String,
    honest_email: String,
    nesting: usize,
}

impl Target {
    fn graphql(&self) -> String {
        format!("{}/graphql", self.base)
    }
}

/// Sets up both accounts, runs every phase and reports.
pub async fn run(args: &Args) -> Result<Report, LoadError> {
    let base = args.server.trim_end_matches('/').to_owned();
    let address: SocketAddr = base
        .strip_prefix("http://")
        .and_then(|rest| rest.parse().ok())
        .ok_or_else(|| {
            LoadError::Arguments("--server must be http://IP:PORT on this machine".into())
        })?;

    // The honest account and its project.
    let Seeded {
        client: mut honest,
        account: honest_account,
        project,
        key,
        ..
    } = seed(&base, "honest").await?;
    push_documents(&mut honest, &project, &key, args.documents, 1024).await?;
    let blob_ids = all_blob_ids(&mut honest, &project).await?;

    // The attacker: an account of its own with one big blob.
    let Seeded {
        client: mut attacker,
        project: attacker_project,
        ..
    } = seed(&base, "attacker").await?;
    let big_blob_id = to_hex(&bytes::<20>()?);
    let content = json!({
        "iv": to_hex(&bytes::<12>()?),
        "t": to_hex(&bytes::<16>()?),
        "ad": "",
        "d": "ab".repeat(args.big_blob_bytes.saturating_sub(100) / 2),
    })
    .to_string();
    attacker
        .gql(
            "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }",
            json!({"project": attacker_project, "blobs": [{"id": big_blob_id, "content": content}]}),
        )
        .await?;
    let target = Target {
        base: base.clone(),
        address,
        attacker_session: attacker.session.clone(),
        attacker_project,
        big_blob_id,
        honest_email: honest_account.email().to_owned(),
        nesting: args.nesting,
    };

    let sampler = args.server_pid.map(RssSampler::start);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_kib = args.server_pid.and_then(rss_kib);

    let log = HonestLog::default();
    let stop = Arc::new(AtomicBool::new(false));
    let honest_http = client_from(IpAddr::V4(Ipv4Addr::LOCALHOST), Duration::from_secs(30))?;
    let worker = tokio::spawn(honest_loop(
        honest_http.clone(),
        base.clone(),
        honest.session.clone(),
        project.clone(),
        blob_ids,
        log.clone(),
        stop.clone(),
    ));

    let mut phases = Vec::with_capacity(PHASES.len());
    for phase in PHASES {
        let tally = Tally::default();
        if let Some(sampler) = &sampler {
            sampler.take_peak();
        }
        log.take();
        let until = Instant::now() + args.phase;
        let attack = attack(phase, &target, until, tally.clone());
        // The honest log-in: half-way through the baseline and lock-out phases.
        let login = async {
            if !matches!(phase, "baseline" | "lock-out") {
                return None;
            }
            tokio::time::sleep(args.phase / 2).await;
            Some(
                login::log_in(&honest_http, &base, &honest_account)
                    .await
                    .is_ok(),
            )
        };
        let (attacked, honest_login) = tokio::join!(attack, login);
        attacked?;
        let (latencies, failures) = log.take();
        phases.push(PhaseReport {
            phase,
            honest_ok: latencies.len(),
            honest: Latency::of(latencies),
            honest_failures: failures,
            honest_login,
            attacker: tally.take(),
            server_rss_above_idle_mib: sampler
                .as_ref()
                .zip(idle_kib)
                .map(|(sampler, idle)| (sampler.take_peak().saturating_sub(idle)) as f64 / 1024.0),
        });
    }
    stop.store(true, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    let server_up_at_end = honest_http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success());
    Ok(Report {
        server_idle_rss_mib: idle_kib.map(|kib| kib as f64 / 1024.0),
        phases,
        server_up_at_end,
    })
}

/// The blob ids of the master branch's newest snapshot.
async fn all_blob_ids(
    client: &mut crate::sync_bench::Client,
    project: &str,
) -> Result<Vec<String>, LoadError> {
    let branch = client
        .gql(
            "query ($project: ID!, $name: String!) { branch(project: $project, name: $name) { snapshots } }",
            json!({"project": project, "name": "master"}),
        )
        .await?;
    let tip = branch["branch"]["snapshots"]
        .as_array()
        .and_then(|list| list.last())
        .cloned()
        .ok_or_else(|| LoadError::Setup("the pushed branch has no snapshot".into()))?;
    let found = client
        .gql(
            "query ($ids: [ID!]!, $project: ID!) { snapshots(ids: $ids, project: $project) { state { blob } } }",
            json!({"ids": [tip], "project": project}),
        )
        .await?;
    Ok(found["snapshots"][0]["state"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["blob"].as_str().map(str::to_owned))
        .collect())
}

/// The report as the tool prints it.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let mib = |value: Option<f64>| value.map_or("not measured".into(), |v| format!("{v:.1} MiB"));
    out.push_str(&format!(
        "hypnos-hostile: server idle RSS {}\n",
        mib(report.server_idle_rss_mib)
    ));
    for phase in &report.phases {
        out.push_str(&format!(
            "  {:<13} honest: {} ok, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failures {:?}{}\n                RSS above idle {}; attacker got {:?}\n",
            phase.phase,
            phase.honest_ok,
            phase.honest.p50_ms,
            phase.honest.p99_ms,
            phase.honest.max_ms,
            phase.honest_failures,
            phase
                .honest_login
                .map_or(String::new(), |ok| format!("; log-in {}", if ok { "ok" } else { "FAILED" })),
            mib(phase.server_rss_above_idle_mib),
            phase.attacker,
        ));
    }
    out.push_str(&format!(
        "  worst honest request {:.1} ms; worst RSS growth {}; server up at the end: {}\n",
        report.worst_honest_ms(),
        mib(report.worst_rss_growth_mib()),
        report.server_up_at_end
    ));
    out
}
