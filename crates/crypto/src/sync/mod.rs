//! Sync ids and blob encoding (insomnia-wire.md §4.1).
//!
//! * A blob's content is the document, minus `modified` and (for a Workspace) with `parentId`
//!   set to null, written by the app's deterministic stringify; its id is the SHA-1 hex of that
//!   content.
//! * A snapshot's id is the SHA-1 hex of `projectId ‖ parent ‖ blob ids sorted ascending`.
//! * On the wire a blob is gzip(content), AES-GCM encrypted with the project key, as pretty JSON.

mod branch;
mod ids;
mod stringify;

pub use branch::{MAX_BRANCH_NAME, is_branch_name};
pub use ids::{
    EMPTY_HASH, blob_content, blob_id, gunzip, gzip, is_object_id, open_blob, seal_blob,
    snapshot_id,
};
pub use stringify::{deterministic_stringify, js_number};
