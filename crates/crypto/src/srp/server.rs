//! The server half: answers A with B and checks the client's proof.

use crypto_bigint::U2048;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    SessionKey,
    bignum::{pow_public, pow_secret},
    group::{Element, K, LEN, g_pow, pad_element, parse_public, proofs, scrambler, uint256},
};
use crate::{CryptoError, random};

/// What the server keeps between sending B and receiving M1: the expected proofs and the session
/// key. It holds no exponent, so it can be stored (for a log-in finished by another process)
/// without keeping `b`.
#[derive(Clone, zeroize::ZeroizeOnDrop)]
pub struct ServerProof {
    m1: [u8; 32],
    m2: [u8; 32],
    key: [u8; 32],
}

impl std::fmt::Debug for ServerProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerProof(..)")
    }
}

/// The server's answer to A: B to send, and the proof state to keep.
#[derive(Debug)]
pub struct ServerHandshake {
    /// `B`, padded to 256 bytes (`srpB` on the wire, as hex).
    pub b_pub: [u8; LEN],
    /// What checking M1 needs.
    pub proof: ServerProof,
}

impl ServerHandshake {
    /// Starts the server side for a stored `verifier` and the client's `a_pub`, with a fresh
    /// 256-bit secret `b`. Refuses A ≡ 0 (mod N) and malformed lengths.
    pub fn start(verifier: &[u8], a_pub: &[u8]) -> Result<Self, CryptoError> {
        let b = Zeroizing::new(random::bytes::<32>()?);
        Self::start_with_secret(verifier, a_pub, &b)
    }

    /// As [`ServerHandshake::start`] with a given secret `b`: for test vectors only.
    pub fn start_with_secret(
        verifier: &[u8],
        a_pub: &[u8],
        b: &[u8; 32],
    ) -> Result<Self, CryptoError> {
        let a_element = parse_public(a_pub, "SRP A")?;
        let a_padded: [u8; LEN] = a_pub.try_into().expect("parse_public checked the length");
        if verifier.len() != LEN {
            return Err(CryptoError::Length {
                what: "SRP verifier",
                expected: LEN,
                actual: verifier.len(),
            });
        }
        let v = Element::new(&U2048::from_be_slice(verifier));
        let b = Zeroizing::new(uint256(b));

        // B = k·v + g^b
        let b_element = *K * v + g_pow(&b);
        let b_pub = *pad_element(&b_element);
        let u = scrambler(&a_padded, &b_pub)?;
        // S = (A · v^u)^b. u is public, so v^u may run in variable time; the power of b runs in
        // constant time. Both on AWS-LC (see `bignum`), the rest on crypto-bigint.
        let v_u = pow_public(&pad_element(&v), &u);
        let base = a_element * Element::new(&U2048::from_be_slice(v_u.as_ref()));
        let secret = pow_secret(&pad_element(&base), &b.to_be_bytes());
        let proofs = proofs(&a_padded, &b_pub, &secret);
        Ok(Self {
            b_pub,
            proof: ServerProof {
                m1: proofs.m1,
                m2: proofs.m2,
                key: *proofs.key,
            },
        })
    }
}

impl ServerProof {
    /// Checks the client's M1 in constant time. On success returns M2 (to send) and K (the
    /// session key); on failure, [`CryptoError::Srp`] and nothing else.
    pub fn verify(&self, client_m1: &[u8]) -> Result<([u8; 32], SessionKey), CryptoError> {
        if client_m1.len() == self.m1.len() && bool::from(self.m1.ct_eq(client_m1)) {
            Ok((self.m2, Zeroizing::new(self.key)))
        } else {
            Err(CryptoError::Srp("the client's proof M1 does not match"))
        }
    }

    /// M1 (what the client must send), M2 (the answer) and K (the session key), for a server
    /// that keeps the log-in state elsewhere between the two requests: Hypnos stores M1, M2 and
    /// SHA-256(K), never K, so a copy of that state yields no usable session.
    pub fn parts(&self) -> (&[u8; 32], &[u8; 32], &[u8; 32]) {
        (&self.m1, &self.m2, &self.key)
    }
}
