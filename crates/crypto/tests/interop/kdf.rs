//! deriveKey and the app's input clean-up.

use hypnos_crypto::{
    kdf::{derive_key, sanitize_email, sanitize_passphrase},
    random,
};
use serde_json::json;

use crate::{
    harness::Harness,
    inputs::{Rng, random_text},
};

#[test]
fn derive_key_matches() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    for round in 0..3 {
        let passphrase = match round {
            0 => format!("pässwörd 😀 {}", random_text(&mut rng, 8)),
            _ => random_text(&mut rng, 24),
        };
        let local: String = (0..rng.range(1, 12))
            .map(|_| char::from(*rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789._+-")))
            .collect();
        let email = if round == 2 {
            format!("{local}@bücher.example")
        } else {
            format!("{local}@example.com")
        };
        let salt = random::random_hex_32().expect("the system RNG works");
        let case = format!("passphrase {passphrase:?}, email {email:?}, salt {salt}");

        let rust = derive_key(&passphrase, &email, &salt);
        let js_key = js.ok_str(
            "derive_key",
            json!({"passphrase": passphrase, "email": email, "salt": salt}),
            format!("deriveKey, {case}"),
        );
        assert_eq!(
            rust.as_str(),
            js_key,
            "deriveKey: Rust and JS (hkdf@0.0.2 + PBKDF2) differ; {case}"
        );
    }

    // The app's no-WebCrypto fallback (forge.pkcs5.pbkdf2 given a JS string) agrees for an ASCII
    // passphrase; for other characters forge takes one byte per UTF-16 unit, not UTF-8 (the app
    // runs on Electron, which always has WebCrypto, so that path is not taken).
    let passphrase: String = (0..20)
        .map(|_| char::from(rng.range(0x21, 0x7e) as u8))
        .collect();
    let salt = random::random_hex_32().expect("the system RNG works");
    let email = "someone@example.com";
    let case = format!("passphrase {passphrase:?}, email {email:?}, salt {salt}");
    let fallback = js.ok_str(
        "derive_key_forge_fallback",
        json!({"passphrase": passphrase, "email": email, "salt": salt}),
        format!("deriveKey forge fallback, {case}"),
    );
    assert_eq!(
        derive_key(&passphrase, email, &salt).as_str(),
        fallback,
        "deriveKey: Rust and the app's forge fallback differ for an ASCII passphrase; {case}"
    );
}

/// The app's input clean-up: JavaScript's `trim()` (whose whitespace set differs from Rust's),
/// `toLowerCase()` and `normalize('NFKD')`, on random texts padded with every kind of whitespace
/// either language knows. Texts stay within long-assigned Unicode (Latin, CJK, symbols): Node 20's
/// ICU and the unicode-normalization crate disagree on a few code points added recently.
#[test]
fn sanitize_matches() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    const SPACES: &[char] = &[
        '\u{9}', '\u{a}', '\u{b}', '\u{c}', '\u{d}', ' ', '\u{85}', '\u{a0}', '\u{1680}',
        '\u{2000}', '\u{200a}', '\u{200b}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}',
        '\u{3000}', '\u{feff}', '\u{180e}',
    ];
    for _ in 0..40 {
        let pad =
            |rng: &mut Rng| -> String { (0..rng.range(0, 3)).map(|_| *rng.pick(SPACES)).collect() };
        let core: String = (0..rng.range(1, 12))
            .map(|_| match rng.below(4) {
                0 => char::from(rng.range(0x41, 0x5a) as u8),
                1 => char::from_u32(rng.range(0xc0, 0x17f)).expect("Latin-1 and Latin Extended-A"),
                2 => *rng.pick(&['ﬁ', 'Å', '①', 'ｶ', 'é', '\u{1e9e}', 'İ']),
                _ => *rng.pick(SPACES),
            })
            .collect();
        let text = format!("{}{core}{}", pad(&mut rng), pad(&mut rng));
        let result = js
            .call("sanitize", json!({"email": text, "passphrase": text}))
            .unwrap_or_else(|err| panic!("sanitize {text:?}: {err}"));
        assert_eq!(
            sanitize_email(&text),
            result["email"].as_str().expect("a string"),
            "email clean-up differs for {text:?}"
        );
        assert_eq!(
            sanitize_passphrase(&text).as_str(),
            result["passphrase"].as_str().expect("a string"),
            "passphrase clean-up differs for {text:?}"
        );
    }
}
