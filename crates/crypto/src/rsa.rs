//! RSA-OAEP-256 (insomnia-wire.md §1.3): SHA-256, MGF1-SHA-256, empty label, 2048-bit keys with
//! e = 65537. Strings are percent-encoded before encryption and the ciphertext travels as
//! lowercase hex, exactly as the app's `encryptRSAWithJWK` / `decryptRSAWithJWK` do.
//!
//! The keys are aws-lc-rs keys (constant-time private operations); JWKs are converted through
//! PKCS#1/PKCS#8 DER, which is the only import format aws-lc-rs takes.

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rsa::{
        KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
        PrivateDecryptingKey, PublicEncryptingKey,
    },
};
use pkcs1::der::{
    Decode, Encode,
    asn1::{OctetStringRef, UintRef},
};
use zeroize::Zeroizing;

use crate::{
    CryptoError,
    encoding::{decode_uri_component, encode_uri_component, from_hex, to_hex},
    jwk::{RSA_MODULUS_LEN, RsaPrivateJwk, RsaPublicJwk},
};

/// The longest plaintext RSA-OAEP-256 carries with a 2048-bit key: 256 − 2·32 − 2 bytes.
pub const MAX_PLAINTEXT_LEN: usize = 190;

/// A public key ready to encrypt.
pub struct RsaPublicKey {
    key: OaepPublicEncryptingKey,
    jwk: RsaPublicJwk,
}

/// A private key ready to decrypt. aws-lc-rs frees (and clears) its key material on drop; the
/// JWK copy zeroizes its own.
pub struct RsaPrivateKey {
    key: OaepPrivateDecryptingKey,
    jwk: RsaPrivateJwk,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateKey(..)")
    }
}

impl RsaPublicKey {
    /// Imports a public JWK.
    pub fn from_jwk(jwk: &RsaPublicJwk) -> Result<Self, CryptoError> {
        let public = pkcs1::RsaPublicKey {
            modulus: uint(&jwk.n)?,
            public_exponent: uint(&jwk.e)?,
        };
        let pkcs1_der = public
            .to_der()
            .map_err(|_| CryptoError::RsaKey("encoding"))?;
        let spki = pkcs8::SubjectPublicKeyInfoRef {
            algorithm: pkcs1::ALGORITHM_ID,
            subject_public_key: pkcs8::der::asn1::BitStringRef::from_bytes(&pkcs1_der)
                .map_err(|_| CryptoError::RsaKey("encoding"))?,
        };
        let spki_der = spki.to_der().map_err(|_| CryptoError::RsaKey("encoding"))?;
        let key = PublicEncryptingKey::from_der(&spki_der)
            .map_err(|_| CryptoError::RsaKey("the public key was rejected"))?;
        Ok(Self {
            key: OaepPublicEncryptingKey::new(key)
                .map_err(|_| CryptoError::RsaKey("not usable for OAEP"))?,
            jwk: jwk.clone(),
        })
    }

    /// Parses and imports a public JWK from its JSON text.
    pub fn from_jwk_json(text: &str) -> Result<Self, CryptoError> {
        Self::from_jwk(&RsaPublicJwk::from_json(text)?)
    }

    /// The key as the app's JWK.
    pub fn jwk(&self) -> &RsaPublicJwk {
        &self.jwk
    }

