//! The client half: makes A, answers B with M1 and checks M2.

use crypto_bigint::{U256, U512, U576, U2048};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    SessionKey,
    bignum::pow_secret,
    group::{Element, K, LEN, g_pow, pad_element, parse_public, proofs, scrambler, uint256},
};
use crate::{CryptoError, random};

/// An account's long-term SRP secret on the client: `x = H(s ‖ H(I ‖ ":" ‖ P))` and `k·g^x`, the
/// part of every log-in that depends on nothing else. Making it costs a fixed-base
/// exponentiation; a client that logs in more than once with the same passphrase (a long-running
/// sync client, the load tool) makes it once. Zeroized on drop.
#[derive(Clone)]
pub struct ClientSecret {
    x: Zeroizing<U256>,
    k_g_x: Zeroizing<[u8; LEN]>,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

impl ClientSecret {
    /// The secret for `identity` (the sanitized e-mail, or the account id for the vault) with
    /// `password` (the raw SRP password bytes) and `salt` (`saltAuth`, decoded).
    pub fn new(salt: &[u8], identity: &[u8], password: &[u8]) -> Self {
        let x = Zeroizing::new(uint256(&super::compute_x(salt, identity, password)));
        let k_g_x = pad_element(&(*K * g_pow(&x)));
        Self { x, k_g_x }
    }
}

/// The client between sending A and receiving B. Holds the secrets `a` and `x`, zeroized on drop.
pub struct ClientHandshake {
    a: Zeroizing<U256>,
    secret: ClientSecret,
    a_pub: [u8; LEN],
}

impl std::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientHandshake(..)")
    }
}

/// The client after processing B: M1 to send and what the server's M2 must be.
#[derive(zeroize::ZeroizeOnDrop)]
pub struct ClientProof {
    m1: [u8; 32],
    m2: [u8; 32],
    key: [u8; 32],
}

impl std::fmt::Debug for ClientProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientProof(..)")
    }
}

impl ClientHandshake {
    /// Starts a log-in for `identity` (the sanitized e-mail, or the account id for the vault) with
    /// `password` (the raw SRP password bytes) and `salt` (`saltAuth`, decoded), with a fresh
    /// 256-bit secret `a`, as srp-js's `genKey` makes.
    pub fn start(salt: &[u8], identity: &[u8], password: &[u8]) -> Result<Self, CryptoError> {
        Self::begin(ClientSecret::new(salt, identity, password))
    }

    /// Starts a log-in with an account secret made earlier, with a fresh 256-bit `a`.
    pub fn begin(secret: ClientSecret) -> Result<Self, CryptoError> {
        let a = Zeroizing::new(random::bytes::<32>()?);
        Ok(Self::begin_with_a(secret, &a))
    }

    /// As [`ClientHandshake::start`] with a given secret `a`: for test vectors only.
    pub fn start_with_secret(salt: &[u8], identity: &[u8], password: &[u8], a: &[u8; 32]) -> Self {
        Self::begin_with_a(ClientSecret::new(salt, identity, password), a)
    }

    fn begin_with_a(secret: ClientSecret, a: &[u8; 32]) -> Self {
        let a = Zeroizing::new(uint256(a));
        let a_pub = *pad_element(&g_pow(&a));
        Self { a, secret, a_pub }
    }

    /// `A`, padded to 256 bytes (`srpA` on the wire, as hex).
    pub fn a_pub(&self) -> &[u8; LEN] {
        &self.a_pub
    }

    /// Processes the server's B (refusing B ≡ 0 mod N) and computes M1.
    pub fn process(self, b_pub: &[u8]) -> Result<ClientProof, CryptoError> {
        let b_element = parse_public(b_pub, "SRP B")?;
        let b_padded: [u8; LEN] = b_pub.try_into().expect("parse_public checked the length");
        let u = scrambler(&self.a_pub, &b_padded)?;
        // The exponent a + u·x is at most 513 bits: it needs no reduction.
        let ux: Zeroizing<U512> = Zeroizing::new(uint256(&u).concatenating_mul(&*self.secret.x));
        let exponent: Zeroizing<U576> = Zeroizing::new(
            ux.resize::<{ U576::LIMBS }>()
                .wrapping_add(&self.a.resize()),
        );
        let k_g_x = Element::new(&U2048::from_be_slice(&*self.secret.k_g_x));
        // S = (B − k·g^x)^(a + u·x), in constant time on AWS-LC (see `bignum`).
        let base = pad_element(&(b_element - k_g_x));
        let secret = pow_secret(&base, &exponent.to_be_bytes());
        let proofs = proofs(&self.a_pub, &b_padded, &secret);
        Ok(ClientProof {
            m1: proofs.m1,
            m2: proofs.m2,
            key: *proofs.key,
        })
    }
}

impl ClientProof {
    /// M1, to send (`srpM1`).
    pub fn m1(&self) -> &[u8; 32] {
        &self.m1
    }

    /// Checks the server's M2 in constant time and returns K (the session id is its hex).
    pub fn verify_server(&self, server_m2: &[u8]) -> Result<SessionKey, CryptoError> {
        if server_m2.len() == self.m2.len() && bool::from(self.m2.ct_eq(server_m2)) {
            Ok(Zeroizing::new(self.key))
        } else {
            Err(CryptoError::Srp("the server's proof M2 does not match"))
        }
    }
}
