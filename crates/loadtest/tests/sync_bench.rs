//! `hypnos-sync-bench` against the real server (in this process, on a fresh SQLite file): it
//! pushes and pulls every document on the client's code path, in the app's batches, and counts
//! the requests that makes.

#![allow(clippy::unwrap_used, reason = "tests")]

mod support;

use clap::Parser;
use hypnos_loadtest::sync_bench::{Args, run};
use support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_pulls_every_document_in_the_apps_batches() {
    let server = TestServer::start(|_| {}).await;
    let args = Args::parse_from([
        "hypnos-sync-bench",
        "--server",
        &server.url,
        "--documents",
        "260",
        "--document-bytes",
        "512",
    ]);
    let report = run(&args).await.unwrap();
    server.stop().await;

    assert_eq!(report.documents, 260);
    assert!(report.uploaded_bytes > 260 * 100);
    // Push: blobsMissing, blobsCreate of 200 and of 60 blobs, snapshotsCreate.
    // Pull: branch, the tip's snapshot, blobs 50 at a time (six queries).
    assert_eq!(report.requests, (4, 8));
    assert!(report.push_client_crypto_seconds <= report.push_seconds);
    assert_eq!(report.server_peak_mib, None);
}
