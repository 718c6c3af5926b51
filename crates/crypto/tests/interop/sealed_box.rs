//! The sealed box, both ways.

use hypnos_crypto::{
    encoding::to_hex,
    random,
    sealed_box::{self, KeyPair},
};
use serde_json::json;

use crate::{
    harness::Harness,
    inputs::Rng,
    messages::{hex_of, short},
};

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
