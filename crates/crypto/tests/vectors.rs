//! Fixed vectors: the protocol file's §7 (the app's own values), RFC 5869 HKDF, PBKDF2-HMAC-SHA256
//! and the Insomnia smoke-test account, each run through one check that names the failing case.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot read its data should panic"
)]

use std::num::NonZeroU32;

use aws_lc_rs::digest;
use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string},
    encoding::{from_hex, to_hex},
    jwk::{RsaPrivateJwk, SymmetricJwk},
    kdf::{derive_key, hkdf_sha256, pbkdf2_sha256},
    rsa::{RsaPrivateKey, RsaPublicKey},
    sealed_box,
    srp::{ClientHandshake, ServerHandshake, compute_verifier, compute_x},
    sync::{EMPTY_HASH, blob_content, blob_id, snapshot_id},
};
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector member {key} missing"))
}

fn sha256_hex(text: &str) -> String {
    to_hex(digest::digest(&digest::SHA256, text.as_bytes()).as_ref())
}

#[test]
fn derive_key_vector() {
    let vector = &data("protocol.json")["deriveKey"];
    let (passphrase, email, salt) = (
        text(vector, "passphrase"),
        text(vector, "email"),
        text(vector, "salt"),
    );
    let mut hkdf = [0u8; 32];
    hkdf_sha256(salt.as_bytes(), email.as_bytes(), &[], &mut hkdf).unwrap();
    assert_eq!(to_hex(&hkdf), text(vector, "hkdf"), "HKDF step");
    // The mistake the protocol file warns about (salt and input key swapped) gives another key:
    // this proves the vector tells the two orders apart.
    let mut swapped = [0u8; 32];
    hkdf_sha256(email.as_bytes(), salt.as_bytes(), &[], &mut swapped).unwrap();
    let mut swapped_key = [0u8; 32];
    pbkdf2_sha256(
        passphrase.as_bytes(),
        &swapped,
        NonZeroU32::new(100_000).unwrap(),
        &mut swapped_key,
    );
    assert!(
        to_hex(&swapped_key).starts_with(text(vector, "swappedKeyPrefix")),
        "the swapped-argument value the protocol file warns about"
    );
    assert_eq!(
        derive_key(passphrase, email, salt).as_str(),
        text(vector, "key")
    );
}

#[test]
fn srp_multiplier_k() {
    // k is only observable through B = k·v + g^b: with v = 1 and b = 0, B = k + 1.
    let protocol = data("protocol.json");
    let mut one = [0u8; 256];
    one[255] = 1;
    let a_pub = ClientHandshake::start_with_secret(b"s", b"i", b"p", &[1; 32]);
    let handshake = ServerHandshake::start_with_secret(&one, a_pub.a_pub(), &[0; 32]).unwrap();
    let mut k_plus_one = from_hex(text(&protocol, "srpK"), "k").unwrap();
    *k_plus_one.last_mut().unwrap() += 1;
    assert_eq!(&handshake.b_pub[224..], k_plus_one.as_slice());
    assert!(handshake.b_pub[..224].iter().all(|&b| b == 0));
}

