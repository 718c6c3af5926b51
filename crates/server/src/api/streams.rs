//! `GET /v1/teams/{org}/streams`: the app's event stream of one organization, as server-sent
//! events (insomnia-wire-newer.md §7). The app's main process sends the session in
//! `X-Session-Id` (10.x also puts it in a `sessionId` query, which is never read or logged
//! here: the header is always there).
//!
//! Each event is an unnamed SSE event (the app listens for `message` only) whose data is the
//! JSON of [`hypnos_crypto::wire::events::Event`]. A comment every 20 s keeps proxies and the
//! connection's timeouts from ending an idle stream. The stream ends when the caller stops
//! being a member or the organization is deleted (both after a last `OrganizationChanged`, so
//! that the app reloads its organizations), the session ends, the server shuts down, or after
//! about an hour (the app reconnects at once, and its session is checked again).

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    extract::{Path, State},
    response::sse::{Event as SseEvent, KeepAlive, Sse},
};
use futures_util::{Stream, StreamExt, stream};

use crate::{
    error::{ApiError, ApiResult},
    events::Full,
    membership,
    session::Authenticated,
    state::AppState,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The gap between keep-alive comments: shorter than the server's own `--body-read-timeout`
/// default (30 s) and than common proxies' idle timeouts (60 s).
const KEEP_ALIVE: Duration = Duration::from_secs(20);

/// How long the app's EventSource waits before reconnecting after the stream ends (its
/// default is about 3 s).
const RETRY: Duration = Duration::from_secs(2);

/// A stream ends after this long, give or take a tenth (so that streams opened together do not
/// all reconnect together): its session is checked again when the app reconnects.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// The route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(open))
}

/// The organization's events as server-sent events, until the session ends.
#[utoipa::path(
    get, operation_id = "streams_open", path = "/v1/teams/{org}/streams", tag = "sync", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, description = "An endless stream of events.", content_type = "text/event-stream"))
)]
async fn open(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let membership = membership::member(&state, &caller, &org).await?;
    let hub = state.events.hub();
    // A member's first stream here brings its place back (it may have been kept by another
    // process); a further one finds it kept by this process's presence task already, so ten
    // thousand windows of one account do not each write it.
    let first_here = !hub.holds(&membership.organization.id, &caller.account.id);
    let subscription = hub
        .open(
            &membership.organization.id,
            &caller.account.id,
            caller.session.id_hash,
        )
        .map_err(|Full::Server| {
            ApiError::Busy("the server holds its most event streams: retry later")
        })?;
    if first_here {
        crate::presence::arrived(&state, &membership.organization.id, &caller.account.id);
    }
    let first = stream::once(async { Ok(SseEvent::default().retry(RETRY)) });
    let events = subscription.map(|json: Arc<str>| Ok(SseEvent::default().data(&*json)));
    let age = MAX_AGE.mul_f64(0.9 + 0.2 * jitter());
    let events = first.chain(events).take_until(tokio::time::sleep(age));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keepalive")))
}

/// A number in [0, 1) from the system random generator.
fn jitter() -> f64 {
    hypnos_crypto::random::bytes::<2>()
        .map_or(0.5, |bytes| f64::from(u16::from_le_bytes(bytes)) / 65536.0)
}
