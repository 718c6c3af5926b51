//! Snapshots: reading them by id with their authors, and pushing them onto a branch.
//!
//! A failure is never answered as a plausible empty value: a stored snapshot that does not
//! parse, or a read that fails, fails the field.

use std::collections::{BTreeSet, HashMap};

use async_graphql::{Context, Error, ID, InputObject, Object, Result, SimpleObject};
use hypnos_crypto::sync::{is_object_id, snapshot_id};

use super::{
    access::{ProjectAccess, project_for},
    branches::check_branch_name,
    request::{budget, check_batch, ids_of, internal, store_permit},
};
use crate::{
    state::{AppState, now_ms},
    storage::{Conflict, OrgId, Snapshot, StoreError},
};

/// Longest `created` of a pushed snapshot: the app sends an ISO date (24 characters).
const MAX_CREATED: usize = 64;
/// Longest snapshot message (`name`), in bytes.
const MAX_SNAPSHOT_NAME: usize = 8 * 1024;
/// Longest snapshot description, in bytes.
const MAX_DESCRIPTION: usize = 64 * 1024;
/// Longest document id (`key`) of a state entry, in bytes (the app's are about 36).
const MAX_ENTRY_KEY: usize = 256;
/// Longest document name of a state entry, in bytes.
const MAX_ENTRY_NAME: usize = 16 * 1024;

#[derive(SimpleObject)]
#[graphql(name = "Snapshot")]
struct SnapshotOut {
    id: ID,
    parent: ID,
    created: String,
    author: ID,
    #[graphql(name = "authorAccount")]
    author_account: AuthorOut,
    name: String,
    description: String,
    state: Vec<StateEntryOut>,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "AuthorAccount")]
struct AuthorOut {
    #[graphql(name = "firstName")]
    first_name: String,
    #[graphql(name = "lastName")]
    last_name: String,
    email: String,
}

#[derive(SimpleObject, serde::Serialize, serde::Deserialize)]
#[graphql(name = "SnapshotStateEntry")]
struct StateEntryOut {
    blob: ID,
    key: ID,
    name: String,
}

/// What snapshots weigh in an answer: their states and texts.
fn answer_bytes(snapshots: &[Snapshot]) -> u64 {
    snapshots
        .iter()
        .map(|snapshot| {
            (snapshot.state.len()
                + snapshot.name.len()
                + snapshot.description.len()
                + snapshot.created.len()) as u64
        })
        .sum()
}

fn author_out(first_name: String, last_name: String, email: String) -> AuthorOut {
    AuthorOut {
        first_name,
        last_name,
        email,
    }
}

/// The details of the snapshots' authors who are members of the project's organization now,
/// in one read: a former member, or any other account id a stored snapshot names, shows
/// nothing. A failed read is an error, not blank authors.
async fn member_authors(
    state: &AppState,
    organization_id: &OrgId,
    snapshots: &[Snapshot],
) -> Result<HashMap<String, AuthorOut>> {
    let author_ids: Vec<String> = snapshots
        .iter()
        .map(|snapshot| snapshot.author.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let authors: HashMap<String, AuthorOut> = state
        .store
        .member_authors(organization_id, &author_ids)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|author| {
            (
                author.account_id,
                author_out(author.first_name, author.last_name, author.email),
            )
        })
        .collect();
    Ok(authors)
}

/// Snapshots as the app reads them, with `authors` from [`member_authors`] (blank for anyone
/// else). A stored state that does not parse is an error: answered as empty, a pull would
/// delete every document.
fn snapshots_out(
    snapshots: Vec<Snapshot>,
    authors: &HashMap<String, AuthorOut>,
) -> Result<Vec<SnapshotOut>> {
    snapshots
        .into_iter()
        .map(|snapshot| {
            let entries: Vec<StateEntryOut> =
                serde_json::from_str(&snapshot.state).map_err(|error| {
                    tracing::error!(snapshot = %snapshot.id, %error, "a stored snapshot state does not parse");
                    Error::new(format!(
                        "snapshot {} is damaged on the server (its state does not parse); \
                         nothing was changed, ask the server's operator to restore it",
                        snapshot.id
                    ))
                })?;
            let author_account = authors
                .get(&snapshot.author)
                .cloned()
                .unwrap_or_else(|| author_out(String::new(), String::new(), String::new()));
            Ok(SnapshotOut {
                id: ID(snapshot.id),
                parent: ID(snapshot.parent),
                created: snapshot.created,
                author: ID(snapshot.author),
                author_account,
                name: snapshot.name,
                description: snapshot.description,
                state: entries,
            })
        })
        .collect()
}

