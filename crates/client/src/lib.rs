//! The Hypnos client library: sign-up, SRP log-in, sharing and sync against a Hypnos server.
//!
//! Not built yet: it arrives with the client issue, on top of `hypnos-crypto`.

pub use hypnos_crypto as crypto;