#[test]
fn full_account_vector() {
    let v = &data("protocol.json")["account"];
    let email = text(v, "email");
    let passphrase = text(v, "passphrase");
    let auth_secret = derive_key(passphrase, email, text(v, "saltKey"));
    assert_eq!(auth_secret.as_str(), text(v, "authSecret"), "SEC_PWD_Auth");
    assert_eq!(
        derive_key(passphrase, email, text(v, "saltEnc")).as_str(),
        text(v, "encSecret"),
        "SEC_PWD_Enc"
    );
    let salt = from_hex(text(v, "saltAuth"), "saltAuth").unwrap();
    let password = from_hex(&auth_secret, "authSecret").unwrap();
    assert_eq!(
        to_hex(compute_x(&salt, email.as_bytes(), &password).as_ref()),
        text(v, "x"),
        "x"
    );
    let verifier = compute_verifier(&salt, email.as_bytes(), &password);
    let verifier_hex = to_hex(&verifier);
    assert!(
        verifier_hex.starts_with(text(v, "verifierPrefix")),
        "verifier"
    );
    assert_eq!(
        sha256_hex(&verifier_hex),
        text(v, "verifierHexSha256"),
        "verifier"
    );

    let a: [u8; 32] = from_hex(text(v, "a"), "a").unwrap().try_into().unwrap();
    let b: [u8; 32] = from_hex(text(v, "b"), "b").unwrap().try_into().unwrap();
    let client = ClientHandshake::start_with_secret(&salt, email.as_bytes(), &password, &a);
    let a_hex = to_hex(client.a_pub());
    assert!(a_hex.starts_with(text(v, "aPrefix")), "A");
    let a_hash = sha256_hex(&a_hex);
    assert!(
        a_hash.starts_with(text(v, "aHexSha256Prefix"))
            && a_hash.ends_with(text(v, "aHexSha256Suffix")),
        "A"
    );

    let server = ServerHandshake::start_with_secret(&verifier, client.a_pub(), &b).unwrap();
    let b_hex = to_hex(&server.b_pub);
    assert!(b_hex.starts_with(text(v, "bPrefix")), "B");
    let b_hash = sha256_hex(&b_hex);
    assert!(
        b_hash.starts_with(text(v, "bHexSha256Prefix"))
            && b_hash.ends_with(text(v, "bHexSha256Suffix")),
        "B"
    );
    let u = to_hex(
        digest::digest(
            &digest::SHA256,
            &[client.a_pub().as_slice(), &server.b_pub].concat(),
        )
        .as_ref(),
    );
    assert_eq!(u, text(v, "u"), "u");

    let proof = client.process(&server.b_pub).unwrap();
    assert_eq!(to_hex(proof.m1()), text(v, "m1"), "M1");
    let (m2, server_key) = server.proof.verify(proof.m1()).unwrap();
    assert_eq!(to_hex(&m2), text(v, "m2"), "M2");
    assert_eq!(to_hex(server_key.as_ref()), text(v, "k"), "K (session id)");
    let client_key = proof.verify_server(&m2).unwrap();
    assert_eq!(to_hex(client_key.as_ref()), text(v, "k"), "client K");
    // S is checked through K = H(PAD(S)) and M1; the vector's hash of S's hex is the same S.
    assert_eq!(text(v, "sHexSha256").len(), 64);
}

#[test]
fn aes_vector_decrypts() {
    let v = &data("protocol.json")["aes"];
    let jwk = SymmetricJwk::from_json(&format!(
        r#"{{"alg":"A256GCM","ext":true,"k":"{}","key_ops":["encrypt","decrypt"],"kty":"oct"}}"#,
        text(v, "jwkK")
    ))
    .unwrap();
    let message = AesMessage::from_json(text(v, "message")).unwrap();
    assert_eq!(message.to_json(), text(v, "message"), "re-serialization");
    assert_eq!(
        decrypt_string(&jwk.key(), &message).unwrap().as_str(),
        text(v, "plaintext")
    );
}

#[test]
fn blob_and_snapshot_ids() {
    let protocol = data("protocol.json");
    let blob = &protocol["blob"];
    let content = blob_content(&blob["document"]);
    assert_eq!(content, text(blob, "content"), "blob content");
    assert_eq!(blob_id(&content), text(blob, "id"), "blob id");

    let snapshot = &protocol["snapshot"];
    assert_eq!(text(snapshot, "parent"), EMPTY_HASH);
    let blobs: Vec<&str> = snapshot["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    assert_eq!(
        snapshot_id(text(snapshot, "project"), EMPTY_HASH, &blobs),
        text(snapshot, "id")
    );
}

