//! The server's one configuration: every setting is a command-line flag and an environment
//! variable, with defaults that make `hypnos server` run with no flags at all (SQLite in
//! `./hypnos-data/`, plain HTTP on 127.0.0.1:8080).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Where the data lives when `--database` is not given.
pub const DEFAULT_DATA_DIR: &str = "hypnos-data";

/// Settings of `hypnos server` (and of `hypnos admin`, which opens the same database).
#[derive(Debug, Clone, clap::Args)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[arg(long, env = "HYPNOS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Database URL: `postgres://user@host/db` for PostgreSQL, `sqlite://path/to/file.db` for
    /// SQLite. Default: SQLite in ./hypnos-data/hypnos.db.
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    pub database_url: Option<String>,

    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, env = "HYPNOS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "HYPNOS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// The URL users reach this server at (what the app's INSOMNIA_API_URL points to). Used in
    /// links the server prints; default: derived from --listen.
    #[arg(long, env = "HYPNOS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// A session ends after this long without a request (e.g. 30m, 12h, 14d).
    #[arg(long, env = "HYPNOS_SESSION_IDLE_TIMEOUT", default_value = "14d", value_parser = parse_duration)]
    pub session_idle_timeout: Duration,

    /// A session ends this long after log-in, however active.
    #[arg(long, env = "HYPNOS_SESSION_MAX_AGE", default_value = "56d", value_parser = parse_duration)]
    pub session_max_age: Duration,

    /// An invitation not accepted within this long expires (e.g. 48h, 7d).
    #[arg(long, env = "HYPNOS_INVITATION_TTL", default_value = "7d", value_parser = parse_duration)]
    pub invitation_ttl: Duration,

    /// Log-in attempts (login-a and login-m1 steps) allowed per account per minute.
    #[arg(long, env = "HYPNOS_LOGIN_RATE_PER_ACCOUNT", default_value_t = 10)]
    pub login_rate_per_account: u32,

    /// Log-in requests (all three steps) allowed per client address per minute.
    #[arg(long, env = "HYPNOS_LOGIN_RATE_PER_IP", default_value_t = 60)]
    pub login_rate_per_ip: u32,

    /// Largest blob (one encrypted document version) the sync API accepts, in bytes.
    #[arg(long, env = "HYPNOS_MAX_BLOB_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_blob_bytes: usize,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HYPNOS_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
}

/// A parser that holds only the server's settings, to get their defaults (and environment
/// variables) without a command line.
#[derive(clap::Parser)]
struct DefaultsOnly {
    #[command(flatten)]
    config: ServerConfig,
}

impl ServerConfig {
    /// The settings from the environment and the defaults alone.
    pub fn parse_defaults() -> Self {
        <DefaultsOnly as clap::Parser>::parse_from(["hypnos"]).config
    }

    /// The database URL to open: the configured one, or SQLite in `./hypnos-data/`.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => crate::storage::default_sqlite_url(std::path::Path::new(DEFAULT_DATA_DIR)),
        }
    }

    /// Checks what clap cannot: limits that must be positive and an idle timeout no longer than
    /// the maximum age.
    pub fn validate(&self) -> Result<(), String> {
        if self.session_idle_timeout.is_zero() || self.session_max_age.is_zero() {
            return Err("session timeouts must be longer than zero".into());
        }
        if self.session_idle_timeout > self.session_max_age {
            return Err("--session-idle-timeout cannot be longer than --session-max-age".into());
        }
        if self.login_rate_per_account == 0 || self.login_rate_per_ip == 0 {
            return Err("log-in rate limits must be at least 1 per minute".into());
        }
        if self.max_body_bytes < 64 * 1024 {
            return Err("--max-body-bytes must be at least 65536".into());
        }
        Ok(())
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| format!("{err} (examples: 90s, 30m, 12h, 14d)"))
}
