//! `hypnos-load`: signs up accounts on a running Hypnos server and measures complete SRP
//! log-ins from concurrent clients. See the library crate for how.

use std::process::ExitCode;

use clap::Parser;
use hypnos_loadtest::{cli::Args, run::run};

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos-load: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) if args.json => match serde_json::to_string_pretty(&report) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("hypnos-load: {err}");
                ExitCode::FAILURE
            }
        },
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("hypnos-load: {err}");
            ExitCode::FAILURE
        }
    }
}
