//! Text encodings the app's protocol relies on.
//!
//! * Lowercase hex, which every binary value on the wire uses.
//! * JavaScript's `encodeURIComponent` and `decodeURIComponent`, which the app applies to every
//!   string before AES or RSA encryption (insomnia-wire.md §1.1, §1.3). The encoder keeps exactly
//!   JavaScript's unreserved set, so our ciphertexts hold the very bytes the app's would.

use crate::CryptoError;

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// Decodes hex (either case) into bytes; `what` names the value in the error.
pub fn from_hex(text: &str, what: &'static str) -> Result<Vec<u8>, CryptoError> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(CryptoError::Hex { what });
    }
    digits
        .chunks_exact(2)
        .map(|pair| Ok((hex_digit(pair[0], what)? << 4) | hex_digit(pair[1], what)?))
        .collect()
}

/// Decodes hex into exactly `N` bytes.
pub fn from_hex_array<const N: usize>(
    text: &str,
    what: &'static str,
) -> Result<[u8; N], CryptoError> {
    let bytes = from_hex(text, what)?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| CryptoError::Length {
        what,
        expected: N,
        actual,
    })
}

/// Whether `text` is exactly `len` lowercase hex digits (the form the protocol's ids take).
pub fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex_digit(digit: u8, what: &'static str) -> Result<u8, CryptoError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(CryptoError::Hex { what }),
    }
}

/// Whether JavaScript's `encodeURIComponent` leaves `byte` as it is.
fn is_uri_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// JavaScript's `encodeURIComponent`: UTF-8 bytes outside the unreserved set become `%XX`
/// (uppercase hex). A Rust `&str` has no lone surrogates, so this never fails.
pub fn encode_uri_component(text: &str) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if is_uri_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// JavaScript's `decodeURIComponent` over bytes: every `%XX` (reserved characters included)
/// becomes its byte, other bytes stay, and the result must be UTF-8. A `%` not followed by two hex
/// digits is an error, as it is in JavaScript.
pub fn decode_uri_component(encoded: &[u8]) -> Result<String, CryptoError> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut idx = 0;
    while idx < encoded.len() {
        if encoded[idx] == b'%' {
            let pair = encoded
                .get(idx + 1..idx + 3)
                .ok_or(CryptoError::PercentDecoding)?;
            let high = hex_digit(pair[0], "").map_err(|_| CryptoError::PercentDecoding)?;
            let low = hex_digit(pair[1], "").map_err(|_| CryptoError::PercentDecoding)?;
            out.push((high << 4) | low);
            idx += 3;
        } else {
            out.push(encoded[idx]);
            idx += 1;
        }
    }
    String::from_utf8(out).map_err(|_| CryptoError::PercentDecoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_javascript() {
        // Expected strings are what `encodeURIComponent` prints in Node.js.
        assert_eq!(
            encode_uri_component("Hello World! ü"),
            "Hello%20World!%20%C3%BC"
        );
        assert_eq!(
            encode_uri_component("a-_.!~*'()b;,/?:@&=+$#%"),
            "a-_.!~*'()b%3B%2C%2F%3F%3A%40%26%3D%2B%24%23%25"
        );
        assert_eq!(encode_uri_component("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn decodes_reserved_and_rejects_malformed() {
        assert_eq!(decode_uri_component(b"%3b%3B%2F+").as_deref(), Ok(";;/+"));
        assert_eq!(
            decode_uri_component(b"%"),
            Err(CryptoError::PercentDecoding)
        );
        assert_eq!(
            decode_uri_component(b"%4"),
            Err(CryptoError::PercentDecoding)
        );
        assert_eq!(
            decode_uri_component(b"%zz"),
            Err(CryptoError::PercentDecoding)
        );
        // A lone continuation byte is not UTF-8; JavaScript throws URIError here too.
        assert_eq!(
            decode_uri_component(b"%80"),
            Err(CryptoError::PercentDecoding)
        );
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(to_hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(from_hex("00ABff", "x"), Ok(vec![0x00, 0xab, 0xff]));
        assert_eq!(from_hex("abc", "x"), Err(CryptoError::Hex { what: "x" }));
        assert_eq!(from_hex("zz", "x"), Err(CryptoError::Hex { what: "x" }));
        assert_eq!(
            from_hex_array::<2>("aabbcc", "x"),
            Err(CryptoError::Length {
                what: "x",
                expected: 2,
                actual: 3
            })
        );
        assert!(is_lower_hex("0a", 2));
        assert!(!is_lower_hex("0A", 2));
        assert!(!is_lower_hex("0a", 4));
    }
}