    /// A short fingerprint two people can compare aloud: SHA-256 of the key's modulus (its
    /// length first, as 4 big-endian bytes) and exponent, first 16 bytes as eight groups of four
    /// hex digits. It depends on the key alone, not on how its JSON was written.
    pub fn fingerprint(&self) -> String {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        let modulus_len = u32::try_from(self.jwk.n.len()).unwrap_or(u32::MAX);
        context.update(&modulus_len.to_be_bytes());
        context.update(&self.jwk.n);
        context.update(&self.jwk.e);
        let digest = context.finish();
        digest.as_ref()[..16]
            .chunks(2)
            .map(|pair| format!("{:02x}{:02x}", pair[0], pair[1]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The app's `encryptRSAWithJWK`: percent-encodes `text`, encrypts, returns lowercase hex
    /// (512 digits). More than [`MAX_PLAINTEXT_LEN`] encoded bytes is an error.
    pub fn encrypt_string(&self, text: &str) -> Result<String, CryptoError> {
        let encoded = Zeroizing::new(encode_uri_component(text));
        self.encrypt_bytes(encoded.as_bytes())
    }

    /// Encrypts raw bytes (no percent-encoding) to lowercase hex.
    pub fn encrypt_bytes(&self, plaintext: &[u8]) -> Result<String, CryptoError> {
        let max = self.key.max_plaintext_size(&OAEP_SHA256_MGF1SHA256);
        if plaintext.len() > max {
            return Err(CryptoError::RsaMessageTooLong {
                actual: plaintext.len(),
                max,
            });
        }
        let mut out = vec![0u8; self.key.ciphertext_size()];
        let ciphertext = self
            .key
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
            .map_err(|_| CryptoError::RsaKey("encryption failed"))?;
        Ok(to_hex(ciphertext))
    }
}

impl RsaPrivateKey {
    /// A new 2048-bit key pair with e = 65537, as WebCrypto's `generateKey` makes for the app.
    pub fn generate() -> Result<Self, CryptoError> {
        let key = PrivateDecryptingKey::generate(KeySize::Rsa2048)
            .map_err(|_| CryptoError::RsaKey("key generation failed"))?;
        let jwk = jwk_of(&key)?;
        Self::from_parts(key, jwk)
    }

    fn from_parts(key: PrivateDecryptingKey, jwk: RsaPrivateJwk) -> Result<Self, CryptoError> {
        Ok(Self {
            key: OaepPrivateDecryptingKey::new(key)
                .map_err(|_| CryptoError::RsaKey("not usable for OAEP"))?,
            jwk,
        })
    }

    /// Imports a private JWK. aws-lc-rs checks that the components are consistent.
    pub fn from_jwk(jwk: &RsaPrivateJwk) -> Result<Self, CryptoError> {
        let pkcs1_key = pkcs1::RsaPrivateKey {
            modulus: uint(&jwk.public.n)?,
            public_exponent: uint(&jwk.public.e)?,
            private_exponent: uint(&jwk.d)?,
            prime1: uint(&jwk.p)?,
            prime2: uint(&jwk.q)?,
            exponent1: uint(&jwk.dp)?,
            exponent2: uint(&jwk.dq)?,
            coefficient: uint(&jwk.qi)?,
            other_prime_infos: None,
        };
        let pkcs1_der = Zeroizing::new(
            pkcs1_key
                .to_der()
                .map_err(|_| CryptoError::RsaKey("encoding"))?,
        );
        let info = pkcs8::PrivateKeyInfoRef::new(
            pkcs1::ALGORITHM_ID,
            OctetStringRef::new(&pkcs1_der).map_err(|_| CryptoError::RsaKey("encoding"))?,
        );
        let pkcs8_der = Zeroizing::new(info.to_der().map_err(|_| CryptoError::RsaKey("encoding"))?);
        let key = PrivateDecryptingKey::from_pkcs8(&pkcs8_der)
            .map_err(|_| CryptoError::RsaKey("the private key's components are inconsistent"))?;
        if key.key_size_bytes() != RSA_MODULUS_LEN {
            return Err(CryptoError::RsaKey("the modulus must be 2048 bits"));
        }
        Self::from_parts(key, jwk.clone())
    }

    /// Parses and imports a private JWK from its JSON text.
    pub fn from_jwk_json(text: &str) -> Result<Self, CryptoError> {
        Self::from_jwk(&RsaPrivateJwk::from_json(text)?)
    }

    /// The private key as the app's JWK (the members are zeroized when it drops).
    pub fn jwk(&self) -> &RsaPrivateJwk {
        &self.jwk
    }

    /// The public half as the app's JWK.
    pub fn public_jwk(&self) -> &RsaPublicJwk {
        &self.jwk.public
    }

    /// The public half, ready to encrypt.
    pub fn public_key(&self) -> Result<RsaPublicKey, CryptoError> {
        RsaPublicKey::from_jwk(&self.jwk.public)
    }

    /// The app's `decryptRSAWithJWK`: hex → OAEP → `decodeURIComponent`.
    pub fn decrypt_string(&self, ciphertext_hex: &str) -> Result<Zeroizing<String>, CryptoError> {
        let plaintext = self.decrypt_bytes(ciphertext_hex)?;
        Ok(Zeroizing::new(decode_uri_component(&plaintext)?))
    }

    /// Decrypts hex ciphertext to raw bytes. Every failure is the opaque [`CryptoError::Decrypt`].
    pub fn decrypt_bytes(&self, ciphertext_hex: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let ciphertext = from_hex(ciphertext_hex, "RSA ciphertext")?;
        if ciphertext.len() != self.key.key_size_bytes() {
            return Err(CryptoError::Decrypt);
        }
        let mut out = Zeroizing::new(vec![0u8; self.key.key_size_bytes()]);
        let len = self
            .key
            .decrypt(&OAEP_SHA256_MGF1SHA256, &ciphertext, &mut out, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

fn uint(bytes: &[u8]) -> Result<UintRef<'_>, CryptoError> {
    UintRef::new(bytes).map_err(|_| CryptoError::RsaKey("an integer does not encode"))
}

/// Reads a key's components out of its PKCS#8 encoding.
fn jwk_of(key: &PrivateDecryptingKey) -> Result<RsaPrivateJwk, CryptoError> {
    let der: Pkcs8V1Der<'static> =
        AsDer::<Pkcs8V1Der>::as_der(key).map_err(|_| CryptoError::RsaKey("encoding"))?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(der.as_ref())
        .map_err(|_| CryptoError::RsaKey("encoding"))?;
    let rsa = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes())
        .map_err(|_| CryptoError::RsaKey("encoding"))?;
    let secret = |value: UintRef<'_>| Zeroizing::new(value.as_bytes().to_vec());
    Ok(RsaPrivateJwk {
        public: RsaPublicJwk {
            n: rsa.modulus.as_bytes().to_vec(),
            e: rsa.public_exponent.as_bytes().to_vec(),
        },
        d: secret(rsa.private_exponent),
        p: secret(rsa.prime1),
        q: secret(rsa.prime2),
        dp: secret(rsa.exponent1),
        dq: secret(rsa.exponent2),
        qi: secret(rsa.coefficient),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_name_the_key() {
        let one = RsaPrivateKey::generate().expect("generates");
        let two = RsaPrivateKey::generate().expect("generates");
        let public = one.public_key().expect("public");
        let print = public.fingerprint();
        assert_eq!(print.len(), 39, "{print}");
        assert_eq!(print.split(' ').count(), 8);
        assert!(print.chars().all(|c| c == ' ' || c.is_ascii_hexdigit()));
        // The same key, however it arrives: from the private key, or from its JSON.
        let again = RsaPublicKey::from_jwk_json(&one.public_jwk().to_json()).expect("imports");
        assert_eq!(again.fingerprint(), print);
        assert_ne!(two.public_key().expect("public").fingerprint(), print);
    }

    #[test]
    fn generated_keys_round_trip_through_jwk() {
        let private = RsaPrivateKey::generate().expect("generates");
        let jwk = private.jwk();
        assert_eq!(jwk.public.n.len(), 256);
        assert_eq!(jwk.public.e, vec![1, 0, 1]);
        let text = jwk.to_json();
        assert!(
            text.starts_with("{\"alg\":\"RSA-OAEP-256\",\"d\":\""),
            "{}",
            &text[..40]
        );
        let reimported = RsaPrivateKey::from_jwk_json(&text).expect("imports");
        let public = RsaPublicKey::from_jwk_json(&private.public_jwk().to_json()).expect("imports");
        let ciphertext = public.encrypt_string("ü secret %").expect("encrypts");
        assert_eq!(ciphertext.len(), 512);
        assert_eq!(
            reimported
                .decrypt_string(&ciphertext)
                .expect("decrypts")
                .as_str(),
            "ü secret %"
        );
    }

    #[test]
    fn over_190_bytes_is_an_error_not_a_panic() {
        let private = RsaPrivateKey::generate().expect("generates");
        let public = private.public_key().expect("public");
        assert!(public.encrypt_bytes(&[b'a'; MAX_PLAINTEXT_LEN]).is_ok());
        assert_eq!(
            public.encrypt_bytes(&[b'a'; MAX_PLAINTEXT_LEN + 1]),
            Err(CryptoError::RsaMessageTooLong {
                actual: 191,
                max: 190
            })
        );
        // A space percent-encodes to three bytes: 64 spaces are 192 encoded bytes.
        assert!(matches!(
            public.encrypt_string(&" ".repeat(64)),
            Err(CryptoError::RsaMessageTooLong { actual: 192, .. })
        ));
    }

    #[test]
    fn inconsistent_private_key_is_refused() {
        let private = RsaPrivateKey::generate().expect("generates");
        let mut jwk = private.jwk().clone();
        let last = jwk.d.len() - 1;
        jwk.d[last] ^= 2;
        assert!(matches!(
            RsaPrivateKey::from_jwk(&jwk),
            Err(CryptoError::RsaKey(_))
        ));
    }
}
