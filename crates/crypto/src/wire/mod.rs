//! The JSON bodies that cross HTTP, defined once for the server and the client
//! (insomnia-wire.md §2, §5.1 and extensions.md), and the sync API's GraphQL documents with
//! their answers and batch sizes ([`sync`], §4.3). Field names are the app's, byte for byte.
//!
//! These types only carry text: checking that a salt is 64 hex digits or a key a valid JWK is
//! the server's job, with the parsers of this crate.

pub mod auth;
pub mod collaborators;
pub mod events;
pub mod files;
pub mod invites;
pub mod orgs;
pub mod sync;
pub mod v3;
pub mod vault;

use serde::{Deserialize, Serialize};

/// Every error the server answers with: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// A stable, machine-readable code, e.g. `BAD_REQUEST`, `UNAUTHORIZED`, `EMAIL_TAKEN`.
    pub error: String,
    /// What went wrong and, where useful, what to do.
    pub message: String,
}
