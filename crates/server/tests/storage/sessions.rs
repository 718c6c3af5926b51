//! Sessions, log-in attempts, reset tokens, expiry, security events, the server secret and the migrations; and which URLs the store opens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hypnos_server::storage::{self, Conflict, NewSession, StoreError};

use crate::common::{self, Backend, TestDb};
use crate::fixtures::*;

common::on_both_backends!(
    sessions_slide_expire_and_end,
    login_attempts_are_single_use_and_expire,
    reset_tokens_are_single_use_and_bound_to_their_account,
    purge_expired_removes_only_expired_rows,
    security_events_are_recorded,
    server_secret_is_stable_across_calls_and_reconnects,
    migrations_are_idempotent,
    login_attempts_are_unlogged_and_go_with_their_account,
);

async fn sessions_slide_expire_and_end(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;

    let session = store
        .create_session(NewSession {
            id_hash: hash(1),
            account_id: alice.clone(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 250,
        })
        .await
        .unwrap();
    assert_eq!(session.id_hash, hash(1));
    assert_eq!(session.created_at, T0);
    assert_eq!(session.last_seen_at, T0);
    assert_eq!(session.idle_expires_at, T0 + 100);
    assert_eq!(session.absolute_expires_at, T0 + 250);

    // Reading a session writes nothing.
    let (seen, account) = store
        .session_account(&hash(1), T0 + 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.id, alice);
    assert_eq!(seen, session);
    // Each recorded use slides the idle expiry, never past the absolute one.
    let touched = store
        .touch_session(&hash(1), T0 + 50)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, T0 + 50);
    assert_eq!(touched.idle_expires_at, T0 + 150);
    let (seen, _) = store
        .session_account(&hash(1), T0 + 140)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen, touched);
    let touched = store
        .touch_session(&hash(1), T0 + 140)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.idle_expires_at, T0 + 240);
    let touched = store
        .touch_session(&hash(1), T0 + 230)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.idle_expires_at, T0 + 250);
    assert_eq!(touched.absolute_expires_at, T0 + 250);
    // Absolute expiry, although it was used 20 ms ago: neither read nor touched.
    assert!(
        store
            .session_account(&hash(1), T0 + 250)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .touch_session(&hash(1), T0 + 250)
            .await
            .unwrap()
            .is_none()
    );

    // Idle expiry: unused for its whole idle lifetime.
    let with_idle = |id_hash| NewSession {
        id_hash,
        account_id: alice.clone(),
        now_ms: T0,
        idle_ttl_ms: 100,
        absolute_ttl_ms: 10_000,
    };
    store.create_session(with_idle(hash(2))).await.unwrap();
    assert!(
        store
            .session_account(&hash(2), T0 + 99)
            .await
            .unwrap()
            .is_some()
    );
    store.create_session(with_idle(hash(3))).await.unwrap();
    assert!(
        store
            .session_account(&hash(3), T0 + 100)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .touch_session(&hash(3), T0 + 100)
            .await
            .unwrap()
            .is_none()
    );

    // Unknown sessions and unknown accounts.
    assert!(store.session_account(&hash(9), T0).await.unwrap().is_none());
    assert!(store.touch_session(&hash(9), T0).await.unwrap().is_none());
    let result = store
        .create_session(NewSession {
            id_hash: hash(8),
            account_id: "acct_nobody".into(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 100,
        })
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");

    // Log-out ends one session; delete_sessions_of ends all of one account's.
    start_session(&store, &alice, hash(4), T0).await;
    start_session(&store, &alice, hash(5), T0).await;
    start_session(&store, &bob, hash(6), T0).await;
    store.delete_session(&hash(4)).await.unwrap();
    store.delete_session(&hash(4)).await.unwrap();
    assert!(store.session_account(&hash(4), T0).await.unwrap().is_none());
    assert!(store.session_account(&hash(5), T0).await.unwrap().is_some());
    // Alice still has sessions 1, 2, 3 (expired but not purged) and 5.
    assert_eq!(store.delete_sessions_of(&alice).await.unwrap(), 4);
    assert!(store.session_account(&hash(5), T0).await.unwrap().is_none());
    let (_, account) = store.session_account(&hash(6), T0).await.unwrap().unwrap();
    assert_eq!(account.id, bob);
}

