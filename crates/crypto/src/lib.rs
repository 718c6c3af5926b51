//! Insomnia-compatible cryptography for Hypnos.
//!
//! Every function here is pure (no I/O, no clock, randomness only from the operating system's
//! CSPRNG) and byte-compatible with what the Insomnia app does, so that keys, ciphertexts, SRP
//! values and sync ids made by one side are accepted by the other. The wire facts live in
//! `shared/protocol/insomnia-wire.md`; each module names the section it implements.
//!
//! | module | what it holds |
//! |---|---|
//! | [`encoding`] | lowercase hex, JavaScript's `encodeURIComponent` / `decodeURIComponent` |
//! | [`aes`] | the AES-256-GCM message `{iv, t, ad, d}` and its key |
//! | [`jwk`] | JWKs for A256GCM and RSA-OAEP-256 keys, written exactly as the app writes them |
//! | [`rsa`] | RSA-OAEP-256 key pairs, encryption of percent-encoded strings |
//! | [`kdf`] | `deriveKey` (HKDF-SHA256 then PBKDF2-SHA256) and the input clean-up |
//! | [`srp`] | SRP-6a in the srp-js flavour, client and server halves |
//! | [`sealed_box`] | libsodium's `crypto_box_seal`, for the browser log-in hand-off |
//! | [`sync`] | deterministic stringify, blob and snapshot ids, blob gzip |
//! | [`random`] | salts and ids from the system CSPRNG |
//! | [`wire`] | the JSON bodies that cross HTTP, shared by server and client |

pub mod aes;
pub mod encoding;
pub mod error;
pub mod jwk;
pub mod kdf;
pub mod random;
pub mod rsa;
pub mod sealed_box;
pub mod srp;
pub mod sync;
pub mod wire;

pub use error::CryptoError;
