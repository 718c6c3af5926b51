//! How a failed command reaches the user: one sentence on stderr, and the exit code.
//!
//! Commands return [`anyhow::Result`], adding context on the way up. A `hypnos-client` error
//! is told by its variant ([`explain`]: log in again, ask for access), never by its text, and a
//! merge conflict that stopped a push or pull is a [`Conflicted`] (exit 3), a migration asked
//! for what it does not do (`TransferError::Usage`) exits 2 like clap's usage errors, and
//! anything else exits 1.

use std::process::ExitCode;

use hypnos_client::{ClientError, api::GRAPHQL_CODE, sync::SyncError};
use hypnos_server::storage::transfer::TransferError;

/// A merge conflict stopped a push or a pull: exit 3. It holds the whole report.
#[derive(Debug)]
pub struct Conflicted(pub String);

impl std::fmt::Display for Conflicted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Conflicted {}

/// What to tell the user of a client error: the way out, where its variant says one.
fn explain(error: &ClientError) -> String {
    match error {
        ClientError::Unauthorized(_) => {
            "wrong e-mail or passphrase (or the session ended): run hypnos login --email …".into()
        }
        // The sync API's "invalid access"; a REST refusal says what was refused itself.
        ClientError::NoAccess(refusal) if refusal.code == GRAPHQL_CODE => {
            "the server refused: you are not a member of that organization, or hold no key to \
             that project (check the ids with hypnos org list; a teammate can give you the \
             key with hypnos share ORG)"
                .into()
        }
        other => other.to_string(),
    }
}

/// The sentence for a failed command: its contexts, outermost first, then the error, joined
/// by ": "; a client error said as [`explain`] says it.
pub fn describe(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|link| {
            if let Some(client) = link.downcast_ref::<ClientError>() {
                explain(client)
            } else if let Some(SyncError::Client(client)) = link.downcast_ref::<SyncError>() {
                explain(client)
            } else {
                link.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// The exit code of a failed command: 3 when a merge conflict stopped it, 2 for a migration
/// asked for what it does not do, else 1.
pub fn exit_code(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|link| link.is::<Conflicted>()) {
        ExitCode::from(3)
    } else if error.chain().any(|link| {
        link.downcast_ref::<TransferError>()
            .is_some_and(TransferError::is_usage)
    }) {
        // `hypnos admin migrate` asked for what it does not do: a usage error, as clap's.
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
