//! `hypnos-load`: a load generator for a running Hypnos server's log-in.
//!
//! It signs up a set of fresh accounts, deriving each account's secrets once (PBKDF2 is the
//! client's cost, not the server's, and stays out of the measurement), then runs concurrent
//! workers that each repeat the app's complete log-in — `login-s`, `login-a`, `login-m1` (with
//! the server's M2 checked) and `whoami` with the new session — for a fixed time, and reports
//! the rate of successful log-ins, their latency percentiles, the failures by HTTP status and,
//! given the server's process id, the server's CPU time per log-in.
//!
//! Modules: [`cli`] (arguments), [`account`] (sign-up), [`login`] (one log-in), [`run`] (the
//! workers and the measured window), [`cpu`] (`/proc` CPU counters), [`report`] (percentiles and
//! the printed report).

pub mod account;
pub mod cli;
pub mod cpu;
pub mod hostile;
pub mod login;
pub mod report;
pub mod run;
pub mod stream_bench;
pub mod sync_bench;

/// What stops a load run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The arguments do not make sense together.
    #[error("invalid arguments: {0}")]
    Arguments(String),
    /// Making or signing up the accounts failed.
    #[error("setting up the accounts: {0}")]
    Setup(String),
    /// A `/proc` counter could not be read.
    #[error("reading CPU counters: {0}")]
    Proc(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// A cryptographic step failed (only the random generator can fail here).
    #[error("crypto: {0}")]
    Crypto(#[from] hypnos_crypto::CryptoError),
    /// A call of `hypnos-client` (sign-up, log-in, sync) failed.
    #[error("client: {0}")]
    Client(#[from] hypnos_client::ClientError),
}