/// §7.4, §7.5 and §7.7: the smoke-test's log-in code opens with the app's secret key to a token
/// and key; that key unlocks the account key, which unlocks the RSA private key, which is the
/// private half of the account's public key; and the account key's JWK is exactly 190 bytes
/// percent-encoded, the RSA-OAEP-256 limit.
#[test]
fn smoke_account_key_chain() {
    let v = data("smoke_account.json");
    let secret = sealed_box::key_from_base64(text(&v, "appSecretKey"), "secret").unwrap();
    let public = sealed_box::key_from_base64(text(&v, "appPublicKey"), "public").unwrap();
    let code = hypnos_crypto::encoding::decode_uri_component(text(&v, "code").as_bytes()).unwrap();
    let sealed = sealed_box::decode_base64(&code, "code").unwrap();
    assert_eq!(sealed.len(), 197);
    let opened = sealed_box::open(&secret, &sealed).unwrap();
    assert_eq!(opened.as_slice(), text(&v, "codeOpensTo").as_bytes());
    // The secret key's public half is the app's advertised key.
    let resealed = sealed_box::seal(&public, b"x").unwrap();
    assert_eq!(
        sealed_box::open(&secret, &resealed).unwrap().as_slice(),
        b"x"
    );

    let hand_off: Value = serde_json::from_slice(&opened).unwrap();
    let wrap_key = AesKey::from_hex(text(&hand_off, "key")).unwrap();
    let enc_symmetric = AesMessage::from_json(text(&v, "encSymmetricKey")).unwrap();
    let symmetric_text = decrypt_string(&wrap_key, &enc_symmetric).unwrap();
    assert_eq!(symmetric_text.as_str(), text(&v, "symmetricKey"));
    let symmetric = SymmetricJwk::from_json(&symmetric_text).unwrap();
    assert_eq!(symmetric.to_json().as_str(), text(&v, "symmetricKey"));

    let enc_private = AesMessage::from_json(text(&v, "encPrivateKey")).unwrap();
    let raw = enc_private.open(&symmetric.key()).unwrap();
    assert!(raw.starts_with(b"%7B%22alg%22%3A%22RSA-OAEP-256%22"));
    let private_text = decrypt_string(&symmetric.key(), &enc_private).unwrap();
    let private_jwk = RsaPrivateJwk::from_json(&private_text).unwrap();
    assert_eq!(
        private_jwk.to_json().as_str(),
        private_text.as_str(),
        "private JWK byte-exact"
    );
    let private = RsaPrivateKey::from_jwk(&private_jwk).unwrap();
    assert_eq!(private.public_jwk().to_json(), text(&v, "publicKey"));

    let public = RsaPublicKey::from_jwk_json(text(&v, "publicKey")).unwrap();
    let project_key = symmetric.to_json();
    assert_eq!(
        hypnos_crypto::encoding::encode_uri_component(&project_key).len(),
        190
    );
    let wrapped = public.encrypt_string(&project_key).unwrap();
    assert_eq!(wrapped.len(), 512);
    assert_eq!(
        private.decrypt_string(&wrapped).unwrap().as_str(),
        project_key.as_str()
    );
    let one_more = format!("{} ", project_key.as_str());
    assert!(
        public
            .encrypt_bytes(hypnos_crypto::encoding::encode_uri_component(&one_more).as_bytes())
            .is_err()
    );
}

#[test]
fn rfc5869_hkdf_sha256() {
    let rfc = data("rfc.json");
    for case in rfc["hkdf_sha256"]["cases"].as_array().unwrap() {
        let hex = |key| from_hex(text(case, key), "vector").unwrap();
        let mut okm = vec![0u8; hex("okm").len()];
        hkdf_sha256(&hex("salt"), &hex("ikm"), &hex("info"), &mut okm).unwrap();
        assert_eq!(
            to_hex(&okm),
            text(case, "okm"),
            "RFC 5869 {}",
            text(case, "name")
        );
    }
}

#[test]
fn pbkdf2_hmac_sha256_vectors() {
    let rfc = data("rfc.json");
    for case in rfc["pbkdf2_hmac_sha256"]["cases"].as_array().unwrap() {
        let expected = text(case, "dk");
        let mut dk = vec![0u8; expected.len() / 2];
        let rounds = NonZeroU32::new(case["rounds"].as_u64().unwrap() as u32).unwrap();
        pbkdf2_sha256(
            text(case, "password").as_bytes(),
            text(case, "salt").as_bytes(),
            rounds,
            &mut dk,
        );
        assert_eq!(to_hex(&dk), expected, "PBKDF2 {}", text(case, "name"));
    }
}
