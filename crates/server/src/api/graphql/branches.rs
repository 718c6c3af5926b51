//! Branches: listing and reading a project's branches, and removing one.

use async_graphql::{Context, Error, ID, Object, Result, SimpleObject};
use hypnos_crypto::sync::is_branch_name;

use super::{
    access::{ProjectAccess, project_for},
    request::{budget, internal, store_permit},
};
use crate::{
    api::rfc3339,
    storage::{Branch, StoreError},
};

/// A branch name some version of the app could have made (with `/` from the newest apps on), or
/// the refusal saying what is allowed. Reads are held to it too: no stored branch has another
/// name, and it bounds what a request may ask for.
pub(super) fn check_branch_name(name: &str) -> Result<()> {
    if is_branch_name(name) {
        return Ok(());
    }
    Err(Error::new(
        "branch names are 3 to 100 letters, digits, -, _, . or /, starting with a letter or \
         digit; with a /, no //, .., trailing / or ., part starting with . or ending in .lock",
    ))
}

#[derive(SimpleObject)]
#[graphql(name = "Branch")]
struct BranchOut {
    created: String,
    modified: String,
    name: String,
    snapshots: Vec<ID>,
}

fn branch_out(branch: Branch) -> BranchOut {
    BranchOut {
        created: rfc3339(branch.created_at),
        modified: rfc3339(branch.modified_at),
        name: branch.name,
        snapshots: branch.snapshots.into_iter().map(ID).collect(),
    }
}

/// The branch queries.
#[derive(Default)]
pub(super) struct BranchesQuery;

#[Object]
impl BranchesQuery {
    /// The project's branches.
    async fn branches(&self, ctx: &Context<'_>, project: ID) -> Result<Vec<BranchOut>> {
        let _permit = store_permit(ctx).await?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let names = state
            .store
            .branch_names(&project.organization_id, &project.id)
            .await
            .map_err(internal)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            if let Some(branch) = state
                .store
                .branch(&project.organization_id, &project.id, &name)
                .await
                .map_err(internal)?
            {
                budget(ctx)?.charge(40 * branch.snapshots.len() as u64)?;
                out.push(branch_out(branch));
            }
        }
        Ok(out)
    }

    /// One branch, or null.
    async fn branch(
        &self,
        ctx: &Context<'_>,
        project: ID,
        name: String,
    ) -> Result<Option<BranchOut>> {
        let _permit = store_permit(ctx).await?;
        check_branch_name(&name)?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let found = state
            .store
            .branch(&project.organization_id, &project.id, &name)
            .await
            .map_err(internal)?;
        if let Some(branch) = &found {
            budget(ctx)?.charge(40 * branch.snapshots.len() as u64)?;
        }
        Ok(found.map(branch_out))
    }
}

/// The branch mutations.
#[derive(Default)]
pub(super) struct BranchesMutation;

#[Object]
impl BranchesMutation {
    /// Deletes a branch (never `master`).
    #[graphql(name = "branchRemove")]
    async fn branch_remove(&self, ctx: &Context<'_>, project: ID, name: String) -> Result<bool> {
        let _permit = store_permit(ctx).await?;
        check_branch_name(&name)?;
        if name.eq_ignore_ascii_case("master") {
            return Err(Error::new("the master branch cannot be removed"));
        }
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        match state
            .store
            .remove_branch(&project.organization_id, &project.id, &name)
            .await
        {
            Ok(()) => {
                state.events.branch_deleted(&project, &name);
                Ok(true)
            }
            Err(StoreError::NotFound) => Err(Error::new("no branch with this name")),
            Err(other) => Err(internal(other)),
        }
    }
}
