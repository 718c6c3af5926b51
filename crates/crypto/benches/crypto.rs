//! Criterion benchmarks for the operations with speed targets (issue #2, figures in
//! BENCHMARKS.md): AES-256-GCM at 1 MiB, deriveKey, RSA-2048 OAEP decryption and the server's SRP
//! work for one log-in. Run with `cargo bench -p hypnos-crypto`.
#![allow(
    missing_docs,
    reason = "criterion's macros generate undocumented items"
)]
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails should stop"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hypnos_crypto::{
    aes::{AesKey, AesMessage},
    encoding::from_hex,
    kdf::derive_key,
    rsa::RsaPrivateKey,
    srp::{ClientHandshake, ServerHandshake, compute_verifier},
};

fn aes_gcm(c: &mut Criterion) {
    let key = AesKey::generate().unwrap();
    let plaintext = vec![0x5a_u8; 1 << 20];
    let sealed = AesMessage::seal(&key, &plaintext, b"").unwrap();
    let mut group = c.benchmark_group("aes_256_gcm_1mib");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.bench_function("seal", |b| {
        b.iter(|| AesMessage::seal(&key, black_box(&plaintext), b"").unwrap())
    });
    group.bench_function("open", |b| {
        b.iter(|| black_box(&sealed).open_data(&key).unwrap())
    });
    group.bench_function("open_zeroized", |b| {
        b.iter(|| black_box(&sealed).open(&key).unwrap())
    });
    group.finish();
}

fn kdf(c: &mut Criterion) {
    let mut group = c.benchmark_group("derive_key");
    group.sample_size(20);
    group.bench_function("hkdf_then_pbkdf2_100k", |b| {
        b.iter(|| {
            derive_key(
                black_box("correct horse battery staple"),
                "alice@example.com",
                "1111111111111111111111111111111111111111111111111111111111111111",
            )
        })
    });
    group.finish();
}

fn rsa(c: &mut Criterion) {
    let private = RsaPrivateKey::generate().unwrap();
    let public = private.public_key().unwrap();
    let project_key = AesKey::generate().unwrap().to_jwk().to_json();
    let ciphertext = public.encrypt_string(&project_key).unwrap();
    let mut group = c.benchmark_group("rsa_2048_oaep_sha256");
    group.bench_function("decrypt_project_key", |b| {
        b.iter(|| private.decrypt_string(black_box(&ciphertext)).unwrap())
    });
    group.bench_function("encrypt_project_key", |b| {
        b.iter(|| public.encrypt_string(black_box(&project_key)).unwrap())
    });
    group.finish();
}

fn srp(c: &mut Criterion) {
    let salt = from_hex(
        "2222222222222222222222222222222222222222222222222222222222222222",
        "salt",
    )
    .unwrap();
    let password = [7u8; 32];
    let verifier = compute_verifier(&salt, b"alice@example.com", &password);
    let client = ClientHandshake::start(&salt, b"alice@example.com", &password).unwrap();
    let a_pub = *client.a_pub();
    let server = ServerHandshake::start(&verifier, &a_pub).unwrap();
    let m1 = *client.process(&server.b_pub).unwrap().m1();

    let mut group = c.benchmark_group("srp_2048");
    // What the server does for one log-in: make B, S, K and both proofs, then check M1.
    group.bench_function("server_login", |b| {
        b.iter(|| {
            let handshake = ServerHandshake::start(black_box(&verifier), &a_pub).unwrap();
            // A fresh b gives another M1: the check fails here, but it runs the same code.
            black_box(handshake.proof.verify(&m1).is_ok())
        })
    });
    group.bench_function("client_login", |b| {
        b.iter(|| {
            let client = ClientHandshake::start(&salt, b"alice@example.com", &password).unwrap();
            client.process(black_box(&server.b_pub)).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, aes_gcm, kdf, rsa, srp);
criterion_main!(benches);
