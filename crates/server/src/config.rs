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

    /// Failed log-ins (a wrong proof at login-m1) allowed per account per client address (IPv6:
    /// per /64) per minute, over every server process on the database; then login-m1 refuses
    /// even the right proof until the window ends (successful log-ins count nothing); resets
    /// count with failed log-ins, each request, vault-key verifications alike under their own
    /// key. See also --login-rate-per-account-global.
    #[arg(long, env = "HYPNOS_LOGIN_RATE_PER_ACCOUNT", default_value_t = 10)]
    pub login_rate_per_account: u32,

    /// Requests to the authentication endpoints (the log-in steps, sign-up, reset, the vault
    /// key) allowed per client address (IPv6: per /64) per minute, checked before the body is
    /// read, in each server process; and failed log-ins, resets and vault-key attempts allowed
    /// per client address per minute, over all accounts and every server process on the
    /// database.
    #[arg(long, env = "HYPNOS_LOGIN_RATE_PER_IP", default_value_t = 60)]
    pub login_rate_per_ip: u32,

    /// Largest blob (one encrypted document version) the sync API accepts, in bytes.
    #[arg(long, env = "HYPNOS_MAX_BLOB_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_blob_bytes: usize,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HYPNOS_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    // -- connection limits (timeouts, connection cap, auth body limit) --
    /// The whole request head (request line and headers) must arrive within this long of its
    /// first byte (of the connection, for the first request); also bounds the TLS handshake.
    #[arg(long, env = "HYPNOS_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// A kept-alive connection idle this long between requests is closed.
    #[arg(long, env = "HYPNOS_KEEP_ALIVE_TIMEOUT", default_value = "75s", value_parser = parse_duration)]
    pub keep_alive_timeout: Duration,

    /// The longest a request body may go without a byte arriving (and a response without a byte
    /// leaving) before the request is answered 408 and the connection closed.
    #[arg(long, env = "HYPNOS_BODY_READ_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub body_read_timeout: Duration,

    /// Bytes per second a request body must average once it has been arriving for 30 s; slower
    /// bodies are answered 408. 0 disables the check.
    #[arg(long, env = "HYPNOS_MIN_BODY_RATE", default_value_t = 1024)]
    pub min_body_rate: u64,

    /// Connections served at once; further connections wait in the listen queue until one ends.
    #[arg(long, env = "HYPNOS_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Event streams (the app's live updates) this process holds at once; a further one is
    /// answered 503. Each holds a connection. Default: half of --max-connections; 0 turns the
    /// streams off.
    #[arg(long, env = "HYPNOS_MAX_STREAMS")]
    pub max_streams: Option<usize>,

    /// Event streams one account may hold in this process (an app window holds one); a further
    /// one ends the account's oldest, so that streams a crashed app left open cannot lock its
    /// owner out.
    #[arg(long, env = "HYPNOS_MAX_STREAMS_PER_ACCOUNT", default_value_t = 16)]
    pub max_streams_per_account: usize,

    /// How long a member's presence (the avatars on a file) lasts without an open event stream
    /// of its organization keeping it; refreshed every third of it. Hidden: a knob for tests,
    /// not for operators (the app posts presence only when it moves, so it must outlast the
    /// refresh with room to spare).
    #[arg(long, env = "HYPNOS_PRESENCE_TTL", default_value = "90s", value_parser = parse_duration, hide = true)]
    pub presence_ttl: Duration,

    /// Request-body bytes held at once across all requests still receiving their bodies; a body
    /// that would go past it is answered 503 (retry later). At least --max-body-bytes.
    #[arg(long, env = "HYPNOS_MAX_BUFFERED_BODY_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub max_buffered_body_bytes: usize,

    // -- rate limits (trusted proxies, per-account ceilings, look-ups) --
    /// Failed log-ins allowed per account per minute from all addresses together:
    /// a ceiling far above one address's allowance (--login-rate-per-account), so that many
    /// addresses together cannot guess without bound while one attacking address cannot lock
    /// the owner out. Resets count with log-ins; vault-key verifications under their own key.
    #[arg(
        long,
        env = "HYPNOS_LOGIN_RATE_PER_ACCOUNT_GLOBAL",
        default_value_t = 100
    )]
    pub login_rate_per_account_global: u32,

    /// Reverse proxies (comma-separated addresses or CIDRs, e.g. 10.0.0.0/8,::1) whose
    /// X-Forwarded-For is believed: for a request from one of them the client is the right-most
    /// address of that header that is not itself one of them. Default: none (the header is
    /// ignored and the connection's address is the client's).
    #[arg(
        long,
        env = "HYPNOS_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Invitation look-ups (`invites/instructions`, which tell whether an e-mail has an account)
    /// allowed per calling account per minute.
    #[arg(long, env = "HYPNOS_INVITE_LOOKUP_RATE", default_value_t = 30)]
    pub invite_lookup_rate: u32,

    /// Largest request body of the authentication endpoints (/auth/*, /v1/user/vault*), in
    /// bytes; a bigger one is refused unread (413).
    #[arg(long, env = "HYPNOS_AUTH_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub auth_max_body_bytes: usize,

    // -- sign-up policy --
    /// Who may create an account: `open` (anyone who reaches the server), `invite-only` (only
    /// with a one-time link from `hypnos admin signup-link`) or `closed` (nobody by themselves;
    /// an operator's link still admits its one person).
    #[arg(long = "signup", env = "HYPNOS_SIGNUP", value_enum, default_value_t = crate::admin::SignupPolicy::Open)]
    pub signup: crate::admin::SignupPolicy,

    /// E-mail domains that may sign up, comma-separated (example.com,example.org; exact
    /// match, no subdomains); empty: any. A sign-up link made for a named e-mail is exempt.
    #[arg(long = "signup-domains", env = "HYPNOS_SIGNUP_DOMAINS", value_delimiter = ',', value_parser = crate::admin::parse_signup_domain)]
    pub signup_domains: Vec<String>,

    // -- graphql limits (complexity, aliases, answer bytes) --
    /// Most bytes of blob content and snapshot state one sync (GraphQL) answer may carry; a
    /// field that would go past it fails with an error saying so. At least --max-blob-bytes.
    #[arg(long, env = "HYPNOS_MAX_ANSWER_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_answer_bytes: usize,

    /// Most fields one GraphQL request may select, fragments expanded (the app's largest
    /// operation selects 15).
    #[arg(long, env = "HYPNOS_GRAPHQL_MAX_COMPLEXITY", default_value_t = 100)]
    pub graphql_max_complexity: usize,

    /// Most top-level fields, and most aliases, one GraphQL request may hold (the app sends one
    /// top-level field and no alias).
    #[arg(long, env = "HYPNOS_GRAPHQL_MAX_ALIASES", default_value_t = 10)]
    pub graphql_max_aliases: usize,

    /// The name the browser log-in and sign-up pages show for this server (e.g. "Acme API
    /// sync"), as plain text: 1 to 64 characters, no control characters. Default: the host of
    /// --public-url, else "Hypnos".
    #[arg(long, env = "HYPNOS_SERVER_NAME", value_parser = parse_server_name)]
    pub server_name: Option<String>,

    // -- metrics --
    /// Where `GET /metrics` (Prometheus text format) is served: an address and port of its own,
    /// never the API's, so that it stays off the public network unless the operator puts it
    /// there; `off` serves no metrics.
    #[arg(
        long,
        env = "HYPNOS_METRICS_LISTEN",
        default_value = DEFAULT_METRICS_LISTEN,
        value_parser = parse_metrics_listen
    )]
    pub metrics_listen: MetricsListen,

    // -- mail --
    /// Mail through an SMTP server (invitations, reset tokens, passphrase-change notices).
    #[command(flatten)]
    pub mail: MailConfig,
}

