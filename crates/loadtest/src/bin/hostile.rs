//! `hypnos-hostile`: one hostile client does its worst against a running Hypnos server while an
//! honest client keeps working (see the library's `hostile` module). Exits 1 when a promise
//! broke: the server down, an honest request failed or took 2 s, memory grew by 256 MiB.

use std::process::ExitCode;

use clap::Parser;
use hypnos_loadtest::hostile::{Args, render, run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos-hostile: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", render(&report));
            }
            let broken = report.broken_promises();
            for promise in &broken {
                eprintln!("hypnos-hostile: {promise}");
            }
            if broken.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("hypnos-hostile: {err}");
            ExitCode::FAILURE
        }
    }
}
