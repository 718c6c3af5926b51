//! `hypnos-stream-bench` against the real server (in this process, on a fresh SQLite file):
//! every push's event reaches every listening stream, and idle streams are held and measured.

#![allow(clippy::unwrap_used, reason = "tests")]

mod support;

use clap::Parser;
use hypnos_loadtest::stream_bench::{Args, Report, run};
use support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_push_reaches_every_listening_stream() {
    let server = TestServer::start(|_| {}).await;
    let args = Args::parse_from([
        "hypnos-stream-bench",
        "latency",
        "--server",
        &server.url,
        "--rate",
        "40",
        "--seconds",
        "1",
        "--workers",
        "4",
        "--listeners",
        "3",
    ]);
    let Report::Latency(report) = run(&args).await.unwrap() else {
        panic!("latency asked, another report given");
    };
    server.stop().await;

    assert!(report.pushes >= 4, "{report:?}");
    assert_eq!(report.listeners, 3);
    assert_eq!(report.events, report.pushes * 3, "{report:?}");
    assert_eq!(report.missing, 0);
    // From the request is never less than from the answer.
    assert!(report.delivery_from_sent.p50_ms >= report.delivery.p50_ms);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_streams_are_held_and_the_servers_memory_read() {
    let server = TestServer::start(|config| config.max_streams_per_account = 40).await;
    let args = idle_args(&server.url, 30);
    let Report::Idle(report) = run(&args).await.unwrap() else {
        panic!("idle asked, another report given");
    };
    server.stop().await;

    assert_eq!(report.streams, 30);
    assert!(
        report.rss_before_mib > 1.0 && report.rss_open_mib > 1.0,
        "{report:?}"
    );
    assert!(report.held_seconds >= 0.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_says_so_when_the_server_ends_streams_it_holds() {
    // One account may hold 16 streams by default: the 17th ends the oldest.
    let server = TestServer::start(|_| {}).await;
    let args = idle_args(&server.url, 20);
    let error = run(&args).await.unwrap_err().to_string();
    server.stop().await;
    assert!(
        error.contains("4 of 20 streams ended while held"),
        "{error}"
    );
}

/// `idle` against `url`, this process being the server, holding `streams` for 0.2 s.
fn idle_args(url: &str, streams: usize) -> Args {
    let (pid, streams) = (std::process::id().to_string(), streams.to_string());
    Args::parse_from([
        "hypnos-stream-bench",
        "idle",
        "--server",
        url,
        "--server-pid",
        &pid,
        "--streams",
        &streams,
        "--hold",
        "0.2",
    ])
}
