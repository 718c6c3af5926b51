//! `GET /metrics` on the metrics listener: the levels read now (open event streams, the
//! database pools), then every metric in the Prometheus text format (version 0.0.4).

use std::{future::Future, time::Duration};

use axum::{
    Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{error::ApiError, state::AppState};

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `GET /metrics` of `state` on `listener` until `shutdown` completes. Anything else
/// is answered 404. The listener is the caller's: `hypnos server` binds `--metrics-listen`,
/// tests bind port 0.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let limits = crate::net::ConnectionLimits::from_config(&state.config);
    let router = Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { ApiError::NotFound("no such endpoint: metrics are at /metrics") })
        .with_state(state);
    // The API's connection layer, with its timeouts: a listener someone exposes by mistake
    // cannot be held open by a slow client.
    crate::net::serve(
        listener,
        None,
        router,
        limits,
        MAX_CONNECTIONS,
        shutdown,
        GRACE_PERIOD,
    )
    .await;
    Ok(())
}

/// Connections the metrics listener serves at once (a Prometheus server keeps one).
const MAX_CONNECTIONS: usize = 16;

/// How long a scrape in flight may take to finish once the listener stops.
const GRACE_PERIOD: Duration = Duration::from_secs(5);

/// One scrape.
async fn scrape(State(state): State<AppState>) -> Response {
    let metrics = &state.metrics;
    metrics.refresh(state.events.hub().open_streams(), &state.store.pool_use());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode()).into_response()
}
