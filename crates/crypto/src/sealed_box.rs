//! libsodium's sealed box, `crypto_box_seal` and `crypto_box_seal_open` (insomnia-wire.md §3):
//! `epk ‖ crypto_box(message, nonce = BLAKE2b-192(epk ‖ recipient_pk), recipient_pk, esk)`.
//!
//! The browser log-in page seals `{"token","key"}` to the app's one-time X25519 public key; the
//! app opens it with the secret half. The log-in code is the box in standard (padded) base64.

use base64ct::{Base64, Encoding};
use crypto_box::{PublicKey, SecretKey, aead::OsRng};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Length of an X25519 key in bytes.
pub const KEY_LEN: usize = 32;
/// What sealing adds to a message: the ephemeral public key and the Poly1305 tag.
pub const OVERHEAD: usize = 48;

/// An X25519 key pair, as tweetnacl's `box.keyPair()` makes it.
pub struct KeyPair {
    /// The public key.
    pub public: [u8; KEY_LEN],
    /// The secret key, zeroized on drop.
    pub secret: Zeroizing<[u8; KEY_LEN]>,
}

impl KeyPair {
    /// A fresh key pair.
    pub fn generate() -> Self {
        let secret = SecretKey::generate(&mut OsRng);
        Self {
            public: secret.public_key().to_bytes(),
            secret: Zeroizing::new(secret.to_bytes()),
        }
    }
}

/// Seals `message` to `recipient` (anyone can seal; only the recipient can open).
pub fn seal(recipient: &[u8; KEY_LEN], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    PublicKey::from_bytes(*recipient)
        .seal(&mut OsRng, message)
        .map_err(|_| CryptoError::Random)
}

/// Opens a sealed box with the recipient's secret key. Any failure is [`CryptoError::Decrypt`].
pub fn open(secret: &[u8; KEY_LEN], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < OVERHEAD {
        return Err(CryptoError::Decrypt);
    }
    SecretKey::from_bytes(*secret)
        .unseal(sealed)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)
}

/// Decodes a standard, padded base64 value (the app's `loginKey` and log-in code).
pub fn decode_base64(text: &str, what: &'static str) -> Result<Vec<u8>, CryptoError> {
    Base64::decode_vec(text.trim()).map_err(|_| CryptoError::Json {
        what,
        message: "not standard base64".into(),
    })
}

/// Encodes bytes as standard, padded base64.
pub fn encode_base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// A 32-byte X25519 key from standard base64.
pub fn key_from_base64(text: &str, what: &'static str) -> Result<[u8; KEY_LEN], CryptoError> {
    let bytes = decode_base64(text, what)?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| CryptoError::Length {
        what,
        expected: KEY_LEN,
        actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let pair = KeyPair::generate();
        let sealed = seal(&pair.public, b"{\"token\":\"t\",\"key\":\"k\"}").expect("seals");
        assert_eq!(sealed.len(), 23 + OVERHEAD);
        assert_eq!(
            open(&pair.secret, &sealed).expect("opens").as_slice(),
            b"{\"token\":\"t\",\"key\":\"k\"}"
        );
        let mut tampered = sealed.clone();
        tampered[40] ^= 1;
        assert_eq!(
            open(&pair.secret, &tampered).map(|_| ()),
            Err(CryptoError::Decrypt)
        );
        assert_eq!(
            open(&pair.secret, &sealed[..47]).map(|_| ()),
            Err(CryptoError::Decrypt)
        );
        let other = KeyPair::generate();
        assert_eq!(
            open(&other.secret, &sealed).map(|_| ()),
            Err(CryptoError::Decrypt)
        );
    }
}
