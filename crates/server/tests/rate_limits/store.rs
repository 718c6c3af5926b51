//! The store's rate-limit counters: chains, purges, checks without counting.

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(120);
    store_counts_chains_and_purges_ended_windows,
    store_checks_counters_without_counting,
);

async fn store_counts_chains_and_purges_ended_windows(db: common::TestDb) {
    let store = db.connect().await;
    let narrow = Counter {
        key: [1; 32],
        limit: 2,
    };
    let wide = Counter {
        key: [2; 32],
        limit: 3,
    };
    let (start, window) = (600_000, 60_000);
    let count = |now: i64, chain: Vec<Counter>| {
        let store = store.clone();
        async move { store.count_hit(now, window, &chain).await.unwrap() }
    };
    let over = |counter: usize, window_start: i64| {
        Some(OverLimit {
            counter,
            window_start,
        })
    };
    assert_eq!(count(start, vec![narrow, wide]).await, None);
    assert_eq!(count(start + 10, vec![narrow, wide]).await, None);
    // Over the narrow limit: the wide counter is not counted.
    for _ in 0..3 {
        assert_eq!(count(start + 20, vec![narrow, wide]).await, over(0, start));
    }
    let other = Counter {
        key: [3; 32],
        limit: 5,
    };
    assert_eq!(count(start + 30, vec![other, wide]).await, None);
    assert_eq!(count(start + 40, vec![other, wide]).await, over(1, start));
    // A window lasts from its key's first hit; the next hit after it begins a new one.
    assert_eq!(
        count(start + window - 1, vec![narrow]).await,
        over(0, start)
    );
    assert_eq!(count(start + window, vec![narrow]).await, None);
    assert_eq!(count(start + window + 1, vec![narrow]).await, None);
    assert_eq!(
        count(start + window + 2, vec![narrow]).await,
        over(0, start + window)
    );
    // Ended windows are purged; the live one stays.
    assert_eq!(store.purge_rate_limits(start + 30).await.unwrap(), 2);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limit_hits").await, 1);
    assert!(
        store
            .count_hit(start, window, &[narrow, wide, other, other])
            .await
            .is_err()
    );
    assert_eq!(count(start, Vec::new()).await, None);
}

async fn store_checks_counters_without_counting(db: common::TestDb) {
    let store = db.connect().await;
    let narrow = Counter {
        key: [1; 32],
        limit: 2,
    };
    let wide = Counter {
        key: [2; 32],
        limit: 3,
    };
    let (start, window) = (600_000, 60_000);
    let check = |now: i64, chain: Vec<Counter>| {
        let store = store.clone();
        async move { store.over_limit(now, window, &chain).await.unwrap() }
    };
    // No counter yet: within; and checking writes nothing.
    assert_eq!(check(start, vec![narrow, wide]).await, None);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limit_hits").await, 0);
    // One hit: both below their limits.
    store
        .count_hit(start, window, &[narrow, wide])
        .await
        .unwrap();
    assert_eq!(check(start + 1, vec![narrow, wide]).await, None);
    // Two hits reach the narrow limit: refused from now on, with its window's start, and the
    // check counted nothing (the third hit is over the limit, not the fifth).
    store
        .count_hit(start + 2, window, &[narrow, wide])
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            check(start + 3, vec![narrow, wide]).await,
            Some(OverLimit {
                counter: 0,
                window_start: start
            })
        );
    }
    assert_eq!(
        store.count_hit(start + 4, window, &[narrow]).await.unwrap(),
        Some(OverLimit {
            counter: 0,
            window_start: start
        })
    );
    // The wide counter alone is below its limit (2 of 3); the order of the chain is the order
    // of the answer.
    assert_eq!(check(start + 5, vec![wide]).await, None);
    let fresh = Counter {
        key: [3; 32],
        limit: 1,
    };
    assert_eq!(
        check(start + 5, vec![fresh, wide, narrow]).await,
        Some(OverLimit {
            counter: 2,
            window_start: start
        })
    );
    // An ended window does not refuse.
    assert_eq!(check(start + window, vec![narrow, wide]).await, None);
    assert!(
        store
            .over_limit(start, window, &[narrow, wide, fresh, fresh])
            .await
            .is_err()
    );
    assert_eq!(check(start, Vec::new()).await, None);
}
