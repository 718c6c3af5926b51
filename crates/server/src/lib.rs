//! The Hypnos sync server: HTTP and GraphQL over a storage layer (PostgreSQL or SQLite).
//!
//! Not built yet: the accounts issue brings the HTTP server and its storage. The crate exists so
//! that the workspace has its final shape and the `hypnos server` command has a home.

/// Whether this build contains a working server.
pub const IS_BUILT: bool = false;
