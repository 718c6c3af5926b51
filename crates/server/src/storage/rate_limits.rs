//! Rate-limit counters in the database (migration 0006), so that every server process on one
//! database counts against the same budget.
//!
//! A counter's window begins with its first hit and lasts a fixed time, as the in-memory
//! limiter's did: the windows are the client's own, not the clock's minutes, so the limits
//! behave alike whenever a client starts (and a test near a minute's turn sees what any other
//! sees). A hit counts against a short chain of counters (say, an account from one address,
//! then the account from anywhere): each counter after the first is counted only while the ones
//! before it are within their limits, so requests refused for one address do not use up the
//! account's budget, which the account's owner needs from elsewhere. On PostgreSQL the whole
//! chain is one statement on an unlogged table (no transaction, no WAL flush); SQLite has no
//! data-modifying `WITH`, so there it is one write transaction of an upsert per counter.
//!
//! [`rate_limit_sql!`] writes [`RateLimitStore`] into each backend's `sql` module, beside the
//! other shared queries (`sql/mod.rs`'s `shared_sql!` invokes it), so that it can use the
//! backend's pool and `map_error`.

use std::sync::LazyLock;

use async_trait::async_trait;

use super::StoreError;

/// The longest chain of counters one hit may count against.
pub const MAX_CHAIN: usize = 3;

/// One counter a hit counts against: SHA-256 of what is limited, and how many hits a window
/// allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    /// SHA-256 of the limited thing (its kind and value): no e-mail or address is stored.
    pub key: [u8; 32],
    /// Hits allowed per window.
    pub limit: u32,
}

/// A counter of a chain that was over its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverLimit {
    /// Its index in the chain.
    pub counter: usize,
    /// When its window began (unix ms): it ends a window's length later.
    pub window_start: i64,
}

/// Rate-limit counters shared by every server process on the database.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts one hit at `now_ms` against `counters` in order, each only while the ones before
    /// it are within their limits (a counter is within its limit while its count, this hit
    /// included, is at most the limit). A counter's window begins with its first hit and lasts
    /// `window_ms`; a hit after that begins a new one. Returns the first counter over its limit,
    /// `None` when within all. At most [`MAX_CHAIN`] counters (more give `Other`); an empty
    /// chain counts nothing.
    async fn count_hit(
        &self,
        now_ms: i64,
        window_ms: i64,
        counters: &[Counter],
    ) -> Result<Option<OverLimit>, StoreError>;

    /// Reads, without counting anything, whether one of `counters` has already reached its limit
    /// in a window still open at `now_ms` (one that began less than `window_ms` ago): the first
    /// such counter in order, `None` when all are below their limits. One `SELECT` by primary
    /// key, so that a check on every successful log-in (at login-m1) writes nothing. At most
    /// [`MAX_CHAIN`] counters (more give `Other`).
    async fn over_limit(
        &self,
        now_ms: i64,
        window_ms: i64,
        counters: &[Counter],
    ) -> Result<Option<OverLimit>, StoreError>;

    /// Deletes the counters whose windows began at or before `before_ms` (ended ones, when that
    /// is a window's length ago); returns how many went.
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<u64, StoreError>;
}

/// Which way a backend counts a chain.
pub(super) trait CountingDialect {
    /// Whether the chain is one data-modifying `WITH` statement, run outside a transaction on
    /// the store's pool (PostgreSQL), rather than an upsert per counter in one write
    /// transaction (SQLite).
    const ONE_STATEMENT: bool;
}

impl CountingDialect for sqlx::Postgres {
    const ONE_STATEMENT: bool = true;
}

impl CountingDialect for sqlx::Sqlite {
    const ONE_STATEMENT: bool = false;
}

