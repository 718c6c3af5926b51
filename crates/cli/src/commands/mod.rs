//! The client commands, one module per group; the logic lives in `hypnos-client`.

pub mod account;
pub mod orgs;
pub mod server;
pub mod sync;
pub mod trust;
pub mod watch;
