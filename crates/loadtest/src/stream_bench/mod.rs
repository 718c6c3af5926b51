//! `hypnos-stream-bench`: what the event stream costs and how fast it delivers (issue 15).
//!
//! - `latency`: pushes at a steady rate through one server process and reads the `FileChanged`
//!   events on streams held by another process on the same PostgreSQL database (or the same
//!   process), reporting delivery latency percentiles ([`latency`]).
//! - `idle`: opens many idle streams and reports the server's memory per stream and its CPU
//!   while it holds them ([`idle`]).
//!
//! Both sign up a fresh account with `hypnos-client` and use its personal organization.

pub mod idle;
pub mod latency;

use std::time::Duration;

use hypnos_client::Api;

use crate::{LoadError, sync_bench::seed};

/// The command line.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "hypnos-stream-bench", version, about, long_about = None)]
pub struct Args {
    /// What to measure.
    #[command(subcommand)]
    pub mode: Mode,
    /// Print the report as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The two measurements.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Mode {
    /// Delivery latency of FileChanged from a push's answer to the event on a stream.
    Latency {
        /// Base URL of the server process the pushes go to.
        #[arg(long)]
        server: String,
        /// Base URL of the server process the streams are held on (another process on the
        /// same PostgreSQL database); default: --server.
        #[arg(long)]
        stream_server: Option<String>,
        /// Pushes per second, in all.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of pushing.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
        /// Concurrent pushers (each on its own branch).
        #[arg(long, default_value_t = 10)]
        workers: usize,
        /// Streams reading the events.
        #[arg(long, default_value_t = 4)]
        listeners: usize,
    },
    /// Memory per idle stream and CPU while holding them. The server needs
    /// --max-connections and --max-streams above --streams, and
    /// --max-streams-per-account at least --streams (one account holds them all).
    Idle {
        /// Base URL of the server (plain HTTP).
        #[arg(long)]
        server: String,
        /// The server's process id (its memory and CPU are read from /proc).
        #[arg(long)]
        server_pid: u32,
        /// Streams to open.
        #[arg(long, default_value_t = 10_000)]
        streams: usize,
        /// Seconds to hold them open while measuring CPU.
        #[arg(long, default_value_t = 60.0)]
        hold: f64,
    },
}

/// A finished measurement.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum Report {
    /// Of `latency`.
    Latency(latency::LatencyReport),
    /// Of `idle`.
    Idle(idle::IdleReport),
}

/// Runs the measurement `args` asks for.
pub async fn run(args: &Args) -> Result<Report, LoadError> {
    match &args.mode {
        Mode::Latency {
            server,
            stream_server,
            rate,
            seconds,
            workers,
            listeners,
        } => {
            if *rate <= 0.0 || *workers == 0 || *listeners == 0 {
                return Err(LoadError::Arguments(
                    "--rate, --workers and --listeners must be positive".into(),
                ));
            }
            let seeded = seed(server.trim_end_matches('/'), "stream-bench").await?;
            let listen = Api::new(
                stream_server
                    .as_deref()
                    .unwrap_or(server)
                    .trim_end_matches('/'),
            )?;
            let org = seeded.org.clone();
            latency::run(
                &seeded,
                &org,
                &listen,
                (*rate, *seconds, *workers, *listeners),
            )
            .await
            .map(Report::Latency)
        }
        Mode::Idle {
            server,
            server_pid,
            streams,
            hold,
        } => {
            let address = server
                .trim_end_matches('/')
                .strip_prefix("http://")
                .ok_or_else(|| LoadError::Arguments("--server must be an http:// URL".into()))?
                .to_owned();
            let seeded = seed(server.trim_end_matches('/'), "stream-bench").await?;
            idle::run(
                &address,
                &seeded.org,
                &seeded.session.id,
                *streams,
                Duration::from_secs_f64(*hold),
                *server_pid,
            )
            .await
            .map(Report::Idle)
        }
    }
}
