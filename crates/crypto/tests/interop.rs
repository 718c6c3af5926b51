//! Cross-implementation tests: this crate against the npm packages the Insomnia app itself uses
//! (node-forge, hkdf, srp-js, tweetnacl, blakejs, and Node's WebCrypto), in both directions, with
//! fresh random inputs on every run.
//!
//! The JavaScript side is `interop/harness.js` at the workspace root, a long-running Node process
//! that answers one JSON request per line (see its header). It needs its packages installed:
//! `npm ci --prefix interop` from the workspace root. Without them these tests fail (they are never
//! skipped), and so they do without `node` on the PATH.
//!
//! One finding is built into the RSA test: Node's WebCrypto exports JWK members in its own order
//! (`key_ops, ext, kty, n, e, alg`), not in the name order Chromium's WebCrypto (the app's
//! runtime, and this crate) uses. The byte-for-byte comparison is therefore made against
//! `JSON.stringify` of the WebCrypto JWK with its members in name order; every member name and
//! value is still compared byte for byte.

#[path = "support/harness.rs"]
mod harness;

use harness::Harness;

use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string, encrypt_string},
    encoding::{encode_uri_component, from_hex, to_hex},
    jwk::{RsaPublicJwk, SymmetricJwk},
    kdf::{derive_key, sanitize_email, sanitize_passphrase},
    random,
    rsa::{MAX_PLAINTEXT_LEN, RsaPrivateKey, RsaPublicKey},
    sealed_box::{self, KeyPair},
    srp::{ClientHandshake, ServerHandshake, compute_verifier},
    sync::{blob_id, deterministic_stringify},
};
use serde_json::{Map, Number, Value, json};

// ------------------------------------------------------------------------------------------------
// Random inputs (from the system CSPRNG, so every run differs)
// ------------------------------------------------------------------------------------------------

struct Rng {
    pool: [u8; 4096],
    used: usize,
}

impl Rng {
    fn new() -> Self {
        Self {
            pool: [0; 4096],
            used: 4096,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.used == self.pool.len() {
            random::fill(&mut self.pool).expect("the system RNG works");
            self.used = 0;
        }
        self.used += 1;
        self.pool[self.used - 1]
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| (acc << 8) | u64::from(self.byte()))
    }

    /// Uniform enough in `0..bound` for test inputs (bias below 2^-32).
    fn below(&mut self, bound: u64) -> u64 {
        self.u64() % bound
    }

    fn range(&mut self, low: u32, high_inclusive: u32) -> u32 {
        low + self.below(u64::from(high_inclusive - low) + 1) as u32
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Characters that `encodeURIComponent` escapes although they are ASCII, and the ones it keeps.
const URI_SPECIALS: &[char] = &[
    '%', ';', '/', '?', ':', '@', '&', '=', '+', '$', '#', ',', '[', ']', ' ', '"', '<', '>', '\\',
    '^', '`', '{', '|', '}', '-', '_', '.', '!', '~', '*', '\'', '(', ')',
];

fn random_char(rng: &mut Rng) -> char {
    let code = match rng.below(10) {
        0..=2 => rng.range(0x20, 0x7e),
        3 => u32::from(*rng.pick(URI_SPECIALS)),
        4 => rng.range(0xa0, 0x24f),
        5 => rng.range(0x4e00, 0x9fff),
        6 => rng.range(0x1f300, 0x1faff),
        7 => rng.range(0x10000, 0x10ffff),
        8 => rng.range(0xe000, 0xffff),
        _ => *rng.pick(&[
            0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1b, 0x1f, 0x7f, 0x85, 0x2028, 0x2029,
            0xfeff,
        ]),
    };
    char::from_u32(code).expect("no range above reaches the surrogates")
}

fn random_text(rng: &mut Rng, max_chars: u32) -> String {
    let len = rng.range(0, max_chars);
    (0..len).map(|_| random_char(rng)).collect()
}

/// Fixed texts every run includes, then random ones.
fn sample_texts(rng: &mut Rng, random_count: usize, max_chars: u32) -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        "%;/?:@&=+$#",
        "%41%zz%",
        "héllo wörld 😀 \u{0}\u{7f}\u{e000}\u{ffff}\u{10ffff}",
        "-_.!~*'()",
    ]
    .iter()
    .map(|text| text.to_string())
    .collect();
    texts.extend((0..random_count).map(|_| random_text(rng, max_chars)));
    texts
}

