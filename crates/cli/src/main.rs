//! `hypnos`: the Hypnos command line. `hypnos server` runs the sync server; the other commands
//! (arriving with the client issue) talk to a server through `hypnos-client`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Self-hosted, end-to-end-encrypted sync for the Insomnia app.
#[derive(Parser)]
#[command(name = "hypnos", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sync server (HTTP API and GraphQL) on its database.
    Server,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Server => {
            if hypnos_server::IS_BUILT {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "hypnos server: the server is not built yet in this version ({}); \
                     it arrives with accounts and sessions",
                    env!("CARGO_PKG_VERSION")
                );
                ExitCode::FAILURE
            }
        }
    }
}
