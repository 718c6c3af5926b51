//! Property tests: every encoding and cipher round-trips, SRP's two halves agree on random
//! inputs (and disagree on a wrong password), and the deterministic stringify is a faithful,
//! canonical JSON writer.
#![allow(
    clippy::unwrap_used,
    reason = "a failing property should panic with its input"
)]

use std::sync::LazyLock;

use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string, encrypt_string},
    encoding::{decode_uri_component, encode_uri_component, from_hex, to_hex},
    jwk::SymmetricJwk,
    rsa::{MAX_PLAINTEXT_LEN, RsaPrivateKey, RsaPublicKey},
    sealed_box,
    srp::{ClientHandshake, ClientSecret, ServerHandshake, compute_verifier},
    sync::{deterministic_stringify, gunzip, gzip, js_number, snapshot_id},
};
use proptest::prelude::*;
use serde_json::Value;

static RSA_KEY: LazyLock<(RsaPrivateKey, RsaPublicKey)> = LazyLock::new(|| {
    let private = RsaPrivateKey::generate().unwrap();
    let public = private.public_key().unwrap();
    (private, public)
});

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |x| x.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// The same value with every number replaced by its f64, which is what JavaScript holds.
fn as_javascript(value: &Value) -> Value {
    match value {
        Value::Number(number) => Value::from(number.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(as_javascript).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, item)| (key.clone(), as_javascript(item)))
                .collect(),
        ),
        other => other.clone(),
    }
}