/// Where `--metrics-listen` serves by default: loopback, on a port of Prometheus' exporter range.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9847";

/// `--metrics-listen`: an address to serve `/metrics` on, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    /// No metrics listener.
    Off,
    /// Serve `/metrics` on this address.
    At(SocketAddr),
}

/// `off`, or an address and port.
fn parse_metrics_listen(text: &str) -> Result<MetricsListen, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(MetricsListen::Off);
    }
    text.parse().map(MetricsListen::At).map_err(|_| {
        format!("{text:?} is neither an address and port (e.g. 127.0.0.1:9847) nor `off`")
    })
}

/// The SMTP settings (`--smtp-…`). Without `--smtp-host` the server sends no mail at all. The
/// password is read from a file (`--smtp-password-file`), never taken from the command line or
/// the environment, where other users of the machine could read it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MailConfig {
    /// SMTP server to send mail through: invitations to the invitee, a passphrase change's
    /// notice to the account, and `hypnos admin reset-token --mail`. Unset: no mail.
    #[arg(long, env = "HYPNOS_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// The SMTP server's port. Default: 587 for starttls, 465 for tls, 25 for none.
    #[arg(long, env = "HYPNOS_SMTP_PORT")]
    pub smtp_port: Option<u16>,

    /// How the connection to the SMTP server is encrypted: `starttls` (plain, then upgraded;
    /// refused if the server does not offer it), `tls` (TLS from the start) or `none`
    /// (unencrypted: only for a relay on the same host or a trusted network).
    #[arg(long, env = "HYPNOS_SMTP_TLS", value_enum, default_value_t = SmtpTls::Starttls)]
    pub smtp_tls: SmtpTls,

    /// User name for SMTP authentication (with --smtp-password-file).
    #[arg(long, env = "HYPNOS_SMTP_USER")]
    pub smtp_user: Option<String>,

    /// File holding the SMTP password (one final newline is dropped), read once at start: the
    /// server refuses to start if it cannot be read.
    #[arg(long, env = "HYPNOS_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,

    /// The sender of the server's mail, e.g. `Hypnos <hypnos@example.com>`; required with
    /// --smtp-host.
    #[arg(long, env = "HYPNOS_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

