//! The app's `deriveKey(passphrase, email, salt)` (insomnia-wire.md §1.4) and its input clean-up.
//!
//! 1. HKDF-SHA256 with salt = the salt's hex *text* as bytes, input key = the email, empty info,
//!    32 bytes out;
//! 2. PBKDF2-HMAC-SHA256 over the passphrase with that output as salt, 100,000 rounds, 32 bytes,
//!    returned as lowercase hex.
//!
//! Called with `saltKey` it gives the SRP password (SEC_PWD_Auth); with `saltEnc`, the key that
//! wraps the account key (SEC_PWD_Enc).

use std::num::NonZeroU32;

use aws_lc_rs::{hkdf, pbkdf2};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::{CryptoError, encoding::to_hex};

/// PBKDF2 rounds the app uses.
pub const PBKDF2_ROUNDS: u32 = 100_000;

/// Whether JavaScript's `String.prototype.trim` removes `ch`: ECMAScript's WhiteSpace and
/// LineTerminator. Rust's `str::trim` differs (it keeps U+FEFF and removes U+0085), and a
/// different trim would derive a different key from the same passphrase.
fn is_js_whitespace(ch: char) -> bool {
    matches!(
        ch,
        '\u{9}'..='\u{d}'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// JavaScript's `trim()`.
pub fn js_trim(text: &str) -> &str {
    text.trim_matches(is_js_whitespace)
}

/// The app's e-mail clean-up: `trim()` and `toLowerCase()`.
pub fn sanitize_email(email: &str) -> String {
    js_trim(email).to_lowercase()
}

/// The app's passphrase clean-up: `trim()`, then `normalize('NFKD')`.
pub fn sanitize_passphrase(passphrase: &str) -> Zeroizing<String> {
    Zeroizing::new(js_trim(passphrase).nfkd().collect())
}

/// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with `info` to `out.len()` bytes.
/// `out` may be at most 255 × 32 bytes.
pub fn hkdf_sha256(
    salt: &[u8],
    ikm: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let info = [info];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| CryptoError::Length {
            what: "HKDF output",
            expected: 255 * 32,
            actual: out.len(),
        })
}

/// PBKDF2-HMAC-SHA256 with `rounds` iterations into `out`.
pub fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: NonZeroU32, out: &mut [u8]) {
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, password, out);
}

/// The app's `deriveKey`: 64 lowercase hex digits. Inputs must already be sanitized
/// ([`sanitize_email`], [`sanitize_passphrase`]), as the app's callers do.
pub fn derive_key(passphrase: &str, email: &str, salt: &str) -> Zeroizing<String> {
    let mut hkdf_out = Zeroizing::new([0u8; 32]);
    hkdf_sha256(salt.as_bytes(), email.as_bytes(), &[], hkdf_out.as_mut())
        .expect("32 bytes is within HKDF's limit");
    let mut key = Zeroizing::new([0u8; 32]);
    let rounds = NonZeroU32::new(PBKDF2_ROUNDS).expect("the round count is not zero");
    pbkdf2_sha256(
        passphrase.as_bytes(),
        hkdf_out.as_ref(),
        rounds,
        key.as_mut(),
    );
    Zeroizing::new(to_hex(key.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizes_like_the_app() {
        assert_eq!(
            sanitize_email("  Alice@Example.COM \n"),
            "alice@example.com"
        );
        // NFKD splits the precomposed é and the ﬁ ligature, as String.prototype.normalize does.
        assert_eq!(sanitize_passphrase(" é ﬁ ").as_str(), "e\u{301} fi");
        // JavaScript trims a byte-order mark and keeps NEL; Rust's `trim` does the opposite.
        assert_eq!(sanitize_email("\u{feff}A@B.c"), "a@b.c");
        assert_eq!(sanitize_passphrase("pass\u{85}").as_str(), "pass\u{85}");
    }
}
