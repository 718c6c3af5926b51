//! The one error type of this crate.
//!
//! Decryption failures are deliberately opaque ([`CryptoError::Decrypt`]): saying *why* a
//! ciphertext did not open would help an attacker, never a user.

/// What went wrong in a cryptographic operation or while parsing its inputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// A value is not the lowercase (or uppercase) hexadecimal it should be.
    #[error("{what} is not valid hex")]
    Hex {
        /// Which value was being decoded.
        what: &'static str,
    },
    /// A value has the wrong length.
    #[error("{what} must be {expected} bytes, got {actual}")]
    Length {
        /// Which value was checked.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it had.
        actual: usize,
    },
    /// Percent-decoding failed (a malformed `%XX` or bytes that are not UTF-8).
    #[error("malformed percent-encoding")]
    PercentDecoding,
    /// A JSON document could not be parsed into the expected shape.
    #[error("invalid {what}: {message}")]
    Json {
        /// What was being parsed.
        what: &'static str,
        /// The parser's message.
        message: String,
    },
    /// A JWK member is missing or has a value the key type does not allow.
    #[error("invalid JWK member `{member}`: {reason}")]
    JwkMember {
        /// The member's name, as in the JWK.
        member: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JWK has a member its key type does not define.
    #[error("unexpected JWK member `{0}`")]
    JwkUnknownMember(String),
    /// An RSA key that the library refused (wrong size, inconsistent components, ...).
    #[error("invalid RSA key: {0}")]
    RsaKey(&'static str),
    /// The plaintext is longer than RSA-OAEP-256 with this key can carry.
    #[error("message of {actual} bytes is too long for RSA-OAEP-256 (at most {max} bytes)")]
    RsaMessageTooLong {
        /// The encoded plaintext's length.
        actual: usize,
        /// The key's capacity.
        max: usize,
    },
    /// A ciphertext did not decrypt or authenticate. Nothing more is said, on purpose.
    #[error("decryption failed")]
    Decrypt,
    /// An SRP value was refused (zero modulo N, out of range, or a proof that does not match).
    #[error("SRP: {0}")]
    Srp(&'static str),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// gzip compression or decompression failed.
    #[error("gzip: {0}")]
    Gzip(String),
}
