//! The group (RFC 5054 Appendix A, 2048 bits, g = 2), padding, hashing and the shared formulas.

use std::sync::LazyLock;

use aws_lc_rs::digest;
use crypto_bigint::{U256, U2048, const_monty_params, modular::ConstMontyForm};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Length of every padded SRP value (N's length), in bytes.
pub const LEN: usize = 256;

/// N, the RFC 5054 2048-bit prime.
const MODULUS_HEX: &str = "AC6BDB41324A9A9BF166DE5E1389582FAF72B6651987EE07FC3192943DB56050A37329CBB4A099ED8193E0757767A13DD52312AB4B03310DCD7F48A9DA04FD50E8083969EDB767B0CF6095179A163AB3661A05FBD5FAAAE82918A9962F0B93B855F97993EC975EEAA80D740ADBF4FF747359D041D5C33EA71D281E446B14773BCA97B43A23FB801676BD207A436C6481F1D2B9078717461A5B9D32E688F87748544523B524B0D57D5EA77A2775D2ECFA032CFBDBF52FB3786160279004E57AE6AF874E7303CE53299CCC041C7BC308D82A5698F3A8D0C38271AE35F8E9DBFBB694B5C803D89F7AE435DE236D525F54759B65E372FCD68EF20FA7111F9E4AFF73";

const_monty_params!(
    Modulus,
    U2048,
    MODULUS_HEX,
    "The RFC 5054 2048-bit SRP prime"
);

/// An element of Z/NZ in Montgomery form.
pub(crate) type Element = ConstMontyForm<Modulus, { U2048::LIMBS }>;

/// N as an integer.
pub(crate) fn modulus() -> U2048 {
    U2048::from_be_hex(MODULUS_HEX)
}

/// N as 256 big-endian bytes.
pub(crate) fn modulus_bytes() -> [u8; LEN] {
    pad(&modulus())
}

/// The generator g = 2.
pub(crate) fn generator() -> Element {
    Element::new(&U2048::from_u8(2))
}

/// Bits per window of the fixed-base table, and windows in a 256-bit exponent (the last window
/// is partly empty: 52 × 5 = 260). Five bits measured fastest: four means more multiplications,
/// six a longer constant-time scan of each row.
const WINDOW_BITS: usize = 5;
const WINDOWS: usize = 256_usize.div_ceil(WINDOW_BITS);

/// `G_TABLE[i][j] = g^(j · 32^i)` in Montgomery form, built once (about 1,700 multiplications,
/// a few milliseconds, at first use).
///
/// Every secret exponentiation of g (the verifier, A, B, and the client's g^x) then costs 52
/// multiplications instead of about 335: a third of the server's log-in step saved. The table is
/// public data (powers of the public generator), 416 KiB.
static G_TABLE: LazyLock<Box<[[U2048; 1 << WINDOW_BITS]; WINDOWS]>> = LazyLock::new(|| {
    let one = Element::new(&U2048::ONE);
    let mut table = Box::new([[U2048::ZERO; 1 << WINDOW_BITS]; WINDOWS]);
    let mut base = generator();
    for row in table.iter_mut() {
        let mut power = one;
        for entry in row.iter_mut() {
            *entry = power.to_montgomery();
            power *= base;
        }
        // power is now base^32: the next row's base.
        base = power;
    }
    table
});

/// `g^exponent` for a secret 256-bit exponent, in constant time: one multiplication per 5-bit
/// window, each factor picked from its table row by a constant-time scan of all 32 entries.
pub(crate) fn g_pow(exponent: &U256) -> Element {
    let words = exponent.as_words();
    let bits = |bit: usize| -> u64 {
        let low = words[bit / 64] >> (bit % 64);
        let high = match words.get(bit / 64 + 1) {
            Some(next) if bit % 64 + WINDOW_BITS > 64 => next << (64 - bit % 64),
            _ => 0,
        };
        (low | high) & ((1 << WINDOW_BITS) - 1)
    };
    let mut acc = Element::new(&U2048::ONE);
    for (window, row) in G_TABLE.iter().enumerate() {
        let digit = bits(window * WINDOW_BITS);
        let mut factor = row[0];
        for (idx, entry) in row.iter().enumerate().skip(1) {
            factor.conditional_assign(entry, (idx as u64).ct_eq(&digit));
        }
        acc *= Element::from_montgomery(factor);
    }
    acc
}

/// The multiplier `k = H(PAD(N) ‖ PAD(g))`, computed once.
pub(crate) static K: LazyLock<Element> = LazyLock::new(|| {
    let hash = sha256(&[&pad(&modulus()), &pad(&U2048::from_u8(2))]);
    Element::new(&U2048::from_be_slice(&{
        let mut wide = [0u8; LEN];
        wide[LEN - 32..].copy_from_slice(&hash);
        wide
    }))
});

/// Big-endian, left-padded with zeros to 256 bytes.
pub(crate) fn pad(value: &U2048) -> [u8; LEN] {
    let mut out = [0u8; LEN];
    out.copy_from_slice(value.to_be_bytes().as_ref());
    out
}

/// The padded canonical value of an element.
pub(crate) fn pad_element(value: &Element) -> Zeroizing<[u8; LEN]> {
    Zeroizing::new(pad(&value.retrieve()))
}

/// SHA-256 over the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    context
        .finish()
        .as_ref()
        .try_into()
        .expect("SHA-256 digests are 32 bytes")
}