/// A snapshot to push.
#[derive(InputObject)]
#[graphql(name = "SnapshotInput")]
struct SnapshotInput {
    created: String,
    name: String,
    description: Option<String>,
    parent: ID,
    id: ID,
    /// Not trusted: the author of a pushed snapshot is the pusher (see `check_snapshot`).
    author: Option<ID>,
    state: Vec<SnapshotStateEntryInput>,
}

/// One document of a snapshot.
#[derive(InputObject)]
#[graphql(name = "SnapshotStateEntryInput")]
struct SnapshotStateEntryInput {
    blob: ID,
    key: ID,
    name: String,
}

/// The snapshot queries.
#[derive(Default)]
pub(super) struct SnapshotsQuery;

#[Object]
impl SnapshotsQuery {
    /// Snapshots by id, in the order asked (unknown ids left out).
    async fn snapshots(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        project: ID,
    ) -> Result<Vec<SnapshotOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("ids", ids.len())?;
        let ProjectAccess { state, project, .. } = project_for(ctx, &project).await?;
        let ids = ids_of(ids);
        // The states' size first, so that an answer too large is refused before it is loaded;
        // the reservation is then replaced by the exact size.
        let budget = budget(ctx)?;
        let reserved = state
            .store
            .snapshots_size(&project.organization_id, &project.id, &ids)
            .await
            .map_err(internal)?;
        budget.charge(reserved)?;
        let snapshots = state
            .store
            .snapshots(&project.organization_id, &project.id, &ids)
            .await
            .map_err(internal)?;
        budget.refund(reserved);
        budget.charge(answer_bytes(&snapshots))?;
        let authors = member_authors(state, &project.organization_id, &snapshots).await?;
        snapshots_out(snapshots, &authors)
    }
}

/// The snapshot mutations.
#[derive(Default)]
pub(super) struct SnapshotsMutation;

#[Object]
impl SnapshotsMutation {
    /// Appends snapshots to a branch: all of them or none.
    #[graphql(name = "snapshotsCreate")]
    async fn snapshots_create(
        &self,
        ctx: &Context<'_>,
        project: ID,
        snapshots: Vec<SnapshotInput>,
        branch: String,
    ) -> Result<Vec<SnapshotOut>> {
        let _permit = store_permit(ctx).await?;
        check_batch("snapshots", snapshots.len())?;
        check_branch_name(&branch)?;
        let ProjectAccess {
            state,
            caller,
            project,
            ..
        } = project_for(ctx, &project).await?;
        let mut checked = Vec::with_capacity(snapshots.len());
        let mut blob_ids = BTreeSet::new();
        let mut previous: Option<String> = None;
        for input in snapshots {
            let snapshot = check_snapshot(&project.id, &caller.account.id, input)?;
            if let Some(previous) = &previous
                && snapshot.snapshot.parent != *previous
            {
                return Err(Error::new(
                    "each snapshot's parent must be the snapshot before it in the batch",
                ));
            }
            blob_ids.extend(snapshot.blobs.iter().cloned());
            previous = Some(snapshot.snapshot.id.clone());
            checked.push(snapshot.snapshot);
        }
        // The answer repeats the snapshots: refused before anything is written if too large.
        budget(ctx)?.charge(answer_bytes(&checked))?;
        match state
            .store
            .push_snapshots(
                &project.organization_id,
                &project.id,
                &branch,
                checked.clone(),
                blob_ids.into_iter().collect(),
                now_ms(),
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::NotFastForward)) => {
                return Err(Error::new(
                    "not a fast-forward: the branch moved on; pull, then push again",
                ));
            }
            Err(StoreError::Conflict(Conflict::MissingBlobs)) => {
                return Err(Error::new(
                    "a snapshot names a blob the project does not have: upload it first",
                ));
            }
            Err(other) => return Err(internal(other)),
        }
        state.metrics.pushed();
        state.events.file_changed(&project, &branch);
        // The pusher is the author of every snapshot pushed (and a member: `project_for`).
        let me = &caller.account;
        let authors = HashMap::from([(
            me.id.to_string(),
            author_out(
                me.first_name.clone(),
                me.last_name.clone(),
                me.email.clone(),
            ),
        )]);
        snapshots_out(checked, &authors)
    }
}

