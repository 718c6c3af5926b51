//! The Hypnos sync server: the Insomnia app's REST (and, later, GraphQL) API over a storage layer
//! with two backends, PostgreSQL and SQLite.
//!
//! [`serve`] runs it; [`app`] builds the router (tests drive it over a real listener). Handlers
//! live in [`api`], one module per resource; [`storage`] is the only code that touches a database.

pub mod admin;
pub mod api;
pub mod backup;
pub mod config;
pub mod config_file;
pub mod error;
pub mod events;
mod extract;
pub mod mail;
pub mod membership;
pub mod metrics;
mod net;
pub mod permissions;
pub mod presence;
mod rate_limit;
pub mod request_id;
pub mod session;
pub mod state;
pub mod storage;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{Router, extract::DefaultBodyLimit, http::StatusCode, response::IntoResponse};
use tower_http::{
    catch_panic::CatchPanicLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

pub use config::ServerConfig;
use error::ApiError;
pub use state::AppState;

/// Whether this build contains a working server.
pub const IS_BUILT: bool = true;

/// How long in-flight requests may take to finish after a shutdown signal.
const GRACE_PERIOD: Duration = Duration::from_secs(30);

/// What stops the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] storage::StoreError),
    /// The address could not be bound, or TLS files could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The mail settings are unusable (the SMTP password file cannot be read, say).
    #[error("mail: {0}")]
    Mail(#[from] mail::MailError),
}

/// The router with every route and the layers every request passes through: a body limit, a
/// panic guard (a panic answers 500 JSON, the process lives on), the request metrics, request
/// tracing and the request id. The trace logs method, path, request id, status and latency
/// only, never headers or the query, so no session id reaches a log.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let trusted: Arc<[ipnet::IpNet]> = state.config.trusted_proxies.clone().into();
    let counted = state.metrics.clone();
    api::routes()
        .fallback(|| async { ApiError::NotFound("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(hypnos_crypto::wire::ErrorBody {
                    error: "METHOD_NOT_ALLOWED".into(),
                    message: "this endpoint does not take that method".into(),
                }),
            )
                .into_response()
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a handler panicked".into()).into_response()
        }))
        // Outside the panic guard: a panic is counted as the 500 it is answered with.
        .layer(axum::middleware::from_fn_with_state(
            counted,
            metrics::track,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Outside the trace layer: the id is on the request before its span is made.
        .layer(axum::middleware::from_fn_with_state(
            trusted,
            request_id::assign,
        ))
}

/// The span of a request: its method, path and id (every log line of the request carries
/// them). Not its URI: a query can hold a secret (the 10.x app puts its session id in the event
/// stream's `?sessionId=`).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(&request_id::HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}

/// Opens the database (running its migrations) and builds the shared state, with the mail
/// sender when `--smtp-host` is set (its password file is read here: unreadable, no start).
pub async fn open(config: ServerConfig) -> Result<AppState, ServeError> {
    config.validate().map_err(ServeError::Config)?;
    let mailer = mail::Mailer::start(&config.mail, mail_identity(&config))?;
    let store = storage::connect(&config.database_url()).await?;
    let mut state = AppState::new(store, config).await?;
    state.mail = mailer;
    Ok(state)
}

/// How the server's mail names it: `--server-name` (else the public URL's host) and the
/// public URL.
pub fn mail_identity(config: &ServerConfig) -> mail::ServerIdentity {
    mail::ServerIdentity {
        name: api::pages::display_name(config),
        url: admin::public_url(config),
    }
}

/// Runs the server on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish (up to 30 s) and returns. Serves HTTPS when the configuration names a
/// certificate and key. Connections go through [`net`]: HTTP/1.1 with the configured
/// timeouts, connection cap and lingering close.
pub async fn run(
    state: AppState,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let config = state.config.clone();
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key).await?),
        _ => None,
    };
    let purge = tokio::spawn(purge_expired(state.clone()));
    let presence = tokio::spawn(presence::keep(state.clone()));
    // Event streams never finish by themselves: end them when the shutdown begins, so that
    // the grace period waits only for real requests.
    let events = state.events.clone();
    let shutdown = async move {
        shutdown.await;
        events.hub().close_all();
    };
    net::serve(
        listener,
        tls,
        app(state),
        net::ConnectionLimits::from_config(&config),
        config.max_connections,
        shutdown,
        GRACE_PERIOD,
    )
    .await;
    purge.abort();
    presence.abort();
    Ok(())
}

/// The TLS settings of the PEM files, offering HTTP/1.1 alone in ALPN (the only protocol served).
async fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, ServeError> {
    let loaded = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?;
    let mut tls = (*loaded.get_inner()).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(tls)))
}

/// Binds the configured addresses (the API's, and the metrics' unless `--metrics-listen off`)
/// and runs until SIGTERM or Ctrl-C.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    // Before binding: a bad setting is reported as such, not as a port another process holds.
    config.validate().map_err(ServeError::Config)?;
    let listener = std::net::TcpListener::bind(config.listen)?;
    let metrics_listener = match config.metrics_listen {
        config::MetricsListen::At(address) => {
            Some(std::net::TcpListener::bind(address).map_err(|error| {
                std::io::Error::new(
                    error.kind(),
                    format!("--metrics-listen {address}: {error} (`off` serves no metrics)"),
                )
            })?)
        }
        config::MetricsListen::Off => None,
    };
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let address = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{address}"));
    // The URL may hold a password: only the database's kind is logged.
    let database = if config.database_url().starts_with("postgres") {
        "postgresql"
    } else {
        "sqlite"
    };
    let state = open(config).await?;
    tracing::info!(%address, %public_url, database, "hypnos server listening");
    let metrics_task = match metrics_listener {
        Some(metrics_listener) => {
            let address = metrics_listener.local_addr()?;
            tracing::info!(%address, "metrics at http://{address}/metrics");
            let served = state.clone();
            Some(tokio::spawn(async move {
                // The API's shutdown ends this task (abort below): a scrape is never waited for.
                let never = std::future::pending();
                if let Err(error) = metrics::serve(served, metrics_listener, never).await {
                    tracing::error!(%error, "the metrics listener failed");
                }
            }))
        }
        None => None,
    };
    let served = run(state, listener, shutdown_signal()).await;
    if let Some(metrics_task) = metrics_task {
        metrics_task.abort();
    }
    served
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("the Ctrl-C handler can be installed");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler can be installed")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Deletes expired log-in attempts, sessions and reset tokens once a minute.
async fn purge_expired(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(err) = state.store.purge_expired(state::now_ms()).await {
            tracing::warn!(error = %err, "purging expired rows failed");
            count_database_failure(&state, &err);
        }
        // Rate-limit windows that have ended (rate_limit.rs).
        let ended = state::now_ms() - rate_limit::WINDOW_MS;
        if let Err(err) = state.store.purge_rate_limits(ended).await {
            tracing::warn!(error = %err, "purging ended rate-limit windows failed");
            count_database_failure(&state, &err);
        }
    }
}

/// Counts a background task's failure on the database in the metrics.
fn count_database_failure(state: &AppState, error: &storage::StoreError) {
    if let Some(failure) = metrics::DatabaseFailure::of(error) {
        state.metrics.database_failed(failure);
    }
}
