//! Input checks shared by the handlers. Each failure names the field, so a client author knows
//! what to fix; none echoes a secret.

use hypnos_crypto::{
    aes::AesMessage,
    encoding::{from_hex, is_lower_hex, to_hex},
    jwk::RsaPublicJwk,
    kdf::sanitize_email,
    srp,
};

use crate::error::ApiError;

/// Longest e-mail accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;
/// Longest name accepted, in characters.
const MAX_NAME: usize = 100;
/// Longest encrypted key accepted (an encrypted 2048-bit private JWK is about 3.7 KB).
const MAX_ENCRYPTED_KEY: usize = 16 * 1024;

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

/// An e-mail as the app sends it: trimmed, lower-cased, with one `@` and no spaces.
pub fn email(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > MAX_EMAIL {
        return Err(bad(format!("{field} must be 1 to {MAX_EMAIL} bytes")));
    }
    if sanitize_email(value) != value {
        return Err(bad(format!(
            "{field} must be trimmed and lower-case, as the app sends it"
        )));
    }
    let mut parts = value.split('@');
    let valid = matches!((parts.next(), parts.next(), parts.next()), (Some(local), Some(domain), None)
        if !local.is_empty() && !domain.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control()));
    if valid {
        Ok(())
    } else {
        Err(bad(format!("{field} is not an e-mail address")))
    }
}

/// A person's name: at most 100 characters, no control characters.
pub fn name(field: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_NAME || value.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field} must be at most {MAX_NAME} characters without control characters"
        )));
    }
    Ok(())
}

/// A salt: 64 lowercase hex digits (32 bytes).
pub fn salt(field: &str, value: &str) -> Result<(), ApiError> {
    if is_lower_hex(value, 64) {
        Ok(())
    } else {
        Err(bad(format!("{field} must be 64 lowercase hex digits")))
    }
}

/// An SRP verifier: 512 lowercase hex digits, a value in [1, N − 1].
pub fn verifier(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    if !is_lower_hex(value, 512) {
        return Err(bad(format!("{field} must be 512 lowercase hex digits")));
    }
    let bytes = from_hex(value, "verifier").map_err(|_| bad(format!("{field} is not hex")))?;
    srp::check_verifier(&bytes).map_err(|_| bad(format!("{field} is not a valid SRP verifier")))?;
    Ok(bytes)
}

/// Fewest and most hex digits of a vault key's salt (the app sends 64).
const VAULT_SALT_DIGITS: std::ops::RangeInclusive<usize> = 16..=128;

/// A vault key's SRP salt (insomnia-wire.md §5.1): 16 to 128 hex digits of either case, an even
/// number of them. Kept as sent; the server never uses it (the client hex-decodes it into `s`).
pub fn vault_salt(field: &str, value: &str) -> Result<(), ApiError> {
    let fits = VAULT_SALT_DIGITS.contains(&value.len())
        && value.len().is_multiple_of(2)
        && value.bytes().all(|byte| byte.is_ascii_hexdigit());
    if fits {
        Ok(())
    } else {
        Err(bad(format!(
            "{field} must be an even number of hex digits, {} to {}",
            VAULT_SALT_DIGITS.start(),
            VAULT_SALT_DIGITS.end()
        )))
    }
}

/// A vault key's SRP verifier: hex of either case, an even number of digits, at most 256 bytes
/// (srp-js pads it to 256; a shorter one is padded here), and, as the sign-up verifier, a value
/// in [1, N − 1]. Returns it as the 512 lowercase hex digits the server stores.
pub fn vault_verifier(field: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() || value.len() > 2 * srp::LEN {
        return Err(bad(format!(
            "{field} must be 1 to {} bytes of hex",
            srp::LEN
        )));
    }
    let bytes = from_hex(value, "verifier").map_err(|_| bad(format!("{field} is not hex")))?;
    let mut padded = [0u8; srp::LEN];
    padded[srp::LEN - bytes.len()..].copy_from_slice(&bytes);
    srp::check_verifier(&padded)
        .map_err(|_| bad(format!("{field} is not a valid SRP verifier")))?;
    Ok(to_hex(&padded))
}

/// An RSA-OAEP-256 public JWK as JSON text.
pub fn public_key(field: &str, value: &str) -> Result<(), ApiError> {
    RsaPublicJwk::from_json(value)
        .map(|_| ())
        .map_err(|err| bad(format!("{field} is not an RSA-OAEP-256 public JWK: {err}")))
}

