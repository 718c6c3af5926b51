//! The commands, one module per group; the client's logic lives in `hypnos-client`, the
//! server's and the operator's in `hypnos-server`.

pub mod account;
pub mod admin;
pub mod orgs;
pub mod server;
pub mod sync;
pub mod trust;
pub mod watch;