/// A random text whose percent-encoding fits RSA-OAEP-256 (at most 190 bytes).
fn random_rsa_text(rng: &mut Rng) -> String {
    let mut text = random_text(rng, 80);
    while encode_uri_component(&text).len() > MAX_PLAINTEXT_LEN {
        text.pop();
    }
    text
}

/// Object keys every generated object may use, beside random ones: JavaScript's special names,
/// integer-like keys (which JS enumerates first), and keys whose UTF-8 and UTF-16 orders differ.
const SPECIAL_KEYS: &[&str] = &[
    "",
    "__proto__",
    "constructor",
    "toString",
    "1",
    "10",
    "2",
    "a",
    "A",
    "_id",
    "\u{e000}",
    "\u{ff61}",
    "\u{ffff}",
    "\u{10000}",
    "\u{1f600}",
];

/// Numbers that JavaScript prints in a notable way.
const SPECIAL_FLOATS: &[f64] = &[
    1e21,
    1e20,
    1.5e-7,
    1e-7,
    0.000001,
    123.456,
    -0.0,
    0.1,
    0.30000000000000004,
    5e-324,
    f64::MAX,
    f64::MIN_POSITIVE,
    -1e300,
    9007199254740992.0,
    123456789012345680000.0,
    1699999999999.0,
];

fn random_number(rng: &mut Rng) -> Number {
    let float = match rng.below(8) {
        0 => *rng.pick(SPECIAL_FLOATS),
        1 => return Number::from(rng.u64()),
        // Integers above 2^53, which JavaScript rounds to a double when it parses them.
        2 => return Number::from((1u64 << 53) + rng.below(1 << 20)),
        3 => return Number::from(-(rng.below(1 << 62) as i64)),
        4 => return Number::from(rng.range(0, 2000) as i64 - 1000),
        5 => f64::from_bits(rng.u64()),
        6 => {
            let mantissa = rng.u64() >> 11;
            let exponent = rng.range(0, 80) as i32 - 40;
            mantissa as f64 * 10f64.powi(exponent)
        }
        _ => (rng.range(0, 2_000_000) as f64 - 1_000_000.0) / 1000.0,
    };
    Number::from_f64(float).unwrap_or_else(|| Number::from(0))
}

fn random_key(rng: &mut Rng) -> String {
    if rng.below(3) == 0 {
        (*rng.pick(SPECIAL_KEYS)).to_string()
    } else {
        random_text(rng, 6)
    }
}

fn random_value(rng: &mut Rng, depth: u32) -> Value {
    let kinds = if depth == 0 { 6 } else { 8 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 1),
        2 | 3 => Value::Number(random_number(rng)),
        4 | 5 => Value::String(random_text(rng, 10)),
        6 => Value::Array(
            (0..rng.below(5))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut members = Map::new();
            for _ in 0..rng.below(6) {
                members.insert(random_key(rng), random_value(rng, depth - 1));
            }
            Value::Object(members)
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Small helpers for messages
// ------------------------------------------------------------------------------------------------

/// `text`, cut to `max` characters for an assertion message.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!(
            "{}… ({} chars)",
            text.chars().take(max).collect::<String>(),
            text.chars().count()
        )
    }
}

/// Where two strings first differ, with a little context from each.
fn first_difference(left: &str, right: &str) -> String {
    let at = left
        .chars()
        .zip(right.chars())
        .take_while(|(l, r)| l == r)
        .count();
    let around =
        |text: &str| -> String { text.chars().skip(at.saturating_sub(10)).take(30).collect() };
    format!(
        "first difference at char {at}: Rust …{:?}… vs JS …{:?}…",
        around(left),
        around(right)
    )
}