/// A pushed snapshot, checked, with the blob ids its state names.
struct CheckedSnapshot {
    snapshot: Snapshot,
    blobs: Vec<String>,
}

/// Checks a pushed snapshot's shape and sizes and recomputes its id from its parent and blobs.
/// Its author is the pusher, whatever `author` says: the app sends its own account id, or,
/// pushing a teammate's snapshot to a new branch, the teammate's — a snapshot the project has
/// already keeps the author it was first pushed with.
fn check_snapshot(project_id: &str, caller: &str, input: SnapshotInput) -> Result<CheckedSnapshot> {
    if !is_object_id(&input.id) || !is_object_id(&input.parent) {
        return Err(Error::new(
            "a snapshot's id and parent are 40 lowercase hex digits",
        ));
    }
    let description = input.description.unwrap_or_default();
    if input.created.len() > MAX_CREATED
        || input.name.len() > MAX_SNAPSHOT_NAME
        || description.len() > MAX_DESCRIPTION
    {
        return Err(Error::new(format!(
            "a snapshot's created is at most {MAX_CREATED} bytes, its name {MAX_SNAPSHOT_NAME} \
             and its description {MAX_DESCRIPTION}"
        )));
    }
    let mut blobs = Vec::with_capacity(input.state.len());
    for entry in &input.state {
        if !is_object_id(&entry.blob) || entry.key.is_empty() {
            return Err(Error::new(
                "each state entry needs a key and a blob id of 40 lowercase hex digits",
            ));
        }
        if entry.key.len() > MAX_ENTRY_KEY || entry.name.len() > MAX_ENTRY_NAME {
            return Err(Error::new(format!(
                "a state entry's key is at most {MAX_ENTRY_KEY} bytes and its name \
                 {MAX_ENTRY_NAME}"
            )));
        }
        blobs.push(entry.blob.0.as_str());
    }
    let expected = snapshot_id(project_id, &input.parent, &blobs);
    if expected != input.id.0 {
        return Err(Error::new(format!(
            "snapshot {} does not match its content (expected {expected})",
            input.id.0
        )));
    }
    let blobs: Vec<String> = blobs.into_iter().map(str::to_owned).collect();
    let state: Vec<StateEntryOut> = input
        .state
        .into_iter()
        .map(|entry| StateEntryOut {
            blob: entry.blob,
            key: entry.key,
            name: entry.name,
        })
        .collect();
    let state = serde_json::to_string(&state).map_err(|error| {
        tracing::error!(%error, "a snapshot state could not be serialized");
        super::request::server_failure(
            "the server could not store this snapshot's state",
            "INTERNAL",
        )
    })?;
    Ok(CheckedSnapshot {
        snapshot: Snapshot {
            id: input.id.0,
            parent: input.parent.0,
            created: input.created,
            author: caller.to_owned(),
            name: input.name,
            description,
            state,
        },
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypnos_crypto::sync::EMPTY_HASH;

    #[test]
    fn a_snapshot_must_match_its_content() {
        let blob = "a".repeat(40);
        let id = snapshot_id("prj_1", EMPTY_HASH, &[blob.as_str()]);
        let input = |id: &str| SnapshotInput {
            created: "2026-01-01T00:00:00.000Z".into(),
            name: "m".into(),
            description: None,
            parent: ID(EMPTY_HASH.into()),
            id: ID(id.into()),
            author: None,
            state: vec![SnapshotStateEntryInput {
                blob: ID(blob.clone()),
                key: ID("req_1".into()),
                name: "R".into(),
            }],
        };
        let ok = check_snapshot("prj_1", "acct_me", input(&id))
            .expect("the snapshot matches its content");
        assert_eq!(
            ok.snapshot.author, "acct_me",
            "an empty author is the pusher"
        );
        let mut named = input(&id);
        named.author = Some(ID("acct_someone_else".into()));
        let named = check_snapshot("prj_1", "acct_me", named).expect("it matches");
        assert_eq!(
            named.snapshot.author, "acct_me",
            "a named author is the pusher too"
        );
        let mut long = input(&id);
        long.created = "x".repeat(MAX_CREATED + 1);
        assert!(check_snapshot("prj_1", "acct_me", long).is_err());
        assert!(check_snapshot("prj_2", "acct_me", input(&id)).is_err());
        assert!(check_snapshot("prj_1", "acct_me", input(&"b".repeat(40))).is_err());
    }
}
