//! `hypnos-sync-bench`: pushes and pulls a large project through a running Hypnos server's
//! GraphQL sync API and reports documents per second each way (see the library's `sync_bench`).

use std::process::ExitCode;

use clap::Parser;
use hypnos_loadtest::sync_bench::{Args, run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos-sync-bench: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) if args.json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!(
                "hypnos-sync-bench: {} documents, {:.1} MiB uploaded\n  push: {:.2} s ({:.0} documents/s; client sealing {:.2} s), {} requests\n  pull: {:.2} s ({:.0} documents/s), {} requests\n  server peak memory: {}",
                report.documents,
                report.uploaded_bytes as f64 / 1048576.0,
                report.push_seconds,
                report.push_documents_per_second,
                report.push_client_crypto_seconds,
                report.requests.0,
                report.pull_seconds,
                report.pull_documents_per_second,
                report.requests.1,
                report
                    .server_peak_mib
                    .map_or("not measured".into(), |mib| format!("{mib:.1} MiB")),
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("hypnos-sync-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
