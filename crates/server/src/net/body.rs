//! The request body as handlers see it, with the body timeouts and the shared byte budget, and
//! the response body that tells the connection when a request is over.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::Bytes,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::{
    sync::OwnedSemaphorePermit,
    time::{Instant, Sleep},
};

use super::{ConnectionLimits, io::Phase};

/// How long a body may arrive at any pace before `--min-body-rate` applies: a slow link's TCP
/// start and a pause of the sender's own are not held against it.
pub(super) const MIN_RATE_GRACE: Duration = Duration::from_secs(30);

/// Why the body of a request was cut short, if it was; set by [`GuardedBody`], read by the
/// connection's service once the handler has answered, to replace that answer.
#[derive(Debug)]
pub(super) struct Verdict(AtomicU8);

impl Default for Verdict {
    fn default() -> Self {
        Self(AtomicU8::new(FINE))
    }
}

const FINE: u8 = 0;
const TOO_SLOW: u8 = 1;
const OVER_BUDGET: u8 = 2;

impl Verdict {
    /// The answer that replaces the handler's, when the body was cut short: 408 for a body too
    /// slow, 503 when the server holds too many body bytes; both close the connection, since the
    /// rest of the body is still on its way.
    pub fn replacement(&self) -> Option<Response> {
        let (status, code, message) = match self.0.load(Ordering::Relaxed) {
            TOO_SLOW => (
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "the request body arrived too slowly: send it again",
            ),
            OVER_BUDGET => (
                StatusCode::SERVICE_UNAVAILABLE,
                "BUSY",
                "the server is receiving too many request bodies at once: try again shortly",
            ),
            _ => return None,
        };
        let mut response = (
            status,
            axum::Json(hypnos_crypto::wire::ErrorBody {
                error: code.into(),
                message: message.into(),
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(5));
        }
        Some(response)
    }

    fn set(&self, why: u8) {
        self.0.store(why, Ordering::Relaxed);
    }
}

/// What a handler reads when the body fails one of the checks (it answers some 4xx, which the
/// verdict then replaces).
#[derive(Debug, thiserror::Error)]
enum BodyCut {
    #[error("the request body arrived too slowly")]
    TooSlow,
    #[error("the server holds too many request body bytes")]
    OverBudget,
}

/// The request body with the gap timeout, the minimum rate and a share of the byte budget that
/// it holds until dropped (handlers drop it once they have collected it).
pub(super) struct GuardedBody {
    inner: Incoming,
    limits: Arc<ConnectionLimits>,
    verdict: Arc<Verdict>,
    /// When the handler first asked for bytes; the rate is measured from there.
    started: Option<Instant>,
    last_progress: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    held: Option<OwnedSemaphorePermit>,
    cut: bool,
}

impl GuardedBody {
    pub fn new(inner: Incoming, limits: Arc<ConnectionLimits>, verdict: Arc<Verdict>) -> Self {
        Self {
            inner,
            limits,
            verdict,
            started: None,
            last_progress: Instant::now(),
            received: 0,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            held: None,
            cut: false,
        }
    }

    /// Takes `bytes` permits from the shared budget; false when there are not enough.
    fn reserve(&mut self, bytes: usize) -> bool {
        if bytes == 0 {
            return true;
        }
        let Ok(count) = u32::try_from(bytes) else {
            return false;
        };
        match self
            .limits
            .body_budget
            .clone()
            .try_acquire_many_owned(count)
        {
            Ok(permit) => {
                match &mut self.held {
                    Some(held) => held.merge(permit),
                    None => self.held = Some(permit),
                }
                true
            }
            Err(_) => false,
        }
    }

    fn cut(&mut self, why: u8, error: BodyCut) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.cut = true;
        self.verdict.set(why);
        Poll::Ready(Some(Err(Box::new(error))))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// When a body that started at `started`, last made progress at `last_progress` and has
/// delivered `received` bytes breaks a limit if nothing more arrives: after `gap` without a
/// byte, or when its average since `started` drops under `min_rate` bytes a second (checked
/// only after [`MIN_RATE_GRACE`]; `min_rate` 0 disables it).
pub(super) fn body_deadline(
    started: Instant,
    last_progress: Instant,
    received: u64,
    gap: Duration,
    min_rate: u64,
) -> Instant {
    let gap_deadline = last_progress + gap;
    if min_rate == 0 {
        return gap_deadline;
    }
    // `received` bytes at `min_rate` last this long; past it the average is under the rate.
    let fraction = u128::from(received % min_rate) * 1_000_000_000 / u128::from(min_rate);
    let covered = Duration::from_secs(received / min_rate)
        + Duration::from_nanos(u64::try_from(fraction).unwrap_or(999_999_999));
    match started.checked_add(covered.max(MIN_RATE_GRACE)) {
        Some(rate_deadline) => gap_deadline.min(rate_deadline),
        None => gap_deadline,
    }
}

impl Body for GuardedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.cut {
            return Poll::Ready(None);
        }
        let started = match this.started {
            Some(started) => started,
            None => {
                let now = Instant::now();
                this.started = Some(now);
                this.last_progress = now;
                now
            }
        };
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let length = data.len();
                    if !this.reserve(length) {
                        return this.cut(OVER_BUDGET, BodyCut::OverBudget);
                    }
                    this.received = this.received.saturating_add(length as u64);
                    this.last_progress = Instant::now();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(Box::new(err)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let deadline = body_deadline(
                    started,
                    this.last_progress,
                    this.received,
                    this.limits.body_read_timeout,
                    this.limits.min_body_rate,
                );
                if this.timer.deadline() != deadline {
                    this.timer.as_mut().reset(deadline);
                }
                match this.timer.as_mut().poll(cx) {
                    Poll::Ready(()) => this.cut(TOO_SLOW, BodyCut::TooSlow),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.cut || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The response body, which marks the connection idle once hyper has taken its last frame (or
/// dropped it), so that the keep-alive timeout runs from the end of the answer.
pub(super) struct ResponseBody {
    inner: axum::body::Body,
    _idle: IdleWhenDropped,
}

impl ResponseBody {
    pub fn new(inner: axum::body::Body, phase: Arc<Phase>) -> Self {
        Self {
            inner,
            _idle: IdleWhenDropped(phase),
        }
    }
}

struct IdleWhenDropped(Arc<Phase>);

impl Drop for IdleWhenDropped {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: Duration = Duration::from_secs(30);

    #[test]
    fn a_stalled_body_breaks_the_gap_first() {
        let start = Instant::now();
        let last = start + Duration::from_secs(5);
        assert_eq!(body_deadline(start, last, 1 << 20, GAP, 1024), last + GAP);
        assert_eq!(body_deadline(start, last, 0, GAP, 0), last + GAP);
    }

    #[test]
    fn a_slow_body_breaks_the_rate_after_the_grace() {
        let start = Instant::now();
        // 10 KiB at 1 KiB/s covers 10 s, inside the grace: the grace ends it if nothing comes.
        let last = start + Duration::from_secs(20);
        assert_eq!(
            body_deadline(start, last, 10 * 1024, GAP, 1024),
            start + MIN_RATE_GRACE
        );
        // 40 KiB covers 40 s; the gap (last byte at 20 s + 30 s) comes later.
        assert_eq!(
            body_deadline(start, last, 40 * 1024, GAP, 1024),
            start + Duration::from_secs(40)
        );
        // Half a second's worth is counted too.
        assert_eq!(
            body_deadline(start, last, 40 * 1024 + 512, GAP, 1024),
            start + Duration::from_millis(40_500)
        );
    }
}
