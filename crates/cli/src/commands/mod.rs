//! The client commands, one module per group; the logic lives in `hypnos-client`. And `migrate`,
//! the operator's move to PostgreSQL, whose logic lives in `hypnos-server` (the one crate that
//! touches a database).

pub mod account;
pub mod migrate;
pub mod orgs;
pub mod sync;
pub mod trust;
pub mod watch;