fn hex_of(value: &Value, context: &str) -> Vec<u8> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("{context}: expected a hex string, got {value}"));
    from_hex(text, "harness hex").unwrap_or_else(|err| panic!("{context}: {err}: {text}"))
}

fn parse_json(text: &str, context: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|err| panic!("{context}: not JSON ({err})"))
}

// ------------------------------------------------------------------------------------------------
// AES-GCM
// ------------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------------
// RSA-OAEP-256
// ------------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------------
// deriveKey
// ------------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------------
// SRP
// ------------------------------------------------------------------------------------------------

struct SrpInputs {
    salt: Vec<u8>,
    identity: String,
    password: Vec<u8>,
}

impl SrpInputs {
    fn random(rng: &mut Rng) -> Self {
        let local: String = (0..rng.range(1, 16))
            .map(|_| char::from(*rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789._+-")))
            .collect();
        let identity = if rng.below(2) == 0 {
            format!("{local}@example.com")
        } else {
            format!("{local}{}@example.org", random_text(rng, 3))
        };
        Self {
            salt: rng.bytes(32),
            identity,
            password: rng.bytes(32),
        }
    }

    fn describe(&self) -> String {
        format!(
            "salt {}, identity {:?}, password {}",
            to_hex(&self.salt),
            self.identity,
            to_hex(&self.password)
        )
    }
}

#[test]
fn srp_verifier_and_handshakes_both_ways() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    for _ in 0..4 {
        let inputs = SrpInputs::random(&mut rng);
        let SrpInputs {
            salt,
            identity,
            password,
        } = &inputs;
        let described = inputs.describe();

        // Verifier.
        let verifier = compute_verifier(salt, identity.as_bytes(), password);
        let js_verifier = js.ok_str(
            "srp_verifier",
            json!({"salt": to_hex(salt), "identity": identity, "password": to_hex(password)}),
            format!("SRP verifier, {described}"),
        );
        assert_eq!(
            to_hex(&verifier),
            js_verifier,
            "SRP verifier differs; {described}"
        );

        // JS client + Rust server.
        let a = rng.bytes(32);
        let case = format!("JS client + Rust server, {described}, a {}", to_hex(&a));
        let started = js.ok(
            "srp_client_start",
            json!({"salt": to_hex(salt), "identity": identity, "password": to_hex(password), "a": to_hex(&a)}),
            &case,
        );
        let a_pub = hex_of(&started["A"], &case);
        let a_secret: [u8; 32] = a.as_slice().try_into().expect("32 bytes");
        let rust_client =
            ClientHandshake::start_with_secret(salt, identity.as_bytes(), password, &a_secret);
        assert_eq!(
            rust_client.a_pub().as_slice(),
            a_pub.as_slice(),
            "SRP A from the same secret a differs between Rust and JS; {case}"
        );
        let server = ServerHandshake::start(&verifier, &a_pub)
            .unwrap_or_else(|err| panic!("{case}: Rust server refuses JS's A ({err})"));
        let finished = js.ok(
            "srp_client_finish",
            json!({"handle": started["handle"], "B": to_hex(&server.b_pub)}),
            &case,
        );
        let m1 = hex_of(&finished["M1"], &case);
        let (m2, server_key) = server
            .proof
            .verify(&m1)
            .unwrap_or_else(|err| panic!("{case}: Rust server refuses JS's M1 ({err})"));
        assert_eq!(
            hex_of(&finished["K"], &case),
            server_key.as_slice(),
            "SRP session key K differs (JS client, Rust server); {case}"
        );
        let accepted = js.ok(
            "srp_client_check",
            json!({"handle": started["handle"], "M2": to_hex(&m2)}),
            format!("JS client refuses Rust server's M2; {case}"),
        );
        assert_eq!(accepted, json!(true), "{case}");

        // Rust client + JS server.
        let b = rng.bytes(32);
        let case = format!("Rust client + JS server, {described}, b {}", to_hex(&b));
        let client = ClientHandshake::start(salt, identity.as_bytes(), password)
            .expect("the system RNG works");
        let served = js.ok(
            "srp_server_start",
            json!({"verifier": to_hex(&verifier), "b": to_hex(&b), "A": to_hex(client.a_pub())}),
            &case,
        );
        let b_pub = hex_of(&served["B"], &case);
        let b_secret: [u8; 32] = b.as_slice().try_into().expect("32 bytes");
        let rust_server = ServerHandshake::start_with_secret(&verifier, client.a_pub(), &b_secret)
            .unwrap_or_else(|err| panic!("{case}: Rust server refuses its own client's A ({err})"));
        assert_eq!(
            rust_server.b_pub.as_slice(),
            b_pub.as_slice(),
            "SRP B from the same secret b differs between Rust and JS; {case}"
        );
        let proof = client
            .process(&b_pub)
            .unwrap_or_else(|err| panic!("{case}: Rust client refuses JS's B ({err})"));
        let answered = js.ok(
            "srp_server_finish",
            json!({"handle": served["handle"], "M1": to_hex(proof.m1())}),
            format!("JS server refuses Rust client's M1; {case}"),
        );
        let client_key = proof
            .verify_server(&hex_of(&answered["M2"], &case))
            .unwrap_or_else(|err| panic!("{case}: Rust client refuses JS server's M2 ({err})"));
        assert_eq!(
            hex_of(&answered["K"], &case),
            client_key.as_slice(),
            "SRP session key K differs (Rust client, JS server); {case}"
        );
    }
}

#[test]
fn srp_wrong_password_fails_on_both_sides() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let inputs = SrpInputs::random(&mut rng);
    let wrong = rng.bytes(32);
    let described = format!("{}, wrong password {}", inputs.describe(), to_hex(&wrong));
    let verifier = compute_verifier(&inputs.salt, inputs.identity.as_bytes(), &inputs.password);

