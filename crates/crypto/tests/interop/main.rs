//! Cross-implementation tests: this crate against the npm packages the Insomnia app itself uses
//! (node-forge, hkdf, srp-js, tweetnacl, blakejs, and Node's WebCrypto), in both directions, with
//! fresh random inputs on every run.
//!
//! The JavaScript side is `interop/harness.js` at the workspace root, a long-running Node process
//! that answers one JSON request per line (see its header). It needs its packages installed:
//! `npm ci --prefix interop` from the workspace root. Without them these tests fail (they are never
//! skipped), and so they do without `node` on the PATH.
//!
//! One finding is built into the RSA test: Node's WebCrypto exports JWK members in its own order
//! (`key_ops, ext, kty, n, e, alg`), not in the name order Chromium's WebCrypto (the app's
//! runtime, and this crate) uses. The byte-for-byte comparison is therefore made against
//! `JSON.stringify` of the WebCrypto JWK with its members in name order; every member name and
//! value is still compared byte for byte.
//!
//! One module per topic: [`aes`], [`rsa`], [`kdf`] (deriveKey and the input clean-up), [`srp`],
//! [`sealed_box`], [`sync`] (deterministicStringify and blob ids); the random inputs every run
//! makes are in [`inputs`], the assertion messages' helpers in [`messages`].

#[path = "../support/harness.rs"]
mod harness;

mod aes;
mod inputs;
mod kdf;
mod messages;
mod rsa;
mod sealed_box;
mod srp;
mod sync;
