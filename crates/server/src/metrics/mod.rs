//! The server's metrics, served in the Prometheus text format by [`serve`] on a listener of
//! their own (`--metrics-listen`), never on the API's.
//!
//! Every server state owns its [`Metrics`] (a registry of its own, no global recorder): several
//! servers in one process count apart. What happens on the request path is counted as it
//! happens ([`requests`]: by route template and status; and the log-ins, pushes and blobs the
//! handlers report); what is a level (open event streams, the database pools) is read when
//! Prometheus scrapes ([`endpoint`]).

mod endpoint;
mod requests;

use std::sync::Mutex;

use prometheus::{
    CounterVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry,
};

pub use endpoint::{CONTENT_TYPE, serve};
pub(crate) use requests::track;

use crate::storage::{PoolUse, StoreError};

/// The prefix of every metric's name.
const NAMESPACE: &str = "hypnos";

/// The bounds (seconds) of the request latency histogram: 5 ms to 10 s, which covers a log-in
/// step (milliseconds) and a large push or pull (seconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A failure of the database, as a response carries it (an extension) to the request counter:
/// handlers turn a [`StoreError`] into an answer far from the state that counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseFailure {
    /// The database could not be reached (or a connection not had in time).
    Unavailable,
    /// A statement failed for another reason.
    Failed,
}

impl DatabaseFailure {
    /// The failure `error` is, if it is one of the database's (a conflict or a missing row is
    /// an answer, not a failure).
    pub fn of(error: &StoreError) -> Option<Self> {
        match error {
            StoreError::Unavailable(_) => Some(Self::Unavailable),
            StoreError::Other(_) => Some(Self::Failed),
            StoreError::NotFound | StoreError::Conflict(_) => None,
        }
    }

    /// Its `kind` label.
    fn label(self) -> &'static str {
        match self {
            Self::Unavailable => "unavailable",
            Self::Failed => "failed",
        }
    }
}

/// The metrics of one server.
pub struct Metrics {
    registry: Registry,
    /// `hypnos_http_requests_total{method,route,status}`.
    requests: IntCounterVec,
    /// `hypnos_http_request_duration_seconds{method,route}`.
    durations: HistogramVec,
    /// `hypnos_logins_total{outcome}`.
    logins: IntCounterVec,
    /// `hypnos_rate_limited_requests_total`.
    rate_limited: IntCounter,
    /// `hypnos_database_errors_total{kind}`.
    database_errors: IntCounterVec,
    /// `hypnos_pushes_total`.
    pushes: IntCounter,
    /// `hypnos_blobs_stored_total`.
    blobs: IntCounter,
    /// `hypnos_blob_bytes_stored_total`.
    blob_bytes: IntCounter,
    /// `hypnos_event_streams_open`, read at scrape time.
    streams: IntGauge,
    /// `hypnos_db_pool_connections{pool,state}`, read at scrape time.
    pool_connections: IntGaugeVec,
    /// `hypnos_db_pool_max_connections{pool}`, read at scrape time.
    pool_max: IntGaugeVec,
    /// `hypnos_db_pool_acquires_total{pool}`, brought up to the store's count at scrape time.
    pool_acquires: IntCounterVec,
    /// `hypnos_db_pool_acquire_waits_total{pool}`, likewise.
    pool_waits: IntCounterVec,
    /// `hypnos_db_pool_acquire_seconds_total{pool}`, likewise.
    pool_seconds: CounterVec,
    /// Held while a scrape brings the counters above up to date, so that two scrapes at once
    /// do not both add the same difference.
    refreshing: Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered (at zero where a series has no label to wait for).
    pub fn new() -> Self {
        let registry = Registry::new();
        let metrics = Self {
            requests: register(
                &registry,
                IntCounterVec::new(
                    opts(
                        "http_requests_total",
                        "HTTP requests answered, by method, route template and status.",
                    ),
                    &["method", "route", "status"],
                ),
            ),
            durations: register(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(
                        "http_request_duration_seconds",
                        "Time from a request's arrival to its answer's head, by method and \
                         route template (an event stream's answer begins at once).",
                    )
                    .namespace(NAMESPACE)
                    .buckets(LATENCY_BUCKETS.to_vec()),
                    &["method", "route"],
                ),
            ),
            logins: register(
                &registry,
                IntCounterVec::new(
                    opts(
                        "logins_total",
                        "Log-ins finished (login-m1): succeeded, or failed on a wrong passphrase \
                         or unknown e-mail.",
                    ),
                    &["outcome"],
                ),
            ),
            rate_limited: register(
                &registry,
                IntCounter::with_opts(opts(
                    "rate_limited_requests_total",
                    "Requests refused by a rate limit (answered 429).",
                )),
            ),
            database_errors: register(
                &registry,
                IntCounterVec::new(
                    opts(
                        "database_errors_total",
                        "Requests that failed on the database: unreachable (unavailable) or a \
                         statement that failed (failed).",
                    ),
                    &["kind"],
                ),
            ),
            pushes: register(
                &registry,
                IntCounter::with_opts(opts("pushes_total", "Pushes (snapshotsCreate) stored.")),
            ),
            blobs: register(
                &registry,
                IntCounter::with_opts(opts(
                    "blobs_stored_total",
                    "Blobs accepted by blobsCreate (one a project already had included).",
                )),
            ),
            blob_bytes: register(
                &registry,
                IntCounter::with_opts(opts(
                    "blob_bytes_stored_total",
                    "Bytes of the encrypted blobs accepted by blobsCreate.",
                )),
            ),
            streams: register(
                &registry,
                IntGauge::with_opts(opts(
                    "event_streams_open",
                    "Event streams (the apps' live updates) open in this process.",
                )),
            ),
            pool_connections: register(
                &registry,
                IntGaugeVec::new(
                    opts(
                        "db_pool_connections",
                        "Database connections open, by pool and state (idle, in_use).",
                    ),
                    &["pool", "state"],
                ),
            ),
            pool_max: register(
                &registry,
                IntGaugeVec::new(
                    opts(
                        "db_pool_max_connections",
                        "The most connections each database pool may open.",
                    ),
                    &["pool"],
                ),
            ),
            pool_acquires: register(
                &registry,
                IntCounterVec::new(
                    opts(
                        "db_pool_acquires_total",
                        "Transactions begun on each database pool.",
                    ),
                    &["pool"],
                ),
            ),
            pool_waits: register(
                &registry,
                IntCounterVec::new(
                    opts(
                        "db_pool_acquire_waits_total",
                        "Transactions that found no idle connection in their pool and waited \
                         for one.",
                    ),
                    &["pool"],
                ),
            ),
            pool_seconds: register(
                &registry,
                CounterVec::new(
                    opts(
                        "db_pool_acquire_seconds_total",
                        "Seconds spent getting a pooled connection and beginning a \
                         transaction, all transactions together.",
                    ),
                    &["pool"],
                ),
            ),
            refreshing: Mutex::new(()),
            registry,
        };
        for outcome in ["succeeded", "failed"] {
            metrics.logins.with_label_values(&[outcome]);
        }
        for failure in [DatabaseFailure::Unavailable, DatabaseFailure::Failed] {
            metrics
                .database_errors
                .with_label_values(&[failure.label()]);
        }
        let build = register(
            &metrics.registry,
            IntGaugeVec::new(
                opts("build_info", "Always 1: the server's version, as a label."),
                &["version"],
            ),
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        metrics
    }