/// The `ON CONFLICT` clause of a hit ($1: now, $2: the window's length): within the window the
/// count goes up, after it a new window begins with this hit. Every `SET` expression reads the
/// row as it was before the update (on both databases).
const ON_CONFLICT_COUNT: &str = "ON CONFLICT (key) DO UPDATE SET \
     hits = CASE WHEN rate_limit_hits.window_start > $1 - $2 \
     THEN rate_limit_hits.hits + 1 ELSE 1 END, \
     window_start = CASE WHEN rate_limit_hits.window_start > $1 - $2 \
     THEN rate_limit_hits.window_start ELSE $1 END ";

/// One counter's hit (SQLite; $3: the key): its count and window start after it.
pub(super) static UPSERT_ONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO rate_limit_hits (key, window_start, hits) VALUES ($3, $1, 1) \
         {ON_CONFLICT_COUNT}RETURNING hits, window_start"
    )
});

/// A chain of 1 to [`MAX_CHAIN`] counters as one PostgreSQL statement, by length - 1: the keys
/// are $3, $4, …, then the limits of all counters but the last; each counter is upserted only
/// if the one before it was counted and is within its limit. Returns each counter's count and
/// window start (NULL when not counted).
pub(super) static CHAIN_POSTGRES: LazyLock<Vec<String>> =
    LazyLock::new(|| (1..=MAX_CHAIN).map(chain_postgres).collect());

fn chain_postgres(length: usize) -> String {
    let mut parts = Vec::new();
    for index in 0..length {
        let key = 3 + index;
        let source = if index == 0 {
            format!("VALUES (${key}, $1, 1) ")
        } else {
            let limit = 3 + length + index - 1;
            let before = index - 1;
            format!("SELECT ${key}, $1, 1 FROM c{before} WHERE c{before}.hits <= ${limit} ")
        };
        parts.push(format!(
            "c{index} AS (INSERT INTO rate_limit_hits (key, window_start, hits) {source}\
             {ON_CONFLICT_COUNT}RETURNING hits, window_start)"
        ));
    }
    let columns: Vec<String> = (0..length)
        .map(|index| format!("c{index}.hits, c{index}.window_start"))
        .collect();
    let joins: String = (1..length)
        .map(|index| format!(" LEFT JOIN c{index} ON TRUE"))
        .collect();
    format!(
        "WITH {} SELECT {} FROM c0{joins}",
        parts.join(", "),
        columns.join(", ")
    )
}

/// The open windows of 1 to [`MAX_CHAIN`] counters, by length - 1 (both databases): $1 now, $2
/// the window's length, the keys $3, $4, …; returns each live key's row.
pub(super) static READ_OPEN: LazyLock<Vec<String>> = LazyLock::new(|| {
    (1..=MAX_CHAIN)
        .map(|length| {
            let keys: Vec<String> = (0..length).map(|index| format!("${}", 3 + index)).collect();
            format!(
                "SELECT key, hits, window_start FROM rate_limit_hits \
                 WHERE key IN ({}) AND window_start > $1 - $2",
                keys.join(", ")
            )
        })
        .collect()
});

/// The first counter whose open window (in `open`: key, hits, window start) has reached its
/// limit.
pub(super) fn first_at_limit(
    counters: &[Counter],
    open: &[(Vec<u8>, i32, i64)],
) -> Option<OverLimit> {
    counters.iter().enumerate().find_map(|(index, counter)| {
        open.iter()
            .find(|(key, hits, _)| {
                key.as_slice() == counter.key.as_slice()
                    && i64::from(*hits) >= i64::from(counter.limit)
            })
            .map(|(_, _, window_start)| OverLimit {
                counter: index,
                window_start: *window_start,
            })
    })
}

/// Deletes the counters whose windows began at or before $1 (both databases).
pub(super) const PURGE: &str = "DELETE FROM rate_limit_hits WHERE window_start <= $1";

