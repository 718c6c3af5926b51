//! SRP-6a: verifiers and handshakes both ways, and a wrong password failing on both sides.

use hypnos_crypto::{
    encoding::to_hex,
    srp::{ClientHandshake, ServerHandshake, compute_verifier},
};
use serde_json::json;

use crate::{
    harness::Harness,
    inputs::{Rng, random_text},
    messages::hex_of,
};

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