async fn login_attempts_are_single_use_and_expire(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;

    let first = attempt("starter-1", Some(&alice), T0 + 1000);
    store.put_login_attempt(first.clone()).await.unwrap();
    let duplicate = store.put_login_attempt(first.clone()).await;
    assert!(
        matches!(duplicate, Err(StoreError::Conflict(Conflict::LoginAttempt))),
        "{duplicate:?}"
    );
    assert_eq!(
        store
            .take_login_attempt("starter-1", T0 + 10)
            .await
            .unwrap(),
        Some(first)
    );
    assert_eq!(
        store
            .take_login_attempt("starter-1", T0 + 10)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.take_login_attempt("never", T0).await.unwrap(), None);

    // Unknown e-mail: no account.
    let decoy = attempt("starter-2", None, T0 + 1000);
    store.put_login_attempt(decoy.clone()).await.unwrap();
    assert_eq!(
        store.take_login_attempt("starter-2", T0).await.unwrap(),
        Some(decoy)
    );

    // Expired: refused, and gone.
    store
        .put_login_attempt(attempt("starter-3", Some(&alice), T0 + 1000))
        .await
        .unwrap();
    assert_eq!(
        store
            .take_login_attempt("starter-3", T0 + 1000)
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM login_attempts").await, 0);

    // Concurrent takes: exactly one wins, every time.
    for round in 0..20 {
        let id = format!("race-{round}");
        store
            .put_login_attempt(attempt(&id, Some(&alice), T0 + 1000))
            .await
            .unwrap();
        let (left, right) = (store.clone(), store.clone());
        let (left_id, right_id) = (id.clone(), id.clone());
        let left = tokio::spawn(async move { left.take_login_attempt(&left_id, T0).await });
        let right = tokio::spawn(async move { right.take_login_attempt(&right_id, T0).await });
        let left = left.await.unwrap().unwrap();
        let right = right.await.unwrap().unwrap();
        assert_eq!(
            usize::from(left.is_some()) + usize::from(right.is_some()),
            1,
            "round {round}"
        );
    }
}

async fn reset_tokens_are_single_use_and_bound_to_their_account(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    let bob = sign_up(&store, "bob").await;

    store
        .put_reset_token(&hash(1), &alice, T0, 1000)
        .await
        .unwrap();
    assert!(!store.take_reset_token(&hash(1), &bob, T0).await.unwrap());
    assert!(!store.take_reset_token(&hash(2), &alice, T0).await.unwrap());
    assert!(
        store
            .take_reset_token(&hash(1), &alice, T0 + 999)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_reset_token(&hash(1), &alice, T0 + 999)
            .await
            .unwrap()
    );

    store
        .put_reset_token(&hash(3), &alice, T0, 1000)
        .await
        .unwrap();
    assert!(
        !store
            .take_reset_token(&hash(3), &alice, T0 + 1000)
            .await
            .unwrap()
    );

    let result = store
        .put_reset_token(&hash(4), &"acct_nobody".into(), T0, 1000)
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

async fn purge_expired_removes_only_expired_rows(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    // Expired at T0 + 100: a login attempt, an idle session, a reset token.
    store
        .put_login_attempt(attempt("old", Some(&alice), T0 + 100))
        .await
        .unwrap();
    store
        .create_session(NewSession {
            id_hash: hash(1),
            account_id: alice.clone(),
            now_ms: T0,
            idle_ttl_ms: 100,
            absolute_ttl_ms: 10_000,
        })
        .await
        .unwrap();
    store
        .put_reset_token(&hash(2), &alice, T0, 100)
        .await
        .unwrap();
    // Still valid at T0 + 100.
    store
        .put_login_attempt(attempt("new", Some(&alice), T0 + 101))
        .await
        .unwrap();
    start_session(&store, &alice, hash(3), T0).await;
    store
        .put_reset_token(&hash(4), &alice, T0, 101)
        .await
        .unwrap();

    assert_eq!(store.purge_expired(T0 + 100).await.unwrap(), 3);
    assert_eq!(store.purge_expired(T0 + 100).await.unwrap(), 0);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM login_attempts").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM reset_tokens").await, 1);
    assert!(
        store
            .take_login_attempt("new", T0 + 100)
            .await
            .unwrap()
            .is_some()
    );
}

