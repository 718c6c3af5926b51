//! Whether the store can write now, for `/readyz`: a probe that each backend runs (a real write
//! path through its writing connection), its outcome kept for [`RECHECK_AFTER`] so that a
//! readiness check polled by many load balancers costs one probe every few seconds.
//!
//! The outcome returned to a caller says why in a short, fixed sentence (it is shown on an
//! unauthenticated endpoint); the database's own error goes to the log.
//!
//! Also here, for both backends' pools: whether a connection coming back may serve again
//! ([`reusable`]), so that a failed write does not outlive its request.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::pool::PoolConnectionMetadata;
use tokio::sync::Mutex;

use super::StoreError;

/// How long an outcome is reused before the next check probes again.
pub(super) const RECHECK_AFTER: Duration = Duration::from_secs(2);

/// How long a probe may wait (behind other writes, or for a database that does not answer).
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a success stands for a probe that timed out: a writer busy with long pushes is not
/// a writer that cannot write, but one busy for this long gets reported.
const BUSY_GRACE: Duration = Duration::from_secs(30);

/// The last probe's outcome and when it was taken.
#[derive(Default)]
pub(super) struct WriteReadiness {
    /// `None` before the first probe; the reason is the sentence `/readyz` shows.
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl WriteReadiness {
    /// The outcome of `probe`, run at most once per [`RECHECK_AFTER`]; concurrent callers wait
    /// for one probe instead of each running their own. A failure is
    /// [`StoreError::Unavailable`] with the reason.
    pub(super) async fn check<Probe>(&self, probe: Probe) -> Result<(), StoreError>
    where
        Probe: Future<Output = Result<(), String>>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = last.as_ref()
            && at.elapsed() < RECHECK_AFTER
        {
            return outcome.clone().map_err(StoreError::Unavailable);
        }
        let Ok(outcome) = tokio::time::timeout(PROBE_TIMEOUT, probe).await else {
            // Timed out, most likely queued behind other writes: the last success stands for a
            // while (and the next check probes again).
            return match last.as_ref() {
                Some((at, Ok(()))) if at.elapsed() < BUSY_GRACE => Ok(()),
                _ => Err(StoreError::Unavailable(
                    "the database did not take a write in time".to_owned(),
                )),
            };
        };
        *last = Some((Instant::now(), outcome.clone()));
        outcome.map_err(StoreError::Unavailable)
    }
}

/// Whether a connection coming back to its pool may serve another request (sqlx's
/// `after_release`, on both backends): `ping` flushes the rollback a dropped transaction queued
/// (it waits for the connection's worker to run every command before it) and fails on a
/// connection the database ended; one still counted inside a transaction is closed rather than
/// handed to the next request, which gets a fresh connection instead of SQLite's "non-zero
/// transaction depth".
pub(super) fn reusable<C: Connection>(
    connection: &mut C,
    _: PoolConnectionMetadata,
) -> Pin<Box<dyn Future<Output = Result<bool, sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        connection.ping().await?;
        if connection.is_in_transaction() {
            tracing::warn!(
                "a database connection was left inside a failed transaction: replacing it"
            );
            return Ok(false);
        }
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn an_outcome_is_reused_until_it_is_stale() {
        let readiness = WriteReadiness::default();
        let n_probes = AtomicUsize::new(0);
        let failing = || async {
            n_probes.fetch_add(1, Ordering::SeqCst);
            Err("the disk is full".to_owned())
        };
        for _ in 0..3 {
            let outcome = readiness.check(failing()).await;
            assert!(
                matches!(outcome, Err(StoreError::Unavailable(ref reason)) if reason == "the disk is full"),
                "{outcome:?}"
            );
        }
        assert_eq!(
            n_probes.load(Ordering::SeqCst),
            1,
            "one probe for three checks"
        );

        // Once stale, the next check probes again and a success replaces the failure.
        if let Some((at, _)) = readiness.last.lock().await.as_mut() {
            *at -= RECHECK_AFTER;
        }
        assert!(readiness.check(async { Ok(()) }).await.is_ok());
        assert!(readiness.check(failing()).await.is_ok(), "reused");
        assert_eq!(n_probes.load(Ordering::SeqCst), 1);
    }
}
