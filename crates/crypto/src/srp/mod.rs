//! SRP-6a in the srp-js 0.2.1 flavour (insomnia-wire.md §2.3), both halves.
//!
//! | step | client | wire | server |
//! |---|---|---|---|
//! | sign-up | `v = PAD(g^x)`, `x = H(s ‖ H(I ‖ ":" ‖ P))` | `verifier` → | stores `s`, `v` |
//! | 1 | random `a`, `A = PAD(g^a)` | `srpA` → | |
//! | 2 | | ← `srpB` | random `b`, `B = PAD(k·v + g^b)` |
//! | 3 | `S = PAD((B − k·g^x)^(a + u·x))` | `srpM1` → | `S = PAD((A·v^u)^b)`, checks M1 |
//! | 4 | checks M2 | ← `srpM2` | |
//!
//! with the RFC 5054 2048-bit group, g = 2, H = SHA-256, `k = H(PAD(N) ‖ PAD(g))`,
//! `u = H(PAD(A) ‖ PAD(B))`, `K = H(PAD(S))`, **`M1 = H(PAD(A) ‖ PAD(B) ‖ PAD(S))`** (not RFC
//! 5054's) and `M2 = H(PAD(A) ‖ M1 ‖ K)`. Every value is padded to 256 bytes; the session id is
//! hex(K).
//!
//! The server sees A before it makes B, so [`server::ServerHandshake::start`] computes the whole
//! exchange at once and keeps only what checking M1 needs (M1, M2, K): the secret `b` never
//! outlives that call.
//! Secret exponents are 256 bits and zeroized when dropped. Powers of g use a fixed-base table
//! (constant time, crypto-bigint); the two powers of fresh bases (`v^u` with the public `u`, and
//! `(…)^b` or `(…)^(a + u·x)` in constant time) run on AWS-LC's BIGNUM, which is twice as fast
//! as crypto-bigint here (`srp/bignum.rs` says why that matters).

mod bignum;
pub mod client;
mod group;
pub mod server;

pub use client::{ClientHandshake, ClientProof, ClientSecret};
pub use group::{LEN, check_verifier, compute_verifier, compute_x};
pub use server::{ServerHandshake, ServerProof};

/// The session key `K = H(PAD(S))`; its hex is the session id.
pub type SessionKey = zeroize::Zeroizing<[u8; 32]>;
