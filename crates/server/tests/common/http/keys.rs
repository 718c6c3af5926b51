//! RSA key pairs for test users, made once per test process: generating an RSA-2048 key takes
//! tens of milliseconds or more, and a test binary signs up dozens of users.
//!
//! A named actor ([`key_named`]: "alice") has the same pair in every test of the process: each
//! test has its own database, and names are unique within a test, so no two users of one test
//! share a pair, while a binary of many short tests makes only a handful.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};

use hypnos_crypto::{jwk::RsaPrivateJwk, rsa::RsaPrivateKey};

/// How many key pairs the pool holds, made at once on every core on first use. Each is handed out
/// once: tests tell users apart by their keys, so no two users of a process share one.
const POOL_SIZE: usize = 24;

/// The pool, generated on first use on a few threads.
static POOL: LazyLock<Vec<RsaPrivateJwk>> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let per_thread = POOL_SIZE.div_ceil(threads);
    let makers: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|_| RsaPrivateKey::generate().unwrap().jwk().clone())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    makers
        .into_iter()
        .flat_map(|maker| maker.join().unwrap())
        .collect()
});

/// A key pair no other user of this process has: the pool's next, or a new one once the pool is
/// spent.
pub fn next_private_key() -> RsaPrivateKey {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    match POOL.get(NEXT.fetch_add(1, Ordering::Relaxed)) {
        Some(jwk) => RsaPrivateKey::from_jwk(jwk).unwrap(),
        None => RsaPrivateKey::generate().unwrap(),
    }
}

/// The key pair of the actor `name`, the same in every test of this process; the first asks for
/// it takes [`next_private_key`]'s.
pub fn key_named(name: &str) -> RsaPrivateKey {
    static NAMED: LazyLock<Mutex<HashMap<String, RsaPrivateJwk>>> = LazyLock::new(Mutex::default);
    let known = NAMED.lock().unwrap().get(name).cloned();
    // A new name's pair is taken (past the pool, generated) outside the lock, so that tests in
    // parallel do not wait on one another's key generation; of two takers, the first to store
    // wins and both use its pair.
    let jwk = match known {
        Some(jwk) => jwk,
        None => {
            let taken = next_private_key().jwk().clone();
            NAMED
                .lock()
                .unwrap()
                .entry(name.to_owned())
                .or_insert(taken)
                .clone()
        }
    };
    RsaPrivateKey::from_jwk(&jwk).unwrap()
}
