//! `hypnos-stream-bench`: the event stream's delivery latency across server processes, and the
//! server's memory and CPU per idle stream (see the library's `stream_bench`).

use std::process::ExitCode;

use clap::Parser;
use hypnos_loadtest::stream_bench::{Args, Report, run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos-stream-bench: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = match runtime.block_on(run(&args)) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("hypnos-stream-bench: {err}");
            return ExitCode::FAILURE;
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    match report {
        Report::Latency(report) => println!(
            "hypnos-stream-bench latency: {} pushes at {:.1}/s, {} listeners, {} events ({} missing)\n  delivery (answer → event): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n  delivery (request sent → event): p50 {:.2} ms, p99 {:.2} ms\n  push: p50 {:.2} ms, p99 {:.2} ms",
            report.pushes,
            report.push_rate,
            report.listeners,
            report.events,
            report.missing,
            report.delivery.p50_ms,
            report.delivery.p90_ms,
            report.delivery.p99_ms,
            report.delivery.max_ms,
            report.delivery_from_sent.p50_ms,
            report.delivery_from_sent.p99_ms,
            report.push.p50_ms,
            report.push.p99_ms,
        ),
        Report::Idle(report) => println!(
            "hypnos-stream-bench idle: {} streams held {:.0} s\n  server memory: {:.1} MiB before, {:.1} MiB with them open: {:.1} KiB per stream\n  server CPU while holding them: {:.2} % of one core",
            report.streams,
            report.held_seconds,
            report.rss_before_mib,
            report.rss_open_mib,
            report.kib_per_stream,
            report.server_cpu_share * 100.0,
        ),
    }
    ExitCode::SUCCESS
}
