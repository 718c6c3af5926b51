//! What every handler shares: the store, the configuration, the server's secret for fake
//! log-in salts, the rate limiter, the event streams, the metrics and the clock.

use std::{
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::hmac;

use crate::{config::ServerConfig, events::Events, rate_limit::RateLimiter, storage::Store};

/// Shared state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Key of the HMAC that makes stable fake salts and verifiers for unknown e-mails. Kept in
    /// the database (`server_settings`), so answers survive restarts and agree across processes.
    pub unknown_account_key: hmac::Key,
    /// The rate limits (per address, per account and address, per account, per look-up
    /// caller), counted in the database.
    pub limiter: Arc<RateLimiter>,
    /// The event streams open here, and the notices that feed them.
    pub events: Arc<Events>,
    /// This server's metrics (`/metrics` on the metrics listener).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The mail sender, when `--smtp-host` is set (set by [`crate::open`]); `None` sends
    /// nothing.
    pub mail: Option<crate::mail::Mailer>,
    /// Accounts whose last stream of an organization closed here, for the presence task that
    /// [`crate::run`] starts (it takes them).
    pub(crate) departures: crate::presence::Departures,
}

/// Name of the secret in `server_settings`.
pub const UNKNOWN_ACCOUNT_SECRET: &str = "unknown_account_hmac_key";

impl AppState {
    /// Builds the state over an opened store, creating the server secret on first start.
    pub async fn new(
        store: Arc<dyn Store>,
        config: ServerConfig,
    ) -> Result<Self, crate::storage::StoreError> {
        let secret = store
            .server_secret(UNKNOWN_ACCOUNT_SECRET, &|| {
                hypnos_crypto::random::bytes::<32>()
                    .expect("the system random generator works")
                    .to_vec()
            })
            .await?;
        let max_streams = config
            .max_streams
            .unwrap_or_else(|| crate::events::default_max_streams(config.max_connections));
        let (events, departures) =
            Events::start(store.as_ref(), max_streams, config.max_streams_per_account).await;
        Ok(Self {
            events,
            metrics: Arc::new(crate::metrics::Metrics::new()),
            mail: None,
            departures: Arc::new(std::sync::Mutex::new(Some(departures))),
            limiter: Arc::new(RateLimiter::new(store.clone(), &config)),
            store,
            config: Arc::new(config),
            unknown_account_key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
        })
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(elapsed.as_millis()).expect("milliseconds fit in i64 until the year 292 million")
}