/// A 32-byte hash or secret as a 256-bit integer.
pub(crate) fn uint256(bytes: &[u8; 32]) -> U256 {
    U256::from_be_slice(bytes)
}

/// Parses a peer's public value (A or B): exactly 256 bytes, in `[1, N − 1]`. Refusing zero (and
/// N itself, the only other multiple of N that fits) is what stops the classic SRP bypass.
pub(crate) fn parse_public(bytes: &[u8], what: &'static str) -> Result<Element, CryptoError> {
    if bytes.len() != LEN {
        return Err(CryptoError::Length {
            what,
            expected: LEN,
            actual: bytes.len(),
        });
    }
    let value = U2048::from_be_slice(bytes);
    if bool::from(value.is_zero()) || value >= modulus() {
        return Err(CryptoError::Srp(
            "public value is zero modulo N or out of range",
        ));
    }
    Ok(Element::new(&value))
}

/// `u = H(PAD(A) ‖ PAD(B))` as 32 big-endian bytes; a zero `u` would make the password
/// irrelevant and is refused.
pub(crate) fn scrambler(a_pub: &[u8; LEN], b_pub: &[u8; LEN]) -> Result<[u8; 32], CryptoError> {
    let u = sha256(&[a_pub, b_pub]);
    if u.iter().all(|&byte| byte == 0) {
        return Err(CryptoError::Srp("the scrambling parameter u is zero"));
    }
    Ok(u)
}

/// The session key and both proofs from the shared secret.
pub(crate) struct Proofs {
    pub(crate) key: Zeroizing<[u8; 32]>,
    pub(crate) m1: [u8; 32],
    pub(crate) m2: [u8; 32],
}

/// `K = H(PAD(S))`, `M1 = H(PAD(A) ‖ PAD(B) ‖ PAD(S))`, `M2 = H(PAD(A) ‖ M1 ‖ K)`.
pub(crate) fn proofs(a_pub: &[u8; LEN], b_pub: &[u8; LEN], s: &[u8; LEN]) -> Proofs {
    let key = Zeroizing::new(sha256(&[s]));
    let m1 = sha256(&[a_pub, b_pub, s]);
    let m2 = sha256(&[a_pub, &m1, key.as_ref()]);
    Proofs { key, m1, m2 }
}

/// `x = H(s ‖ H(I ‖ ":" ‖ P))`, the private key derived from the password.
pub fn compute_x(salt: &[u8], identity: &[u8], password: &[u8]) -> Zeroizing<[u8; 32]> {
    let inner = Zeroizing::new(sha256(&[identity, b":", password]));
    Zeroizing::new(sha256(&[salt, inner.as_ref()]))
}

/// Checks a verifier a client uploads: 256 bytes, in `[1, N − 1]`. A verifier of zero would make
/// the shared secret independent of the passphrase.
pub fn check_verifier(verifier: &[u8]) -> Result<(), CryptoError> {
    parse_public(verifier, "SRP verifier").map(|_| ())
}

/// The verifier `PAD(g^x mod N)` that sign-up uploads (512 hex digits on the wire).
pub fn compute_verifier(salt: &[u8], identity: &[u8], password: &[u8]) -> [u8; LEN] {
    let x = Zeroizing::new(uint256(&compute_x(salt, identity, password)));
    *pad_element(&g_pow(&x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixed-base table gives what plain exponentiation gives, at the edges (zero, all ones,
    /// a set top bit, windows that straddle 64-bit words) and on pseudo-random exponents.
    #[test]
    fn table_exponentiation_matches_plain_exponentiation() {
        let mut exponents = vec![
            U256::ZERO,
            U256::ONE,
            U256::MAX,
            U256::ONE.shl_vartime(255),
            U256::from_u64(0xf000_0000_0000_0000),
            U256::from_be_hex("0000000000000001f00000000000000ff000000000000001f000000000000001"),
        ];
        let mut seed = [7u8; 32];
        for _ in 0..8 {
            seed = sha256(&[&seed]);
            exponents.push(uint256(&seed));
        }
        for exponent in exponents {
            assert_eq!(
                g_pow(&exponent).retrieve(),
                generator().pow(&exponent).retrieve(),
                "g^{exponent}"
            );
        }
    }
}
