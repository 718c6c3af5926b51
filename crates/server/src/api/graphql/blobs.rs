//! Blobs: which of a push's blobs a project lacks, reading them by id, and storing them.

use async_graphql::{Context, Error, ID, InputObject, Object, Result, SimpleObject};
use hypnos_crypto::{aes::AesMessage, sync::is_object_id};

use super::{
    access::{ProjectAccess, project_for},
    request::{budget, check_batch, ids_of, internal, store_permit},
};
use crate::storage::Blob;

/// `blobsMissing` is asked about every blob of a push at once (the app does not batch it).
const MAX_MISSING_IDS: usize = 100_000;

#[derive(SimpleObject)]
#[graphql(name = "BlobsMissing")]
struct BlobsMissingOut {
    missing: Vec<ID>,
}

#[derive(SimpleObject)]
#[graphql(name = "BlobsCreate")]
struct BlobsCreateOut {
    count: u64,
}

#[derive(SimpleObject)]
#[graphql(name = "Blob")]
struct BlobOut {
    id: ID,
    content: String,
}

/// A blob to upload.
#[derive(InputObject)]
#[graphql(name = "BlobInput")]
struct BlobInput {
    id: ID,
    content: String,
}

/// The blob queries.
#[derive(Default)]
pub(super) struct BlobsQuery;

#[Object]
impl BlobsQuery {
    /// Which of these blobs the project lacks, in the order asked.
    #[graphql(name = "blobsMissing")]
    async fn blobs_missing(
        &self,
        ctx: &Context<'_>,
        project: ID,
        ids: Vec<ID>,
    ) -> Result<BlobsMissingOut> {
        let _permit = store_permit(ctx).await?;
        if ids.len() > MAX_MISSING_IDS {
            return Err(Error::new(format!(
                "ids: at most {MAX_MISSING_IDS} at once"
            )));
        }
        // Blob ids only: the answer echoes the missing ones, so it is at most 40 bytes an id.
        if !ids.iter().all(|id| is_object_id(id)) {
            return Err(Error::new("a blob id must be 40 lowercase hex digits"));
        }
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let missing = state
            .store
            .blobs_missing(&project.organization_id, &project.id, &ids_of(ids))
            .await
            .map_err(internal)?;
        budget(ctx)?.charge(40 * missing.len() as u64)?;
        Ok(BlobsMissingOut {
            missing: missing.into_iter().map(ID).collect(),
        })
    }

    /// Blobs by id, in the order asked (unknown ids left out).
    async fn blobs(&self, ctx: &Context<'_>, ids: Vec<ID>, project: ID) -> Result<Vec<BlobOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("ids", ids.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let ids = ids_of(ids);
        // The stored sizes first, in the same transaction: an answer that would pass the
        // budget is refused before a byte of content is loaded.
        let budget = budget(ctx)?;
        let blobs = state
            .store
            .blobs_within(
                &project.organization_id,
                &project.id,
                &ids,
                budget.remaining(),
            )
            .await
            .map_err(internal)?;
        let produced: usize = blobs.as_ref().map_or(usize::MAX, |blobs| {
            blobs.iter().map(|blob| blob.content.len()).sum()
        });
        budget.charge(produced as u64)?;
        let blobs = blobs.unwrap_or_default();
        Ok(blobs
            .into_iter()
            .map(|blob| BlobOut {
                id: ID(blob.id),
                content: blob.content,
            })
            .collect())
    }
}

/// The blob mutations.
#[derive(Default)]
pub(super) struct BlobsMutation;

#[Object]
impl BlobsMutation {
    /// Stores blobs; one the project has already is kept as it is.
    #[graphql(name = "blobsCreate")]
    async fn blobs_create(
        &self,
        ctx: &Context<'_>,
        project: ID,
        blobs: Vec<BlobInput>,
    ) -> Result<BlobsCreateOut> {
        let _permit = store_permit(ctx).await?;
        check_batch("blobs", blobs.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let limit = state.config.max_blob_bytes;
        let mut checked = Vec::with_capacity(blobs.len());
        for blob in blobs {
            if !is_object_id(&blob.id) {
                return Err(Error::new("a blob id must be 40 lowercase hex digits"));
            }
            if blob.content.len() > limit {
                return Err(Error::new(format!(
                    "blob {} is larger than {limit} bytes",
                    blob.id.0
                )));
            }
            if AesMessage::from_json(&blob.content).is_err() {
                return Err(Error::new(format!(
                    "blob {} is not an AES-GCM message",
                    blob.id.0
                )));
            }
            checked.push(Blob {
                id: blob.id.0,
                content: blob.content,
            });
        }
        let count = checked.len() as u64;
        let bytes = checked.iter().map(|blob| blob.content.len() as u64).sum();
        state
            .store
            .create_blobs(&project.organization_id, &project.id, checked)
            .await
            .map_err(internal)?;
        state.metrics.blobs_stored(count, bytes);
        Ok(BlobsCreateOut { count })
    }
}
