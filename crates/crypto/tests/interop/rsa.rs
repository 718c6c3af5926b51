//! RSA-OAEP-256: a Rust key and a WebCrypto key, both ways.

use hypnos_crypto::{
    aes::AesKey,
    encoding::encode_uri_component,
    jwk::RsaPublicJwk,
    rsa::{MAX_PLAINTEXT_LEN, RsaPrivateKey, RsaPublicKey},
};
use serde_json::json;

use crate::{
    harness::Harness,
    inputs::{Rng, random_rsa_text},
    messages::{first_difference, parse_json, short},
};

/// A project key as the app RSA-encrypts it: the compact A256GCM JWK, exactly 190 bytes encoded.
fn project_key_jwk() -> String {
    let jwk = AesKey::generate()
        .expect("the system RNG works")
        .to_jwk()
        .to_json()
        .to_string();
    assert_eq!(
        encode_uri_component(&jwk).len(),
        MAX_PLAINTEXT_LEN,
        "a project-key JWK must encode to exactly 190 bytes: {jwk}"
    );
    jwk
}

#[test]
fn rsa_rust_key_both_ways() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let private = RsaPrivateKey::generate().expect("Rust generates an RSA key");
    let public = private
        .public_key()
        .expect("a generated key has a public half");
    let public_jwk = parse_json(&private.public_jwk().to_json(), "Rust public JWK");
    let private_jwk = parse_json(&private.jwk().to_json(), "Rust private JWK");
    let key_id = short(&private.public_jwk().to_json(), 90);

    let mut texts = vec![project_key_jwk(), project_key_jwk()];
    texts.extend((0..6).map(|_| random_rsa_text(&mut rng)));
    for text in &texts {
        let case = format!("Rust-generated key {key_id}, text {:?}", short(text, 60));

        let ciphertext = public.encrypt_string(text).expect("Rust encrypts");
        let decrypted = js.ok_str(
            "rsa_decrypt",
            json!({"privateJwk": private_jwk, "hex": ciphertext}),
            format!("RSA Rust→JS, {case}"),
        );
        assert_eq!(
            &decrypted, text,
            "RSA Rust→JS: JS decrypted another text; {case}"
        );

        let js_ciphertext = js.ok_str(
            "rsa_encrypt",
            json!({"publicJwk": public_jwk, "text": text}),
            format!("RSA JS→Rust, {case}"),
        );
        assert_eq!(
            js_ciphertext.len(),
            512,
            "RSA JS→Rust: ciphertext is not 512 hex; {case}"
        );
        let decrypted = private
            .decrypt_string(&js_ciphertext)
            .unwrap_or_else(|err| panic!("RSA JS→Rust: Rust cannot decrypt ({err}); {case}"));
        assert_eq!(
            decrypted.as_str(),
            text,
            "RSA JS→Rust: Rust decrypted another text; {case}"
        );
    }

    // One byte past the capacity: both sides refuse.
    let too_long = format!("{}a", texts[0]);
    assert!(
        public.encrypt_string(&too_long).is_err(),
        "RSA capacity: Rust encrypted 191 encoded bytes: {too_long}"
    );
    assert!(
        js.call(
            "rsa_encrypt",
            json!({"publicJwk": public_jwk, "text": too_long})
        )
        .is_err(),
        "RSA capacity: JS encrypted 191 encoded bytes: {too_long}"
    );
}

#[test]
fn rsa_webcrypto_key_parses_reserializes_and_round_trips() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let generated = js.ok("rsa_generate", json!({}), "WebCrypto RSA generation");
    let text_of = |name: &str| -> String {
        generated[name]
            .as_str()
            .unwrap_or_else(|| panic!("rsa_generate returned no {name}"))
            .to_string()
    };
    let public_text = text_of("publicJwkText");
    let public_sorted = text_of("publicJwkSortedText");
    let private_sorted = text_of("privateJwkSortedText");
    let private_text = text_of("privateJwkText");
    let key_id = short(&public_sorted, 90);

    let public_jwk = RsaPublicJwk::from_json(&public_text)
        .unwrap_or_else(|err| panic!("Rust refuses WebCrypto's public JWK ({err}): {public_text}"));
    let private = RsaPrivateKey::from_jwk_json(&private_text).unwrap_or_else(|err| {
        panic!("Rust refuses WebCrypto's private JWK ({err}); public half {key_id}")
    });
    let public = RsaPublicKey::from_jwk_json(&public_text).unwrap_or_else(|err| {
        panic!("Rust refuses WebCrypto's public JWK as a key ({err}): {public_text}")
    });

    // Byte-for-byte re-serialization. Node's WebCrypto orders members `key_ops, ext, kty, n, e,
    // alg` (Node's own order); Chromium's, which the app runs on, and this crate use name order.
    // So the reference text is JSON.stringify of the same WebCrypto JWK with its members in name
    // order, made by the harness; names, values and compactness are all compared.
    assert_eq!(
        public_jwk.to_json(),
        public_sorted,
        "RSA WebCrypto public JWK: Rust re-serialization differs; {}",
        first_difference(&public_jwk.to_json(), &public_sorted)
    );
    assert!(
        private.jwk().to_json().as_str() == private_sorted,
        "RSA WebCrypto private JWK: Rust re-serialization differs (values not shown); public half {key_id}"
    );
    assert_eq!(
        private.public_jwk(),
        &public_jwk,
        "RSA WebCrypto JWKs: the private JWK's public half differs from the public JWK; {key_id}"
    );
    // Node's own member order parses to the same members and values.
    assert_eq!(
        parse_json(&public_text, "WebCrypto public JWK"),
        parse_json(&public_sorted, "WebCrypto public JWK, sorted"),
        "RSA WebCrypto public JWK: the sorted copy differs from Node's; {public_text}"
    );

    let mut texts = vec![project_key_jwk()];
    texts.extend((0..4).map(|_| random_rsa_text(&mut rng)));
    for text in &texts {
        let case = format!("WebCrypto key {key_id}, text {:?}", short(text, 60));

        let ciphertext = public.encrypt_string(text).expect("Rust encrypts");
        let decrypted = js.ok_str(
            "rsa_decrypt",
            json!({"privateJwk": generated["privateJwk"], "hex": ciphertext}),
            format!("RSA Rust→JS, {case}"),
        );
        assert_eq!(
            &decrypted, text,
            "RSA Rust→JS: JS decrypted another text; {case}"
        );

        let js_ciphertext = js.ok_str(
            "rsa_encrypt",
            json!({"publicJwk": generated["publicJwk"], "text": text}),
            format!("RSA JS→Rust, {case}"),
        );
        let decrypted = private
            .decrypt_string(&js_ciphertext)
            .unwrap_or_else(|err| panic!("RSA JS→Rust: Rust cannot decrypt ({err}); {case}"));
        assert_eq!(
            decrypted.as_str(),
            text,
            "RSA JS→Rust: Rust decrypted another text; {case}"
        );
    }
}
