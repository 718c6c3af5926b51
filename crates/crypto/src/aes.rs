//! AES-256-GCM messages, the app's `AESMessage` (insomnia-wire.md §1.1).
//!
//! On the wire a message is JSON with four lowercase hex members: `iv` (12 bytes), `t` (the
//! 16-byte tag), `ad` (the additional data) and `d` (the ciphertext). Two APIs sit on top:
//!
//! * the *string* API ([`encrypt_string`], [`decrypt_string`]) percent-encodes the plaintext with
//!   `encodeURIComponent` first and decodes after, as the app does for keys and account data;
//! * the *byte* API ([`AesMessage::seal`], [`AesMessage::open`]) encrypts raw bytes, as the app
//!   does for sync blobs.
//!
//! The app lets a stored message choose its own tag length; we accept only 16-byte tags and
//! 12-byte IVs, so a forged message cannot downgrade the tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{
    CryptoError,
    encoding::{decode_uri_component, encode_uri_component, from_hex, from_hex_array, to_hex},
    jwk::SymmetricJwk,
    random,
};

/// Length of an AES-GCM IV in bytes.
pub const IV_LEN: usize = 12;
/// Length of an AES-GCM tag in bytes.
pub const TAG_LEN: usize = 16;
/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// A 256-bit AES key. Zeroized on drop; its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct AesKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(..)")
    }
}

impl AesKey {
    /// A fresh random key (what WebCrypto's `generateKey({name: 'AES-GCM', length: 256})` makes).
    pub fn generate() -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        random::fill(key.as_mut())?;
        Ok(Self(key))
    }

    /// The key from its raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key from 64 hex digits, the form `deriveKey` returns.
    pub fn from_hex(hex: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(from_hex_array::<KEY_LEN>(hex, "AES key")?);
        Ok(Self(bytes))
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as the app's A256GCM JWK.
    pub fn to_jwk(&self) -> SymmetricJwk {
        SymmetricJwk::from_key(self)
    }

    fn aead(&self) -> LessSafeKey {
        let unbound = UnboundKey::new(&AES_256_GCM, self.0.as_ref())
            .expect("a 32-byte key is always a valid AES-256 key");
        LessSafeKey::new(unbound)
    }
}

impl From<&SymmetricJwk> for AesKey {
    fn from(jwk: &SymmetricJwk) -> Self {
        jwk.key()
    }
}

/// An encrypted message: IV, tag, additional data and ciphertext, held as bytes and written as the
/// app's JSON (`{"iv","t","ad","d"}`, lowercase hex).
#[derive(Clone, PartialEq, Eq)]
pub struct AesMessage {
    /// The 12-byte IV.
    pub iv: [u8; IV_LEN],
    /// The 16-byte GCM tag.
    pub tag: [u8; TAG_LEN],
    /// The additional authenticated data (empty in everything the app sends).
    pub ad: Vec<u8>,
    /// The ciphertext, as long as the plaintext.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for AesMessage {
    // Ciphertext is kept out of logs as a rule, even though it is not secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesMessage")
            .field("data_len", &self.data.len())
            .finish_non_exhaustive()
    }
}

/// The JSON members, in the order the app writes them.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    iv: String,
    t: String,
    ad: String,
    d: String,
}

impl AesMessage {
    /// Encrypts `plaintext` under `key` with a fresh random IV (the byte API; no percent-encoding).
    pub fn seal(key: &AesKey, plaintext: &[u8], ad: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self::seal_with_iv(
            key,
            random::bytes::<IV_LEN>()?,
            plaintext,
            ad,
        ))
    }

    /// Encrypts with a caller-chosen IV. Only for fixed test vectors: reusing an IV under one key
    /// destroys GCM's security, which is why this is not public.
    pub(crate) fn seal_with_iv(
        key: &AesKey,
        iv: [u8; IV_LEN],
        plaintext: &[u8],
        ad: &[u8],
    ) -> Self {
        let mut data = plaintext.to_vec();
        let tag: Tag = key
            .aead()
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::from(ad), &mut data)
            .expect("AES-GCM sealing fails only past 64 GiB, which no message reaches");
        let tag: [u8; TAG_LEN] = tag.as_ref().try_into().expect("AES-GCM tags are 16 bytes");
        Self {
            iv,
            tag,
            ad: ad.to_vec(),
            data,
        }
    }

    /// Decrypts and authenticates (the byte API), for plaintext that is or may be secret: the
    /// result is zeroized when dropped. Any failure is the opaque [`CryptoError::Decrypt`].
    pub fn open(&self, key: &AesKey) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.open_data(key).map(Zeroizing::new)
    }

    /// Decrypts and authenticates bulk data that is not key material (sync blobs). It skips the
    /// zeroizing of [`AesMessage::open`], which at 1 MiB costs as much as the decryption.
    pub fn open_data(&self, key: &AesKey) -> Result<Vec<u8>, CryptoError> {
        // Decrypting straight into the output (no copy of ciphertext and tag into one buffer
        // first) keeps opening as fast as sealing.
        let mut plaintext = vec![0u8; self.data.len()];
        key.aead()
            .open_separate_gather(
                Nonce::assume_unique_for_key(self.iv),
                Aad::from(&self.ad),
                &self.data,
                &self.tag,
                &mut plaintext,
            )
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plaintext)
    }

    /// Parses the app's JSON form (compact or pretty). Unknown members, non-hex values, an IV
    /// that is not 12 bytes and a tag that is not 16 bytes are refused.
    pub fn from_json(text: &str) -> Result<Self, CryptoError> {
        let wire: WireMessage = serde_json::from_str(text).map_err(|err| CryptoError::Json {
            what: "AES message",
            message: err.to_string(),
        })?;
        Ok(Self {
            iv: from_hex_array(&wire.iv, "AES message iv")?,
            tag: from_hex_array(&wire.t, "AES message tag (t)")?,
            ad: from_hex(&wire.ad, "AES message ad")?,
            data: from_hex(&wire.d, "AES message data (d)")?,
        })
    }

    fn to_wire(&self) -> WireMessage {
        WireMessage {
            iv: to_hex(&self.iv),
            t: to_hex(&self.tag),
            ad: to_hex(&self.ad),
            d: to_hex(&self.data),
        }
    }

    /// Compact JSON, as the app stores account keys (`encSymmetricKey`, `encPrivateKey`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_wire()).expect("strings always serialize")
    }

    /// JSON with two-space indentation, as the app uploads sync blobs
    /// (`JSON.stringify(message, null, 2)`).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_wire()).expect("strings always serialize")
    }
}

