//! The two large exponentiations of an SRP exchange, on AWS-LC's BIGNUM.
//!
//! Why this module exists: a 2048-bit constant-time exponentiation with a 256-bit exponent costs
//! about 0.9–1.0 ms with crypto-bigint 0.7 on our machines and about 0.45 ms with AWS-LC
//! (`BN_mod_exp_mont_consttime`, the routine AWS-LC's own RSA uses), and the server's log-in
//! budget is 1 ms for all its SRP work (BENCHMARKS.md). AWS-LC is already in the build through
//! aws-lc-rs, which exposes no big-integer API, so this is the one place that calls aws-lc-sys
//! directly and the one module of the crate with `unsafe` code. Everything else in `srp` stays on
//! crypto-bigint.
//!
//! Inputs and outputs are big-endian byte strings, so no pointer outlives a call. Values that may
//! be secret are freed with `BN_clear_free`, which zeroes them.
#![allow(
    unsafe_code,
    reason = "FFI to AWS-LC's BIGNUM; every call is commented"
)]

use std::{
    ptr::{NonNull, null_mut},
    sync::LazyLock,
};

use aws_lc_sys::{
    BIGNUM, BN_CTX, BN_CTX_free, BN_CTX_new, BN_MONT_CTX, BN_MONT_CTX_new_for_modulus, BN_bin2bn,
    BN_bn2bin_padded, BN_clear_free, BN_mod_exp_mont, BN_mod_exp_mont_consttime,
};
use zeroize::Zeroizing;

use super::group::{LEN, modulus_bytes};

/// An owned BIGNUM, cleared and freed on drop.
struct BigNum(NonNull<BIGNUM>);

impl BigNum {
    fn from_be_bytes(bytes: &[u8]) -> Self {
        // SAFETY: BN_bin2bn reads exactly `bytes.len()` bytes from a valid slice and, given a null
        // `ret`, allocates a new BIGNUM that we own. It returns null only when allocation fails.
        let raw = unsafe { BN_bin2bn(bytes.as_ptr(), bytes.len(), null_mut()) };
        Self(NonNull::new(raw).expect("AWS-LC could not allocate a BIGNUM"))
    }

    fn zero() -> Self {
        Self::from_be_bytes(&[])
    }

    /// Big-endian, left-padded to 256 bytes.
    fn to_padded(&self) -> Zeroizing<[u8; LEN]> {
        let mut out = Zeroizing::new([0u8; LEN]);
        // SAFETY: `out` is a valid, writable buffer of LEN bytes and `self.0` a valid BIGNUM;
        // BN_bn2bin_padded writes exactly LEN bytes and fails only if the value does not fit,
        // which cannot happen for a value reduced modulo the 256-byte N.
        let written = unsafe { BN_bn2bin_padded(out.as_mut_ptr(), LEN, self.0.as_ptr()) };
        assert_eq!(written, 1, "a value modulo N always fits in 256 bytes");
        out
    }
}

impl Drop for BigNum {
    fn drop(&mut self) {
        // SAFETY: we own the BIGNUM and nothing else refers to it; BN_clear_free zeroes its limbs
        // before freeing them.
        unsafe { BN_clear_free(self.0.as_ptr()) }
    }
}

/// A scratch context for one call.
struct Context(NonNull<BN_CTX>);

impl Context {
    fn new() -> Self {
        // SAFETY: BN_CTX_new takes no arguments and returns an owned context or null.
        let raw = unsafe { BN_CTX_new() };
        Self(NonNull::new(raw).expect("AWS-LC could not allocate a BN_CTX"))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own the context and no BIGNUM taken from it is still in use.
        unsafe { BN_CTX_free(self.0.as_ptr()) }
    }
}

/// N and its Montgomery constants, computed once and only read afterwards.
struct Group {
    n: BigNum,
    mont: NonNull<BN_MONT_CTX>,
}

// SAFETY: after construction neither the BIGNUM nor the BN_MONT_CTX is ever modified; AWS-LC's
// exponentiation functions take them as `const` pointers, and reading them from several threads
// at once is what AWS-LC documents as safe for a BN_MONT_CTX that is not changed.
unsafe impl Send for Group {}
// SAFETY: as above: shared references only ever read.
unsafe impl Sync for Group {}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let n = BigNum::from_be_bytes(&modulus_bytes());
    let ctx = Context::new();
    // SAFETY: `n` is a valid odd modulus and `ctx` a valid context; the function returns a new
    // BN_MONT_CTX that we own (kept for the process' life), or null on failure.
    let mont = unsafe { BN_MONT_CTX_new_for_modulus(n.0.as_ptr(), ctx.0.as_ptr()) };
    Group {
        n,
        mont: NonNull::new(mont).expect("AWS-LC could not build the Montgomery context of N"),
    }
});

/// `base^exponent mod N` in constant time with respect to the exponent (and the base), for secret
/// exponents. `base` must be reduced modulo N, as every value in `srp` is.
pub(crate) fn pow_secret(base: &[u8; LEN], exponent: &[u8]) -> Zeroizing<[u8; LEN]> {
    pow(base, exponent, true)
}

/// `base^exponent mod N` for a public exponent (u), in variable time.
pub(crate) fn pow_public(base: &[u8; LEN], exponent: &[u8]) -> Zeroizing<[u8; LEN]> {
    pow(base, exponent, false)
}

fn pow(base: &[u8; LEN], exponent: &[u8], constant_time: bool) -> Zeroizing<[u8; LEN]> {
    let group = &*GROUP;
    let base = BigNum::from_be_bytes(base);
    let exponent = BigNum::from_be_bytes(exponent);
    let result = BigNum::zero();
    let ctx = Context::new();
    let exp = if constant_time {
        BN_mod_exp_mont_consttime
    } else {
        BN_mod_exp_mont
    };
    // SAFETY: every pointer is a valid, live BIGNUM/context owned here or by GROUP; `result` is
    // distinct from the inputs; the base is below N (callers pass reduced values).
    let ok = unsafe {
        exp(
            result.0.as_ptr(),
            base.0.as_ptr(),
            exponent.0.as_ptr(),
            group.n.0.as_ptr(),
            ctx.0.as_ptr(),
            group.mont.as_ptr(),
        )
    };
    assert_eq!(
        ok, 1,
        "modular exponentiation of a reduced base cannot fail"
    );
    result.to_padded()
}

#[cfg(test)]
mod tests {
    use crypto_bigint::{U256, U2048};

    use super::*;
    use crate::srp::group::{Element, pad_element, sha256};

    /// AWS-LC's exponentiations agree with crypto-bigint's, in both modes, for short and long
    /// exponents and for bases at the edges of the range.
    #[test]
    fn matches_crypto_bigint() {
        let mut n_minus_one = modulus_bytes();
        n_minus_one[LEN - 1] -= 1;
        let mut seed = [3u8; 32];
        let mut bases = vec![[0u8; LEN], n_minus_one];
        bases[0][LEN - 1] = 2;
        for _ in 0..4 {
            seed = sha256(&[&seed]);
            let mut wide = [0u8; LEN];
            wide[..32].copy_from_slice(&seed);
            wide[0] &= 0x7f; // below N
            bases.push(wide);
        }
        for base in bases {
            let element = Element::new(&U2048::from_be_slice(&base));
            for exponent in [[0u8; 32], [0xff; 32], sha256(&[&base])] {
                let expected = pad_element(&element.pow(&U256::from_be_slice(&exponent)));
                assert_eq!(*pow_secret(&base, &exponent), *expected);
                assert_eq!(*pow_public(&base, &exponent), *expected);
            }
        }
    }
}