    // JS client with the wrong password → the Rust server refuses its M1.
    let started = js.ok(
        "srp_client_start",
        json!({
            "salt": to_hex(&inputs.salt), "identity": inputs.identity,
            "password": to_hex(&wrong), "a": to_hex(&rng.bytes(32)),
        }),
        format!("SRP wrong password, JS client; {described}"),
    );
    let a_pub = hex_of(&started["A"], &described);
    let server = ServerHandshake::start(&verifier, &a_pub).expect("A is valid");
    let finished = js.ok(
        "srp_client_finish",
        json!({"handle": started["handle"], "B": to_hex(&server.b_pub)}),
        format!("SRP wrong password, JS client; {described}"),
    );
    assert!(
        server
            .proof
            .verify(&hex_of(&finished["M1"], &described))
            .is_err(),
        "SRP wrong password: the Rust server accepted a JS client's M1; {described}"
    );

    // Rust client with the wrong password → the JS server refuses its M1.
    let client = ClientHandshake::start(&inputs.salt, inputs.identity.as_bytes(), &wrong)
        .expect("the system RNG works");
    let served = js.ok(
        "srp_server_start",
        json!({"verifier": to_hex(&verifier), "b": to_hex(&rng.bytes(32)), "A": to_hex(client.a_pub())}),
        format!("SRP wrong password, JS server; {described}"),
    );
    let proof = client
        .process(&hex_of(&served["B"], &described))
        .expect("B is valid");
    let refused = js.call(
        "srp_server_finish",
        json!({"handle": served["handle"], "M1": to_hex(proof.m1())}),
    );
    assert!(
        refused.is_err(),
        "SRP wrong password: the JS server accepted a Rust client's M1; {described}"
    );
}

// ------------------------------------------------------------------------------------------------
// Sealed box
// ------------------------------------------------------------------------------------------------

