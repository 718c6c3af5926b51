//! The load tool against the real server (in this process, on a fresh SQLite file): a closed and
//! an open loop complete log-ins and count them, and a server that refuses is reported as such.

#![allow(clippy::unwrap_used, reason = "tests")]

mod support;

use clap::Parser;
use hypnos_loadtest::{cli::Args, report::Report, run};
use support::TestServer;

/// Runs the tool with `flags` against a fresh server that lets one address make
/// `per_address_limit` authentication requests a minute.
async fn load(per_address_limit: u32, flags: &[&str]) -> Report {
    let server = TestServer::start(|config| config.login_rate_per_ip = per_address_limit).await;
    let mut argv = vec!["hypnos-load", "--server", &server.url, "--warmup", "0"];
    argv.extend_from_slice(flags);
    let report = run::run(&Args::parse_from(argv)).await.unwrap();
    server.stop().await;
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_completes_log_ins_and_times_each_step() {
    let report = load(
        1_000_000,
        &["--accounts", "2", "--concurrency", "2", "--duration", "1s"],
    )
    .await;
    assert_eq!(report.failures, 0, "{:?}", report.failures_by_kind);
    assert!(report.logins > 0);
    assert_eq!(report.offered_rate, None);
    let steps: Vec<&str> = report.step_latency.keys().map(String::as_str).collect();
    assert_eq!(steps, ["login-a", "login-m1", "login-s", "whoami"]);
    // A whole log-in takes longer than any one of its requests.
    assert!(report.latency.p50_ms > report.request_latency.p50_ms);
    assert!(report.latency.max_ms >= report.step_latency["login-a"].max_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loop_starts_exactly_the_scheduled_log_ins() {
    // 20 log-ins/s for 1 s from 2 workers: each starts one every 100 ms, 10 in all.
    let report = load(
        1_000_000,
        &[
            "--accounts",
            "2",
            "--concurrency",
            "2",
            "--duration",
            "1s",
            "--rate",
            "20",
        ],
    )
    .await;
    assert_eq!(report.failures, 0, "{:?}", report.failures_by_kind);
    assert_eq!(report.logins, 20);
    assert_eq!(report.offered_rate, Some(20.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_counted_by_status_and_step() {
    // Five authentication requests per address a minute (successful log-ins count against no
    // per-account limit, only failed ones do): the sign-up takes one, the first log-in three
    // (login-s, login-a, login-m1); the second gets through login-s and is refused at login-a,
    // the rest at login-s.
    let report = load(
        5,
        &[
            "--accounts",
            "1",
            "--concurrency",
            "1",
            "--duration",
            "1s",
            "--rate",
            "5",
        ],
    )
    .await;
    assert_eq!(report.logins, 1);
    assert_eq!(report.failures, 4);
    assert_eq!(report.failures_by_kind["HTTP 429 at login-a"], 1);
    assert_eq!(report.failures_by_kind["HTTP 429 at login-s"], 3);
}