/// How the connection to the SMTP server is encrypted (`--smtp-tls`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SmtpTls {
    /// A plain connection upgraded with STARTTLS, which the server must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption (port 25).
    None,
}

impl SmtpTls {
    /// The port of this mode when `--smtp-port` is not given.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

impl MailConfig {
    /// Whether mail is configured (`--smtp-host` is set).
    pub fn enabled(&self) -> bool {
        self.smtp_host.is_some()
    }

    /// The port to connect to: `--smtp-port`, else the TLS mode's.
    pub fn port(&self) -> u16 {
        self.smtp_port
            .unwrap_or_else(|| self.smtp_tls.default_port())
    }

    /// Checks the mail settings: a sender with a host, a user with a password file, and no
    /// mail setting without a host (it would silently do nothing).
    pub fn validate(&self) -> Result<(), String> {
        let Some(host) = &self.smtp_host else {
            let stray = [
                (self.smtp_port.is_some(), "--smtp-port"),
                (self.smtp_user.is_some(), "--smtp-user"),
                (self.smtp_password_file.is_some(), "--smtp-password-file"),
                (self.smtp_from.is_some(), "--smtp-from"),
            ];
            return match stray.iter().find(|(given, _)| *given) {
                Some((_, flag)) => Err(format!("{flag} needs --smtp-host")),
                None => Ok(()),
            };
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("--smtp-host {host:?} is not a host name"));
        }
        if self.smtp_port == Some(0) {
            return Err("--smtp-port must be between 1 and 65535".into());
        }
        let Some(from) = &self.smtp_from else {
            return Err(
                "--smtp-from is required with --smtp-host (the sender of the server's mail, \
                 e.g. \"Hypnos <hypnos@example.com>\")"
                    .into(),
            );
        };
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "--smtp-from {from:?} is not an address (e.g. \"Hypnos <hypnos@example.com>\")"
            ));
        }
        match (&self.smtp_user, &self.smtp_password_file) {
            (Some(_), None) => Err("--smtp-user needs --smtp-password-file".into()),
            (None, Some(_)) => Err("--smtp-password-file needs --smtp-user".into()),
            _ => Ok(()),
        }
    }
}