#[test]
fn sealed_box_both_ways() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let hand_off = format!(
        "{{\"token\":\"{}\",\"key\":\"{}\"}}",
        to_hex(&rng.bytes(32)),
        random::random_hex_32().expect("the system RNG works")
    );
    let mut messages = vec![Vec::new(), hand_off.into_bytes()];
    messages.extend((0..6).map(|_| {
        let len = rng.below(300) as usize;
        rng.bytes(len)
    }));
    for message in &messages {
        let message_hex = to_hex(message);

        // Rust seals to a tweetnacl key pair; JS opens.
        let pair = js.ok("keypair", json!({}), "tweetnacl key pair");
        let public_b64 = pair["publicKey"]
            .as_str()
            .expect("publicKey is text")
            .to_string();
        let case = format!(
            "Rust→JS, recipient {public_b64}, message {} bytes {}",
            message.len(),
            short(&message_hex, 64)
        );
        let recipient = sealed_box::key_from_base64(&public_b64, "tweetnacl public key")
            .unwrap_or_else(|err| panic!("sealed box {case}: {err}"));
        let sealed = sealed_box::seal(&recipient, message).expect("Rust seals");
        let opened = js.ok(
            "open",
            json!({"secret": pair["secretKey"], "box": sealed_box::encode_base64(&sealed)}),
            format!("sealed box {case}"),
        );
        assert_eq!(
            hex_of(&opened, &case),
            *message,
            "sealed box {case}: JS opened other bytes"
        );

        // JS seals to a Rust key pair; Rust opens.
        let keys = KeyPair::generate();
        let public_b64 = sealed_box::encode_base64(&keys.public);
        let case = format!(
            "JS→Rust, recipient {public_b64}, message {} bytes {}",
            message.len(),
            short(&message_hex, 64)
        );
        let sealed_b64 = js.ok_str(
            "seal",
            json!({"recipient": public_b64, "message": message_hex}),
            format!("sealed box {case}"),
        );
        let sealed = sealed_box::decode_base64(&sealed_b64, "JS sealed box")
            .unwrap_or_else(|err| panic!("sealed box {case}: {err}: {sealed_b64}"));
        assert_eq!(
            sealed.len(),
            message.len() + sealed_box::OVERHEAD,
            "sealed box {case}: size"
        );
        let opened = sealed_box::open(&keys.secret, &sealed).unwrap_or_else(|err| {
            panic!("sealed box {case}: Rust cannot open ({err}): {sealed_b64}")
        });
        assert_eq!(
            opened.as_slice(),
            message.as_slice(),
            "sealed box {case}: Rust opened other bytes"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// deterministicStringify and blob ids
// ------------------------------------------------------------------------------------------------

#[test]
fn stringify_and_blob_id_match() {
    let mut js = Harness::start();
    let mut rng = Rng::new();
    let mut values: Vec<Value> = SPECIAL_FLOATS
        .iter()
        .filter_map(|float| Number::from_f64(*float).map(Value::Number))
        .collect();
    values.push(json!(u64::MAX));
    values.push(json!(i64::MIN));
    values.push(json!(9007199254740993u64));
    values.push(json!({"\u{ff61}": 1, "\u{1f600}": 2, "\u{e000}": 3, "\u{ffff}": 4, "z": 5}));
    values.push(json!({"__proto__": {"x": 1}, "constructor": [], "10": 0, "2": 0, "1": 0, "": ""}));
    values.push(json!(
        "\u{0}\u{1f}\u{7f}\u{2028}\u{2029}\"\\/\u{8}\u{c}\n\r\t"
    ));
    values.extend((0..250).map(|_| random_value(&mut rng, 4)));

    for value in &values {
        let input = serde_json::to_string(value).expect("a JSON value serializes");
        let case = format!("input {}", short(&input, 400));

        let rust = deterministic_stringify(value);
        let js_text = js.ok_str(
            "stringify",
            json!({"value": value}),
            format!("stringify, {case}"),
        );
        assert!(
            rust == js_text,
            "deterministicStringify differs; {case}; {}\nRust: {}\nJS:   {}",
            first_difference(&rust, &js_text),
            short(&rust, 400),
            short(&js_text, 400)
        );

        let js_sha1 = js.ok_str("sha1", json!({"text": js_text}), format!("sha1, {case}"));
        assert_eq!(
            blob_id(&rust),
            js_sha1,
            "blob id differs from JS sha1 of the content; {case}"
        );
    }
}
