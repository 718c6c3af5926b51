//! The commands, one module per group; the client's logic lives in `hypnos-client`, the
//! server's and the operator's (`admin`, `migrate`, `server`) in `hypnos-server` (the one crate
//! that touches a database).

pub mod account;
pub mod admin;
pub mod migrate;
pub mod names;
pub mod orgs;
pub mod server;
pub mod sync;
pub mod trust;
pub mod watch;
