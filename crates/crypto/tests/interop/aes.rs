//! AES-GCM: the string and byte APIs, both ways, with hex and JWK keys.

use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string, encrypt_string},
    encoding::{encode_uri_component, to_hex},
    jwk::SymmetricJwk,
};
use serde_json::{Value, json};

use crate::{
    harness::Harness,
    inputs::{Rng, sample_texts},
    messages::{hex_of, parse_json, short},
};

/// A key in both of the app's forms: the JS argument (hex string or JWK object) and the Rust key
/// obtained from that same form.
fn key_forms(key: &AesKey) -> [(&'static str, Value, AesKey); 2] {
    let hex = to_hex(key.as_bytes());
    let jwk_text = key.to_jwk().to_json();
    let jwk = parse_json(&jwk_text, "Rust A256GCM JWK");
    let from_hex = AesKey::from_hex(&hex).expect("Rust reads its own hex key");
    let from_jwk = SymmetricJwk::from_json(&jwk_text)
        .expect("Rust reads its own JWK")
        .key();
    [("hex", json!(hex), from_hex), ("JWK", jwk, from_jwk)]
}

#[test]
fn aes_string_api_both_ways() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    for text in sample_texts(&mut rng, 30, 40) {
        let key = AesKey::generate().expect("the system RNG works");
        let key_hex = to_hex(key.as_bytes());
        for (form, js_key, rust_key) in key_forms(&key) {
            let case = format!("text {:?}, key as {form} ({key_hex})", short(&text, 60));

            let message = encrypt_string(&rust_key, &text).expect("Rust encrypts");
            let decrypted = js.ok_str(
                "aes_decrypt_string",
                json!({"key": js_key, "message": parse_json(&message.to_json(), "Rust AES message")}),
                format!("AES string Rust→JS, {case}"),
            );
            assert_eq!(
                decrypted, text,
                "AES string Rust→JS: JS decrypted another text; {case}"
            );

            let js_message = js.ok(
                "aes_encrypt_string",
                json!({"key": js_key, "text": text}),
                format!("AES string JS→Rust, {case}"),
            );
            let parsed = AesMessage::from_json(&js_message.to_string()).unwrap_or_else(|err| {
                panic!(
                    "AES string JS→Rust: Rust refuses JS's message ({err}): {js_message}; {case}"
                )
            });
            let decrypted = decrypt_string(&rust_key, &parsed).unwrap_or_else(|err| {
                panic!("AES string JS→Rust: Rust cannot decrypt ({err}): {js_message}; {case}")
            });
            assert_eq!(
                decrypted.as_str(),
                text,
                "AES string JS→Rust: Rust decrypted another text; {case}"
            );

            // What is under GCM must be the same percent-encoding on both sides, byte for byte.
            let js_encoded = parsed.open(&rust_key).expect("it decrypted above");
            let rust_encoded = encode_uri_component(&text);
            assert_eq!(
                String::from_utf8_lossy(&js_encoded),
                rust_encoded,
                "AES string: JS's encodeURIComponent differs from Rust's; {case}"
            );
            assert!(
                parsed.ad.is_empty(),
                "AES string JS→Rust: JS set AD; {case}"
            );
        }
    }
}

#[test]
fn aes_byte_api_both_ways() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let mut lengths = vec![0, 1, 15, 16, 17, 4096];
    lengths.extend((0..20).map(|_| rng.below(600) as usize));
    for len in lengths {
        let plaintext = rng.bytes(len);
        let plaintext_hex = to_hex(&plaintext);
        let key = AesKey::generate().expect("the system RNG works");
        let key_hex = to_hex(key.as_bytes());
        for (form, js_key, rust_key) in key_forms(&key) {
            let case = format!(
                "{len} bytes {}, key as {form} ({key_hex})",
                short(&plaintext_hex, 64)
            );

            let message = AesMessage::seal(&rust_key, &plaintext, b"").expect("Rust encrypts");
            let decrypted = js.ok(
                "aes_decrypt_bytes",
                json!({"key": js_key, "message": parse_json(&message.to_json_pretty(), "Rust AES message")}),
                format!("AES bytes Rust→JS, {case}"),
            );
            assert_eq!(
                hex_of(&decrypted, &case),
                plaintext,
                "AES bytes Rust→JS: JS decrypted other bytes; {case}"
            );

            let js_message = js.ok(
                "aes_encrypt_bytes",
                json!({"key": js_key, "hex": plaintext_hex}),
                format!("AES bytes JS→Rust, {case}"),
            );
            let parsed = AesMessage::from_json(&js_message.to_string()).unwrap_or_else(|err| {
                panic!("AES bytes JS→Rust: Rust refuses JS's message ({err}); {case}")
            });
            let decrypted = parsed.open(&rust_key).unwrap_or_else(|err| {
                panic!("AES bytes JS→Rust: Rust cannot decrypt ({err}); {case}")
            });
            assert_eq!(
                decrypted.as_slice(),
                plaintext.as_slice(),
                "AES bytes JS→Rust: Rust decrypted other bytes; {case}"
            );
        }
    }
}
