//! Liveness and readiness.
//!
//! `/healthz` answers 200 while the process serves requests: restarting it would not help a
//! database that is down or a disk that is full, so liveness does not look at them. `/readyz`
//! answers 200 only when the server can do its work, reads and writes: the database answers, and
//! a write probe (on SQLite with room left on the database's disk) succeeded within the last two
//! seconds (`Store::check_writable`). Otherwise 503 with the error shape, the message saying
//! why in a fixed sentence; the database's own error goes to the log.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use hypnos_crypto::wire::ErrorBody;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{state::AppState, storage::StoreError};

/// `GET /healthz` (the process runs) and `GET /readyz` (the database can be read and written).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
}

/// Whether the process serves requests (200 while it does).
#[utoipa::path(get, operation_id = "health_live", path = "/healthz", tag = "health", responses((status = 200, description = "Alive.")))]
async fn live() -> StatusCode {
    StatusCode::OK
}

/// How long `/readyz` waits for the database to answer a read (the pool would wait for a
/// connection up to its acquire timeout, longer than a load balancer waits for `/readyz`).
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the server can do its work: the database answers reads and writes.
#[utoipa::path(get, operation_id = "health_ready", path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready."),
    (status = 503, description = "Not ready; the message says why.", body = ErrorBody),
))]
async fn ready(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            return not_ready("the database does not answer".to_owned());
        }
        Err(_) => {
            tracing::warn!("not ready: the database does not answer in time");
            return not_ready("the database does not answer".to_owned());
        }
    }
    match state.store.check_writable().await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(StoreError::Unavailable(reason)) => not_ready(format!("cannot write: {reason}")),
        Err(error) => {
            tracing::warn!(%error, "not ready: the write probe failed");
            not_ready("cannot write".to_owned())
        }
    }
}

/// 503 with `{"error": "NOT_READY", "message": …}`.
fn not_ready(message: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(ErrorBody {
            error: "NOT_READY".into(),
            message,
        }),
    )
        .into_response()
}