/// An AES message `{iv,t,ad,d}` as JSON text.
pub fn aes_message(field: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_ENCRYPTED_KEY {
        return Err(bad(format!(
            "{field} is longer than {MAX_ENCRYPTED_KEY} bytes"
        )));
    }
    AesMessage::from_json(value)
        .map(|_| ())
        .map_err(|err| bad(format!("{field} is not an AES-GCM message: {err}")))
}

/// A fixed-length lowercase hex value, decoded.
pub fn hex_exact(field: &str, value: &str, digits: usize) -> Result<Vec<u8>, ApiError> {
    if !is_lower_hex(value, digits) {
        return Err(bad(format!(
            "{field} must be {digits} lowercase hex digits"
        )));
    }
    from_hex(value, "value").map_err(|_| bad(format!("{field} is not hex")))
}

/// An id the client names (a project, an account, an invitation): 1 to 64 ASCII letters,
/// digits, `_` or `-`.
pub fn id(field: &str, value: &str) -> Result<(), ApiError> {
    if crate::membership::is_id(value) {
        Ok(())
    } else {
        Err(bad(format!(
            "{field} must be 1 to 64 letters, digits, _ or -"
        )))
    }
}

/// The `per_page` of a paged list (members, collaborators): `default` when absent, else 1 to
/// `max`.
pub fn per_page(value: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    let per_page = value.unwrap_or(default);
    if (1..=max).contains(&per_page) {
        Ok(per_page)
    } else {
        Err(bad(format!("per_page must be from 1 to {max}")))
    }
}

/// A project key encrypted to a member: RSA-OAEP-256 with a 2048-bit key, as 512 lowercase hex
/// digits.
pub fn wrapped_key(field: &str, value: &str) -> Result<(), ApiError> {
    hex_exact(field, value, 512).map(drop)
}

/// The credentials a sign-up or a reset uploads, checked together.
pub struct Credentials<'a> {
    /// `saltKey`.
    pub salt_key: &'a str,
    /// `saltAuth`.
    pub salt_auth: &'a str,
    /// `saltEnc`.
    pub salt_enc: &'a str,
    /// `verifier`.
    pub verifier: &'a str,
    /// `publicKey`.
    pub public_key: &'a str,
    /// `encPrivateKey`.
    pub enc_private_key: &'a str,
    /// `encSymmetricKey`.
    pub enc_symmetric_key: &'a str,
}

/// Checks every field of a new set of credentials, naming the first that is wrong.
pub fn credentials(fields: &Credentials<'_>) -> Result<(), ApiError> {
    salt("saltKey", fields.salt_key)?;
    salt("saltAuth", fields.salt_auth)?;
    salt("saltEnc", fields.salt_enc)?;
    verifier("verifier", fields.verifier)?;
    public_key("publicKey", fields.public_key)?;
    aes_message("encPrivateKey", fields.enc_private_key)?;
    aes_message("encSymmetricKey", fields.enc_symmetric_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_salts_are_even_hex_of_a_sane_length() {
        assert!(vault_salt("salt", &"ab".repeat(32)).is_ok());
        assert!(vault_salt("salt", &"AB".repeat(32)).is_ok());
        assert!(vault_salt("salt", &"ab".repeat(8)).is_ok());
        assert!(vault_salt("salt", &"ab".repeat(64)).is_ok());
        assert!(vault_salt("salt", &"ab".repeat(7)).is_err());
        assert!(vault_salt("salt", &"ab".repeat(65)).is_err());
        assert!(vault_salt("salt", &format!("{}a", "ab".repeat(16))).is_err());
        assert!(vault_salt("salt", &"zz".repeat(32)).is_err());
    }

    #[test]
    fn vault_verifiers_are_padded_and_checked_like_sign_up_verifiers() {
        let padded = vault_verifier("verifier", "02").expect("a short verifier is padded");
        assert_eq!(padded, format!("{}02", "00".repeat(srp::LEN - 1)));
        assert_eq!(
            vault_verifier("verifier", &"0A".repeat(srp::LEN)).expect("uppercase hex"),
            "0a".repeat(srp::LEN)
        );
        assert!(verifier("verifier", &padded).is_ok());
        for refused in [
            String::new(),
            "00".repeat(srp::LEN),
            "ff".repeat(srp::LEN),
            "01".repeat(srp::LEN + 1),
            "0".into(),
            "zz".into(),
        ] {
            assert!(vault_verifier("verifier", &refused).is_err(), "{refused}");
        }
    }
}