/// The first counter over its limit; `counted` holds the count and window start of each
/// counter that was counted, in order (a missing one: the chain stopped before it).
pub(super) fn first_over(
    counters: &[Counter],
    counted: &[Option<(i32, i64)>],
) -> Option<OverLimit> {
    counters
        .iter()
        .zip(counted)
        .enumerate()
        .find_map(|(index, (counter, counted))| match counted {
            Some((hits, window_start)) if i64::from(*hits) > i64::from(counter.limit) => {
                Some(OverLimit {
                    counter: index,
                    window_start: *window_start,
                })
            }
            _ => None,
        })
}

/// Writes [`RateLimitStore`] for `$store` on database `$db` into the calling backend's `sql` module,
/// which provides `map_error`, `self.pool` (on PostgreSQL, the pool; unused on SQLite) and
/// `self.begin()` (on SQLite, a write transaction on its one writing connection).
macro_rules! rate_limit_sql {
    ($db:ty, $store:ty) => {
        #[async_trait::async_trait]
        impl $crate::storage::RateLimitStore for $store {
            async fn count_hit(
                &self,
                now_ms: i64,
                window_ms: i64,
                counters: &[$crate::storage::rate_limits::Counter],
            ) -> Result<Option<$crate::storage::rate_limits::OverLimit>, StoreError> {
                use sqlx::Row as _;
                use $crate::storage::rate_limits::{
                    CHAIN_POSTGRES, CountingDialect, MAX_CHAIN, UPSERT_ONE, first_over,
                };
                if counters.len() > MAX_CHAIN {
                    return Err(StoreError::Other(format!(
                        "a rate-limit chain of {} counters (at most {MAX_CHAIN})",
                        counters.len()
                    )));
                }
                if counters.is_empty() {
                    return Ok(None);
                }
                let mut counted: Vec<Option<(i32, i64)>> = Vec::with_capacity(counters.len());
                if <$db as CountingDialect>::ONE_STATEMENT {
                    // One round trip, no transaction: the statement is atomic by itself.
                    let sql: &'static str = CHAIN_POSTGRES[counters.len() - 1].as_str();
                    let mut query = sqlx::query(sql).bind(now_ms).bind(window_ms);
                    for counter in counters {
                        query = query.bind(counter.key.as_slice());
                    }
                    for counter in &counters[..counters.len() - 1] {
                        query = query.bind(i64::from(counter.limit));
                    }
                    let row = query.fetch_one(&self.pool).await.map_err(map_error)?;
                    for index in 0..counters.len() {
                        let hits: Option<i32> = row.try_get(2 * index).map_err(map_error)?;
                        let start: Option<i64> = row.try_get(2 * index + 1).map_err(map_error)?;
                        counted.push(hits.zip(start));
                    }
                } else {
                    let sql: &'static str = UPSERT_ONE.as_str();
                    let mut tx = self.begin().await?;
                    for counter in counters {
                        let row = sqlx::query(sql)
                            .bind(now_ms)
                            .bind(window_ms)
                            .bind(counter.key.as_slice())
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(map_error)?;
                        let hits: i32 = row.try_get(0).map_err(map_error)?;
                        let start: i64 = row.try_get(1).map_err(map_error)?;
                        counted.push(Some((hits, start)));
                        if i64::from(hits) > i64::from(counter.limit) {
                            break;
                        }
                    }
                    tx.commit().await.map_err(map_error)?;
                }
                Ok(first_over(counters, &counted))
            }

            async fn over_limit(
                &self,
                now_ms: i64,
                window_ms: i64,
                counters: &[$crate::storage::rate_limits::Counter],
            ) -> Result<Option<$crate::storage::rate_limits::OverLimit>, StoreError> {
                use sqlx::Row as _;
                use $crate::storage::rate_limits::{MAX_CHAIN, READ_OPEN, first_at_limit};
                if counters.len() > MAX_CHAIN {
                    return Err(StoreError::Other(format!(
                        "a rate-limit check of {} counters (at most {MAX_CHAIN})",
                        counters.len()
                    )));
                }
                if counters.is_empty() {
                    return Ok(None);
                }
                // A read on the store's reading pool: no transaction, no write.
                let sql: &'static str = READ_OPEN[counters.len() - 1].as_str();
                let mut query = sqlx::query(sql).bind(now_ms).bind(window_ms);
                for counter in counters {
                    query = query.bind(counter.key.as_slice());
                }
                let rows = query.fetch_all(&self.pool).await.map_err(map_error)?;
                let mut open: Vec<(Vec<u8>, i32, i64)> = Vec::with_capacity(rows.len());
                for row in rows {
                    open.push((
                        row.try_get(0).map_err(map_error)?,
                        row.try_get(1).map_err(map_error)?,
                        row.try_get(2).map_err(map_error)?,
                    ));
                }
                Ok(first_at_limit(counters, &open))
            }

            async fn purge_rate_limits(&self, before_ms: i64) -> Result<u64, StoreError> {
                let mut tx = self.begin().await?;
                let purged = sqlx::query($crate::storage::rate_limits::PURGE)
                    .bind(before_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_error)?
                    .rows_affected();
                tx.commit().await.map_err(map_error)?;
                Ok(purged)
            }
        }
    };
}
pub(super) use rate_limit_sql;

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(limit: u32) -> Counter {
        Counter {
            key: [0; 32],
            limit,
        }
    }

    #[test]
    fn a_chain_of_three_is_one_statement_of_three_upserts() {
        let sql = chain_postgres(3);
        assert_eq!(sql.matches("INSERT INTO rate_limit_hits").count(), 3);
        assert!(sql.contains("SELECT $4, $1, 1 FROM c0 WHERE c0.hits <= $6"));
        assert!(sql.contains("SELECT $5, $1, 1 FROM c1 WHERE c1.hits <= $7"));
        assert!(!sql.contains("$8"));
        assert!(sql.ends_with("FROM c0 LEFT JOIN c1 ON TRUE LEFT JOIN c2 ON TRUE"));
    }

    #[test]
    fn a_check_reads_open_windows_by_key() {
        assert_eq!(
            READ_OPEN[2],
            "SELECT key, hits, window_start FROM rate_limit_hits \
             WHERE key IN ($3, $4, $5) AND window_start > $1 - $2"
        );
        assert!(READ_OPEN[0].contains("IN ($3)"));
    }

    #[test]
    fn the_first_counter_at_its_limit_is_reported() {
        let narrow = Counter {
            key: [1; 32],
            limit: 2,
        };
        let wide = Counter {
            key: [2; 32],
            limit: 5,
        };
        let chain = [narrow, wide];
        assert_eq!(first_at_limit(&chain, &[]), None);
        assert_eq!(
            first_at_limit(&chain, &[(vec![1; 32], 1, 7), (vec![2; 32], 4, 8)]),
            None
        );
        assert_eq!(
            first_at_limit(&chain, &[(vec![2; 32], 5, 8), (vec![1; 32], 2, 7)]),
            Some(OverLimit {
                counter: 0,
                window_start: 7
            })
        );
        assert_eq!(
            first_at_limit(&chain, &[(vec![2; 32], 6, 8)]),
            Some(OverLimit {
                counter: 1,
                window_start: 8
            })
        );
    }

    #[test]
    fn the_first_count_over_its_limit_is_reported() {
        let chain = [counter(2), counter(5)];
        assert_eq!(first_over(&chain, &[Some((2, 7)), Some((5, 8))]), None);
        assert_eq!(
            first_over(&chain, &[Some((3, 7)), None]),
            Some(OverLimit {
                counter: 0,
                window_start: 7
            })
        );
        assert_eq!(
            first_over(&chain, &[Some((1, 7)), Some((6, 8))]),
            Some(OverLimit {
                counter: 1,
                window_start: 8
            })
        );
        assert_eq!(first_over(&chain, &[Some((1, 7))]), None);
    }
}
