//! `hypnos-hostile` against the real server (in this process, on a fresh SQLite file, with the
//! default limits): every phase runs its attack and stops by itself, the honest client is served
//! in every phase and logs in while its e-mail is under a lock-out attack, and the server is up at
//! the end. Speed and memory figures are the tool's output for BENCHMARKS.md, not asserted here.

#![allow(clippy::unwrap_used, reason = "tests")]

mod support;

use clap::Parser;
use hypnos_loadtest::hostile::{Args, PHASES, run};
use support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_runs_and_the_honest_client_is_served_throughout() {
    let server = TestServer::start(|_| {}).await;
    let args = Args::parse_from([
        "hypnos-hostile",
        "--server",
        &server.url,
        "--documents",
        "200",
        "--big-blob-bytes",
        "1048576",
        "--phase",
        "2s",
    ]);
    let report = tokio::time::timeout(std::time::Duration::from_secs(180), run(&args))
        .await
        .expect("the tool stops by itself")
        .unwrap();
    server.stop().await;

    let names: Vec<&str> = report.phases.iter().map(|phase| phase.phase).collect();
    assert_eq!(names, PHASES);
    assert!(report.server_up_at_end);
    for phase in &report.phases {
        assert!(
            phase.honest_ok > 0,
            "{}: no honest request served",
            phase.phase
        );
        assert!(
            phase.honest_failures.is_empty(),
            "{}: honest requests failed: {:?}",
            phase.phase,
            phase.honest_failures
        );
        if phase.phase != "baseline" {
            assert!(!phase.attacker.is_empty(), "{}: no attack ran", phase.phase);
        }
    }
    let lock_out = &report.phases[5];
    assert_eq!(lock_out.honest_login, Some(true), "{:?}", lock_out.attacker);
    assert!(
        lock_out.attacker.contains_key("login-m1 429")
            || lock_out.attacker.contains_key("login-a 429"),
        "the attacker is limited: {:?}",
        lock_out.attacker
    );
}