/// A parser that holds only the server's settings, to get their defaults (and environment
/// variables) without a command line.
#[derive(clap::Parser)]
pub(crate) struct DefaultsOnly {
    #[command(flatten)]
    pub(crate) config: ServerConfig,
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
        // -- validate: connection limits --
        if [
            self.header_read_timeout,
            self.keep_alive_timeout,
            self.body_read_timeout,
        ]
        .iter()
        .any(Duration::is_zero)
        {
            return Err("connection timeouts must be longer than zero".into());
        }
        if [
            self.header_read_timeout,
            self.keep_alive_timeout,
            self.body_read_timeout,
        ]
        .iter()
        .any(|timeout| *timeout > Duration::from_secs(24 * 3600))
        {
            return Err("connection timeouts cannot be longer than 24h".into());
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        if self.max_streams_per_account == 0 {
            return Err("--max-streams-per-account must be at least 1".into());
        }
        if self
            .max_streams
            .is_some_and(|streams| streams > self.max_connections)
        {
            return Err("--max-streams cannot be more than --max-connections".into());
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3600)).contains(&self.presence_ttl) {
            return Err("--presence-ttl must be between 1s and 1h".into());
        }
        if self.max_buffered_body_bytes < self.max_body_bytes {
            return Err("--max-buffered-body-bytes cannot be less than --max-body-bytes".into());
        }
        // -- validate: rate limits --
        if self.login_rate_per_account_global == 0 || self.invite_lookup_rate == 0 {
            return Err("rate limits must be at least 1 per minute".into());
        }
        if !(AUTH_MIN_BODY_BYTES..=self.max_body_bytes).contains(&self.auth_max_body_bytes) {
            return Err(format!(
                "--auth-max-body-bytes must be between {AUTH_MIN_BODY_BYTES} and --max-body-bytes"
            ));
        }
        // -- validate: sign-up policy --
        // -- validate: graphql limits --
        if self.max_answer_bytes < self.max_blob_bytes {
            return Err("--max-answer-bytes must be at least --max-blob-bytes".into());
        }
        if self.graphql_max_complexity < 20 || self.graphql_max_aliases == 0 {
            return Err(
                "--graphql-max-complexity must be at least 20 and --graphql-max-aliases at least 1 \
                 (the app's own operations need that)"
                    .into(),
            );
        }
        // -- validate: metrics --
        if let MetricsListen::At(metrics) = self.metrics_listen
            && metrics.port() != 0
            && metrics.port() == self.listen.port()
            && (metrics.ip() == self.listen.ip()
                || metrics.ip().is_unspecified()
                || self.listen.ip().is_unspecified())
        {
            return Err("--metrics-listen must differ from --listen (or be `off`)".into());
        }
        // -- validate: mail --
        self.mail.validate()?;
        Ok(())
    }
}

/// The smallest `--auth-max-body-bytes`: an account's sign-up or reset (its RSA key pair,
/// encrypted) takes about 5 KiB.
pub const AUTH_MIN_BODY_BYTES: usize = 16 * 1024;

/// An address (one host) or a CIDR network, for `--trusted-proxies`.
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    if let Ok(network) = text.parse::<ipnet::IpNet>() {
        return Ok(network.trunc());
    }
    text.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("{text:?} is not an address or a CIDR network (e.g. 10.0.0.0/8)"))
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|err| format!("{err} (examples: 90s, 30m, 12h, 14d)"))
}

/// Longest `--server-name`, in characters: it has to fit a heading on a phone.
pub const MAX_SERVER_NAME_CHARS: usize = 64;

/// `--server-name`: trimmed, 1 to [`MAX_SERVER_NAME_CHARS`] characters, no control characters
/// (a line break or an escape sequence has no place in a heading or a log). Any other character
/// is allowed: the pages escape it.
pub fn parse_server_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > MAX_SERVER_NAME_CHARS {
        return Err(format!(
            "the server's name must be 1 to {MAX_SERVER_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("the server's name cannot hold control characters or line breaks".into());
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_listen_is_an_address_or_off() {
        assert_eq!(parse_metrics_listen("off"), Ok(MetricsListen::Off));
        assert_eq!(parse_metrics_listen(" OFF "), Ok(MetricsListen::Off));
        assert_eq!(
            parse_metrics_listen("[::1]:9847"),
            Ok(MetricsListen::At("[::1]:9847".parse().expect("an address")))
        );
        assert!(parse_metrics_listen("9847").is_err());
        assert!(parse_metrics_listen("").is_err());
    }

    #[test]
    fn metrics_cannot_take_the_api_port() {
        let mut config = ServerConfig::parse_defaults();
        config.listen = "0.0.0.0:8080".parse().expect("an address");
        config.metrics_listen = MetricsListen::At("127.0.0.1:8080".parse().expect("an address"));
        assert!(config.validate().is_err());
        config.metrics_listen = MetricsListen::At("127.0.0.1:0".parse().expect("an address"));
        assert!(config.validate().is_ok());
        config.metrics_listen = MetricsListen::Off;
        assert!(config.validate().is_ok());
    }
}
