//! The command line of `hypnos-load`.

use std::time::Duration;

/// Sign up fresh accounts on a running Hypnos server, then measure complete SRP log-ins
/// (login-s, login-a, login-m1, whoami) from concurrent clients for a fixed time.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "hypnos-load", version, about, long_about = None)]
pub struct Args {
    /// Base URL of the server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub server: String,

    /// How many accounts to sign up (fresh ones on every run). Workers log in to them in turn.
    #[arg(long, default_value_t = 64)]
    pub accounts: usize,

    /// How many log-ins are in flight at once (one worker each).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,

    /// Length of the measured window (e.g. 20s, 1m). Log-ins in flight at its end are finished
    /// and counted; the window is measured until the last one ends.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Offer this many log-ins per second in all (an open loop, as wrk2 does) instead of each
    /// worker starting its next log-in when the last ends. Worker w starts its log-ins on a
    /// fixed schedule; a log-in's latency runs from its scheduled start, so a server that falls
    /// behind is charged for the wait too. At most --concurrency log-ins are in flight.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,

    /// Log-ins each worker makes before the window opens (connections, caches), not counted.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,

    /// The server's process id: report its CPU time per log-in (from /proc/PID/stat).
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Also report the CPU time of every process with this command name, e.g. `postgres` for
    /// the database's backends (its time is not in the server's process).
    #[arg(long, value_name = "NAME")]
    pub database_process: Option<String>,

    /// First part of the accounts' e-mails: `<prefix>-<i>-<random>@load.test`.
    #[arg(long, default_value = "load")]
    pub email_prefix: String,

    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|err| format!("{err} (e.g. 20s)"))?;
    if duration.is_zero() {
        return Err("the duration must be longer than zero".into());
    }
    Ok(duration)
}

impl Args {
    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), crate::LoadError> {
        if self.accounts == 0 || self.concurrency == 0 {
            return Err(crate::LoadError::Arguments(
                "--accounts and --concurrency must be at least 1".into(),
            ));
        }
        if self
            .rate
            .is_some_and(|rate| !(rate.is_finite() && rate > 0.0))
        {
            return Err(crate::LoadError::Arguments(
                "--rate must be a positive number of log-ins per second".into(),
            ));
        }
        if !(self.server.starts_with("http://") || self.server.starts_with("https://")) {
            return Err(crate::LoadError::Arguments(
                "--server must be an http:// or https:// URL".into(),
            ));
        }
        Ok(())
    }

    /// The server's base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.server.trim_end_matches('/')
    }
}