    /// A log-in that succeeded (`true`) or failed on its proof (`false`).
    pub fn login(&self, succeeded: bool) {
        let outcome = if succeeded { "succeeded" } else { "failed" };
        self.logins.with_label_values(&[outcome]).inc();
    }

    /// A request failed on the database outside the request path's own counting (a background
    /// task's failure, say).
    pub fn database_failed(&self, failure: DatabaseFailure) {
        self.database_errors
            .with_label_values(&[failure.label()])
            .inc();
    }

    /// A push stored.
    pub fn pushed(&self) {
        self.pushes.inc();
    }

    /// `count` blobs of `bytes` bytes in all accepted.
    pub fn blobs_stored(&self, count: u64, bytes: u64) {
        self.blobs.inc_by(count);
        self.blob_bytes.inc_by(bytes);
    }

    /// Brings the levels read at scrape time up to date: the open streams and the pools.
    fn refresh(&self, open_streams: usize, pools: &[PoolUse]) {
        let _one_at_a_time = self
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.streams
            .set(i64::try_from(open_streams).unwrap_or(i64::MAX));
        for pool in pools {
            let in_use = pool.size.saturating_sub(pool.idle);
            self.pool_connections
                .with_label_values(&[pool.pool, "idle"])
                .set(i64::from(pool.idle));
            self.pool_connections
                .with_label_values(&[pool.pool, "in_use"])
                .set(i64::from(in_use));
            self.pool_max
                .with_label_values(&[pool.pool])
                .set(i64::from(pool.max));
            catch_up(
                &self.pool_acquires.with_label_values(&[pool.pool]),
                pool.acquires,
            );
            catch_up(&self.pool_waits.with_label_values(&[pool.pool]), pool.waits);
            let seconds = self.pool_seconds.with_label_values(&[pool.pool]);
            let behind = pool.acquire_seconds - seconds.get();
            if behind > 0.0 {
                seconds.inc_by(behind);
            }
        }
    }

    /// Everything, in the Prometheus text format.
    fn encode(&self) -> String {
        let mut text = String::new();
        prometheus::TextEncoder::new()
            .encode_utf8(&self.registry.gather(), &mut text)
            .expect("the text encoder writes our metrics to a string");
        text
    }
}

/// Raises `counter` to `total`, the count kept elsewhere (counters only go up).
fn catch_up(counter: &IntCounter, total: u64) {
    let behind = total.saturating_sub(counter.get());
    if behind > 0 {
        counter.inc_by(behind);
    }
}

/// The options of a metric `name` (without its prefix).
fn opts(name: &str, help: &str) -> Opts {
    Opts::new(name, help).namespace(NAMESPACE)
}

/// Registers a metric just made; the names are ours and distinct, so neither can fail.
fn register<M>(registry: &Registry, made: prometheus::Result<M>) -> M
where
    M: prometheus::core::Collector + Clone + 'static,
{
    let metric = made.expect("a metric's name and labels are valid");
    registry
        .register(Box::new(metric.clone()))
        .expect("each metric is registered once");
    metric
}
