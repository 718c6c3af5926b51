//! Randomness, always from the operating system's CSPRNG (through aws-lc-rs).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::{CryptoError, encoding::to_hex};

/// Fills `out` with random bytes.
pub fn fill(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Random)
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill(&mut out)?;
    Ok(out)
}

/// The app's `getRandomHex()`: 32 random bytes as 64 lowercase hex digits (salts, vault salt).
pub fn random_hex_32() -> Result<String, CryptoError> {
    Ok(to_hex(&bytes::<32>()?))
}

/// An id of the form `<prefix>_<32 hex>`, as the app's `generateId` makes (`prj_…`).
pub fn prefixed_id(prefix: &str) -> Result<String, CryptoError> {
    Ok(format!("{prefix}_{}", to_hex(&bytes::<16>()?)))
}
