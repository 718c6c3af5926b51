//! The storage layer's story, told once against `Arc<dyn Store>` and run on both backends, by
//! area (one module each).
//!
//! Each story gets a fresh database ([`common::TestDb`]): a SQLite file in a temporary directory
//! or a throw-away PostgreSQL database. Time is whatever the story says it is: the store never
//! reads the clock. Fixtures ([`fixtures`]) are made through the store's own create methods;
//! plain SQL is left only where a story counts every row a fixture wrote or writes what the
//! store cannot.

#![allow(
    clippy::unwrap_used,
    reason = "tests: a failed unwrap is a failed test, with its location"
)]

#[path = "../common/mod.rs"]
mod common;
mod fixtures;

mod accounts;
mod operator;
mod organizations;
mod presence;
mod row_level_security;
mod sessions;
mod sync;
mod vaults;