async fn security_events_are_recorded(db: TestDb) {
    let store = db.connect().await;
    let alice = sign_up(&store, "alice").await;
    store
        .record_security_event("login_failed", None, Some("192.0.2.1"), None, T0)
        .await
        .unwrap();
    store
        .record_security_event(
            "account_reset",
            Some(&alice),
            Some("192.0.2.2"),
            Some("{\"by\":\"token\"}"),
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(db.scalar("SELECT COUNT(*) FROM security_events").await, 2);
    assert_eq!(
        db.scalar(
            "SELECT COUNT(*) FROM security_events WHERE kind = 'account_reset' \
             AND account_id = 'acct_alice' AND client_ip = '192.0.2.2' AND at = 1700000000001"
        )
        .await,
        1
    );
}

async fn server_secret_is_stable_across_calls_and_reconnects(db: TestDb) {
    let store = db.connect().await;
    let n_generated = AtomicUsize::new(0);
    let generate = || {
        let n = n_generated.fetch_add(1, Ordering::SeqCst);
        vec![u8::try_from(n).unwrap() + 1; 32]
    };
    let first = store.server_secret("hmac", &generate).await.unwrap();
    assert_eq!(first, vec![1; 32]);
    assert_eq!(store.server_secret("hmac", &generate).await.unwrap(), first);
    assert_eq!(n_generated.load(Ordering::SeqCst), 1);

    let other = store.server_secret("other", &generate).await.unwrap();
    assert_ne!(other, first);

    drop(store);
    let reopened = db.connect().await;
    assert_eq!(
        reopened.server_secret("hmac", &generate).await.unwrap(),
        first
    );
    assert_eq!(n_generated.load(Ordering::SeqCst), 2);

    // Two stores racing for a new secret agree on one value.
    let racer = db.connect().await;
    let (left, right) = tokio::join!(
        reopened.server_secret("raced", &|| vec![0xaa; 16]),
        racer.server_secret("raced", &|| vec![0xbb; 16]),
    );
    assert_eq!(left.unwrap(), right.unwrap());
}

async fn migrations_are_idempotent(db: TestDb) {
    let first = db.connect().await;
    first.ping().await.unwrap();
    sign_up(&first, "alice").await;
    let second = db.connect().await;
    second.ping().await.unwrap();
    assert!(
        second
            .account_by_id(&"acct_alice".into())
            .await
            .unwrap()
            .is_some()
    );
    drop((first, second));
    let third = db.connect().await;
    third.ping().await.unwrap();
    let migration_files =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .count() as i64;
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await,
        migration_files
    );
}

/// A started log-in is state worth nothing after a crash: on PostgreSQL its table is unlogged
/// (no WAL flush per log-in step) and has no foreign key, so an account's deletion must remove
/// its attempts itself.
async fn login_attempts_are_unlogged_and_go_with_their_account(db: TestDb) {
    let store = db.connect().await;
    if db.backend == Backend::Postgres {
        assert_eq!(
            db.scalar(
                "SELECT COUNT(*) FROM pg_class \
                 WHERE relname = 'login_attempts' AND relpersistence = 'u'"
            )
            .await,
            1
        );
    }
    let alice = sign_up(&store, "alice").await;
    store
        .put_login_attempt(attempt("a1", Some(&alice), T0 + 1_000))
        .await
        .unwrap();
    store
        .put_login_attempt(attempt("u1", None, T0 + 1_000))
        .await
        .unwrap();
    store.delete_account(&alice).await.unwrap();
    assert!(store.take_login_attempt("a1", T0).await.unwrap().is_none());
    assert!(store.take_login_attempt("u1", T0).await.unwrap().is_some());
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://localhost/db", "hypnos.db", ""] {
        let result = storage::connect(url).await;
        assert!(
            matches!(result, Err(StoreError::Other(_))),
            "{url}: {:?}",
            result.err()
        );
    }
}

#[tokio::test]
async fn an_unreachable_postgres_is_unavailable() {
    let options = storage::ConnectOptions {
        acquire_timeout: Duration::from_millis(500),
        ..storage::ConnectOptions::default()
    };
    let result = storage::connect_with("postgres://postgres@127.0.0.1:1/none", options).await;
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let store = storage::connect("sqlite::memory:").await.unwrap();
    sign_up(&store, "alice").await;
    assert!(
        store
            .account_by_id(&"acct_alice".into())
            .await
            .unwrap()
            .is_some()
    );
}
