//! `hypnos-hostile`: one hostile client does its worst against a running server while an honest
//! client keeps working, and the tool reports what the honest client saw and what the server's
//! memory did (issue 12's measurement).
//!
//! Set-up: an honest account with a project of `--documents` documents (pushed as `hypnos push`
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
//!
//! Both accounts are signed up, logged in and given their projects through `hypnos-client`, as
//! `hypnos` would; only the attacks and the honest client's timed requests are made by hand.
//!
//! Modules: [`attacks`] (what the attacker sends), [`honest`] (the honest client's loop),
//! [`record`] (the tallies, the honest latencies, the server's memory), [`report`].

mod attacks;
mod honest;
mod record;
mod report;

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hypnos_client::sync::Quiet;
use hypnos_crypto::{encoding::to_hex, random::bytes, wire::sync::Blob};
use serde_json::json;

use crate::{
    LoadError,
    report::Latency,
    sync_bench::{Requests, Seeded, push_documents, seed},
};
use attacks::{Target, attack, client_from};
use honest::honest_loop;
use record::{HonestLog, RssSampler, Tally, rss_kib};
pub use report::{PhaseReport, Report, render};

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
    let honest = seed(&base, "honest").await?;
    push_documents(
        &honest.remote,
        &honest.project,
        &honest.key,
        (args.documents, 1024),
        &Requests::default(),
    )
    .await?;
    let blob_ids = all_blob_ids(&honest).await?;

    // The attacker: an account of its own with one big blob, which is no sealed document.
    let Seeded {
        remote: attacker,
        session: attacker_session,
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
    let big_blob = Blob {
        id: big_blob_id.clone(),
        content,
    };
    attacker
        .upload_sealed(&attacker_project, vec![big_blob], &Quiet)
        .await?;
    let target = Target {
        base: base.clone(),
        address,
        attacker_session: attacker_session.id.to_string(),
        attacker_project,
        big_blob_id,
        honest_email: honest.session.account.email.clone(),
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
        honest.session.id.to_string(),
        honest.project.clone(),
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
            Some(log_in(&honest).await)
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

/// Whether the honest account logs in, as `hypnos login` does. Its key derivations run on a
/// thread of their own, off the runtime that times the honest requests.
async fn log_in(honest: &Seeded) -> bool {
    let (api, email, passphrase) = (
        honest.api.clone(),
        honest.session.account.email.clone(),
        honest.passphrase.clone(),
    );
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        runtime.block_on(hypnos_client::log_in(&api, &email, &passphrase))
    })
    .await
    .is_ok_and(|logged_in| logged_in.is_ok())
}

/// The blob ids of the master branch's newest snapshot.
async fn all_blob_ids(seeded: &Seeded) -> Result<Vec<String>, LoadError> {
    let history = seeded.remote.branch(&seeded.project, "master").await?;
    let tip = history
        .last()
        .ok_or_else(|| LoadError::Setup("the pushed branch has no snapshot".into()))?;
    let snapshot = seeded.remote.snapshot(&seeded.project, tip).await?;
    Ok(snapshot
        .state
        .into_values()
        .map(|entry| entry.blob)
        .collect())
}
