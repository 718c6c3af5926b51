//! What every resolver uses of its request: the store permit and the answer budget of
//! [`limits`](super::limits), the error a failed read answers, and the bound on batches.

use std::any::Any;

use async_graphql::{Context, Error, ErrorExtensions, ID, Result};

use super::limits::{AnswerBudget, StorePermits};
use crate::{metrics::DatabaseFailure, storage::StoreError};

/// The most ids one query may name, and snapshots or blobs one mutation may carry: well above
/// the app's batches (50 blobs, 20 snapshots, 200 blobs per upload).
const MAX_BATCH: usize = 1_000;

/// Holds one of this request's [`super::limits::STORE_PERMITS`] while a top-level resolver uses
/// the store: async-graphql resolves sibling query fields concurrently, and each would otherwise
/// hold a connection of the pool at the same time.
pub(super) async fn store_permit<'a>(
    ctx: &Context<'a>,
) -> Result<tokio::sync::SemaphorePermit<'a>> {
    ctx.data::<StorePermits>()?
        .0
        .acquire()
        .await
        .map_err(|_| Error::new("the request was cancelled"))
}

/// A failed read or write: logged here, answered without its cause.
pub(super) fn internal(error: StoreError) -> Error {
    tracing::warn!(%error, "sync storage failed");
    let failure = DatabaseFailure::of(&error);
    let code = match failure {
        Some(DatabaseFailure::Unavailable) => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    let mut answer = server_failure(
        "the server could not complete this request; try again",
        code,
    );
    // Carried to the transport, which marks the HTTP response for the metrics' count.
    answer.source = failure
        .map(|failure| std::sync::Arc::new(failure) as std::sync::Arc<dyn Any + Send + Sync>);
    answer
}

/// A failure of the server's, not of the request: `extensions.code` is the REST API's code for
/// it (`INTERNAL`, or `UNAVAILABLE` for a database out of reach), so that a client can tell it
/// from a refusal (which carries no code; the app reads refusals by their sentences) and retry.
pub(super) fn server_failure(message: &str, code: &'static str) -> Error {
    Error::new(message).extend_with(|_, extensions| extensions.set("code", code))
}

/// This request's [`AnswerBudget`].
pub(super) fn budget<'a>(ctx: &Context<'a>) -> Result<&'a AnswerBudget> {
    ctx.data::<AnswerBudget>()
}

/// Refuses a batch of more than [`MAX_BATCH`] items.
pub(super) fn check_batch(what: &str, len: usize) -> Result<()> {
    if len > MAX_BATCH {
        return Err(Error::new(format!("{what}: at most {MAX_BATCH} at once")));
    }
    Ok(())
}

pub(super) fn ids_of(ids: Vec<ID>) -> Vec<String> {
    ids.into_iter().map(|id| id.0).collect()
}