/// The app's `encryptAES(key, text)`: percent-encodes `text`, then encrypts with empty AD.
pub fn encrypt_string(key: &AesKey, text: &str) -> Result<AesMessage, CryptoError> {
    AesMessage::seal(key, encode_uri_component(text).as_bytes(), b"")
}

/// The app's `decryptAES(key, message)`: decrypts, then percent-decodes.
pub fn decrypt_string(
    key: &AesKey,
    message: &AesMessage,
) -> Result<Zeroizing<String>, CryptoError> {
    let bytes = message.open(key)?;
    Ok(Zeroizing::new(decode_uri_component(&bytes)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// insomnia-wire.md §7.6: a fixed IV gives the app's exact message.
    #[test]
    fn protocol_vector_six() {
        let jwk: SymmetricJwk = serde_json::from_str(
            r#"{"alg":"A256GCM","ext":true,"k":"5hs1f2xuiNPHUp11i6SWlsqYpWe_hWPcEKucZlwBfFE","key_ops":["encrypt","decrypt"],"kty":"oct"}"#,
        )
        .expect("the vector's JWK parses");
        let key = AesKey::from(&jwk);
        let iv = from_hex_array("000102030405060708090a0b", "iv").expect("hex");
        let message = AesMessage::seal_with_iv(
            &key,
            iv,
            encode_uri_component("Hello World! ü").as_bytes(),
            b"additional data",
        );
        assert_eq!(
            message.to_json(),
            r#"{"iv":"000102030405060708090a0b","t":"f1ae16c052b00587fc13c941b690e13b","ad":"6164646974696f6e616c2064617461","d":"c1e04ff22dfc888897386d82c23e5874c7966211240eb5"}"#
        );
        assert_eq!(
            decrypt_string(&key, &message).expect("opens").as_str(),
            "Hello World! ü"
        );
    }

    #[test]
    fn refuses_short_tags_and_odd_ivs() {
        let short_tag =
            r#"{"iv":"000102030405060708090a0b","t":"f1ae16c052b00587","ad":"","d":"00"}"#;
        assert!(matches!(
            AesMessage::from_json(short_tag),
            Err(CryptoError::Length {
                expected: 16,
                actual: 8,
                ..
            })
        ));
        let long_iv = r#"{"iv":"000102030405060708090a0b0c","t":"f1ae16c052b00587fc13c941b690e13b","ad":"","d":"00"}"#;
        assert!(matches!(
            AesMessage::from_json(long_iv),
            Err(CryptoError::Length {
                expected: 12,
                actual: 13,
                ..
            })
        ));
        let extra = r#"{"iv":"000102030405060708090a0b","t":"f1ae16c052b00587fc13c941b690e13b","ad":"","d":"00","x":1}"#;
        assert!(matches!(
            AesMessage::from_json(extra),
            Err(CryptoError::Json { .. })
        ));
    }

    #[test]
    fn pretty_form_parses_and_matches_javascript_layout() {
        let key = AesKey::from_bytes([7; 32]);
        let message = AesMessage::seal(&key, b"blob", b"").expect("seals");
        let pretty = message.to_json_pretty();
        assert!(pretty.starts_with("{\n  \"iv\": \""), "{pretty}");
        assert_eq!(AesMessage::from_json(&pretty), Ok(message.clone()));
        let mut tampered = message;
        tampered.data[0] ^= 1;
        assert_eq!(tampered.open(&key).map(|_| ()), Err(CryptoError::Decrypt));
    }
}
