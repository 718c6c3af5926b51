//! The Hypnos client library: what a program needs to be a client of a Hypnos server (or of the
//! app's own cloud, wire for wire): sign-up with keys made here, the SRP log-in that unlocks the
//! account key, organizations and key sharing, and sync of the app's export files. Every key is
//! made and used here; the server sees ciphertext only.
//!
//! Modules: [`api`] (HTTP, and the server's refusals sorted by what the caller can do),
//! [`account`] (sign-up, log-in, the session), [`orgs`] (organizations, members, team projects,
//! invitations with key sharing), [`events`] (an organization's event stream, typed),
//! [`history`] (a synced project's branches and log), [`sync`]
//! (push, pull and status of the app's export files, merging three ways).

pub mod account;
pub mod api;
pub mod events;
pub mod history;
pub mod orgs;
pub mod sync;

pub use account::{
    NewAccount, Session, change_passphrase, delete_account, log_in, log_out, reset, sign_up,
    sign_up_with_invite, whoami,
};
pub use api::{Api, ClientError, Refusal, Unavailable};
pub use hypnos_crypto as crypto;