proptest! {
    #[test]
    fn uri_component_round_trips(text in any::<String>()) {
        let encoded = encode_uri_component(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%".contains(&b)));
        prop_assert_eq!(decode_uri_component(encoded.as_bytes()).unwrap(), text);
    }

    #[test]
    fn hex_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(from_hex(&to_hex(&bytes), "x").unwrap(), bytes);
    }

    #[test]
    fn aes_bytes_round_trip(
        key in any::<[u8; 32]>(),
        plaintext in prop::collection::vec(any::<u8>(), 0..2048),
        ad in prop::collection::vec(any::<u8>(), 0..64),
        flip in any::<prop::sample::Index>(),
    ) {
        let key = AesKey::from_bytes(key);
        let message = AesMessage::seal(&key, &plaintext, &ad).unwrap();
        let opened = message.open(&key).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());
        for text in [message.to_json(), message.to_json_pretty()] {
            prop_assert_eq!(&AesMessage::from_json(&text).unwrap(), &message);
        }
        let mut tampered = message.clone();
        if tampered.data.is_empty() {
            tampered.tag[0] ^= 1;
        } else {
            let idx = flip.index(tampered.data.len());
            tampered.data[idx] ^= 0x80;
        }
        prop_assert!(tampered.open(&key).is_err());
    }

    #[test]
    fn aes_string_round_trip(key in any::<[u8; 32]>(), text in any::<String>()) {
        let key = AesKey::from_bytes(key);
        let message = encrypt_string(&key, &text).unwrap();
        let opened = decrypt_string(&key, &message).unwrap();
        prop_assert_eq!(opened.as_str(), text.as_str());
    }

    #[test]
    fn symmetric_jwk_round_trips(key in any::<[u8; 32]>()) {
        let jwk = AesKey::from_bytes(key).to_jwk();
        let text = jwk.to_json();
        prop_assert_eq!(text.len(), 122);
        prop_assert_eq!(encode_uri_component(&text).len(), MAX_PLAINTEXT_LEN);
        let parsed = SymmetricJwk::from_json(&text).unwrap();
        let parsed_key = parsed.key();
        prop_assert_eq!(parsed_key.as_bytes(), &key);
    }

    #[test]
    fn stringify_is_canonical_json(value in json_value()) {
        let text = deterministic_stringify(&value);
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        // Faithful: it parses back to the value JavaScript would hold.
        prop_assert_eq!(&as_javascript(&reparsed), &as_javascript(&value));
        // Canonical: writing the parsed text again gives the same text.
        prop_assert_eq!(deterministic_stringify(&reparsed), text);
    }

    #[test]
    fn js_numbers_round_trip(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let text = js_number(x);
        let back: f64 = text.parse().unwrap();
        prop_assert_eq!(back, if x == 0.0 { 0.0 } else { x });
    }

    #[test]
    fn snapshot_id_ignores_blob_order(mut blobs in prop::collection::vec("[0-9a-f]{40}", 0..8), seed in any::<u64>()) {
        let first = snapshot_id("prj_1", "0000000000000000000000000000000000000000", &blobs);
        let len = blobs.len();
        if len > 1 {
            blobs.swap((seed as usize) % len, (seed as usize / 7) % len);
        }
        prop_assert_eq!(snapshot_id("prj_1", "0000000000000000000000000000000000000000", &blobs), first);
    }

    #[test]
    fn gzip_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert_eq!(gunzip(&gzip(&bytes), bytes.len()).unwrap(), bytes);
    }

    #[test]
    fn sealed_box_round_trips(message in prop::collection::vec(any::<u8>(), 0..512)) {
        let pair = sealed_box::KeyPair::generate();
        let sealed = sealed_box::seal(&pair.public, &message).unwrap();
        prop_assert_eq!(sealed.len(), message.len() + sealed_box::OVERHEAD);
        let opened = sealed_box::open(&pair.secret, &sealed).unwrap();
        prop_assert_eq!(opened.as_slice(), message.as_slice());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn rsa_round_trips(text in "\\PC{0,40}") {
        let (private, public) = &*RSA_KEY;
        match public.encrypt_string(&text) {
            Ok(ciphertext) => {
                prop_assert_eq!(ciphertext.len(), 512);
                let opened = private.decrypt_string(&ciphertext).unwrap();
                prop_assert_eq!(opened.as_str(), text.as_str());
            }
            Err(_) => prop_assert!(encode_uri_component(&text).len() > MAX_PLAINTEXT_LEN),
        }
    }

    #[test]
    fn srp_halves_agree(
        salt in any::<[u8; 32]>(),
        identity in "\\PC{1,24}",
        password in any::<[u8; 32]>(),
        wrong in any::<[u8; 32]>(),
    ) {
        let verifier = compute_verifier(&salt, identity.as_bytes(), &password);
        let client = ClientHandshake::start(&salt, identity.as_bytes(), &password).unwrap();
        let server = ServerHandshake::start(&verifier, client.a_pub()).unwrap();
        let proof = client.process(&server.b_pub).unwrap();
        let (m2, server_key) = server.proof.verify(proof.m1()).unwrap();
        let client_key = proof.verify_server(&m2).unwrap();
        prop_assert_eq!(client_key.as_ref(), server_key.as_ref());

        prop_assume!(wrong != password);
        let impostor = ClientHandshake::start(&salt, identity.as_bytes(), &wrong).unwrap();
        let server = ServerHandshake::start(&verifier, impostor.a_pub()).unwrap();
        let proof = impostor.process(&server.b_pub).unwrap();
        prop_assert!(server.proof.verify(proof.m1()).is_err());
        prop_assert!(proof.verify_server(&[0; 32]).is_err());
    }

    #[test]
    fn a_client_secret_serves_many_log_ins(
        salt in any::<[u8; 32]>(),
        password in any::<[u8; 32]>(),
        wrong in any::<[u8; 32]>(),
    ) {
        let verifier = compute_verifier(&salt, b"alice@example.com", &password);
        let secret = ClientSecret::new(&salt, b"alice@example.com", &password);
        let mut keys = Vec::new();
        for _ in 0..2 {
            let client = ClientHandshake::begin(secret.clone()).unwrap();
            let server = ServerHandshake::start(&verifier, client.a_pub()).unwrap();
            let proof = client.process(&server.b_pub).unwrap();
            let (m2, server_key) = server.proof.verify(proof.m1()).unwrap();
            let client_key = proof.verify_server(&m2).unwrap();
            prop_assert_eq!(client_key.as_ref(), server_key.as_ref());
            keys.push(server_key);
        }
        prop_assert_ne!(keys[0].as_ref(), keys[1].as_ref(), "each log-in has its own key");

        prop_assume!(wrong != password);
        let impostor = ClientSecret::new(&salt, b"alice@example.com", &wrong);
        let client = ClientHandshake::begin(impostor).unwrap();
        let server = ServerHandshake::start(&verifier, client.a_pub()).unwrap();
        let proof = client.process(&server.b_pub).unwrap();
        prop_assert!(server.proof.verify(proof.m1()).is_err());
    }
}
