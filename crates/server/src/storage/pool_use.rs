//! How the store's connection pools are used, for `/metrics`: each pool's connections (open,
//! idle, the most it may open) read off sqlx at scrape time, and the acquisitions of
//! connections for transactions, counted by the store as they happen. The counts belong to
//! one store (no global state): several servers in one process each report their own.

use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::Instant,
};

/// One pool's use at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolUse {
    /// Which pool: `main` (PostgreSQL), `read` or `write` (SQLite).
    pub pool: &'static str,
    /// Connections open (idle and in use).
    pub size: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// The most connections the pool may open.
    pub max: u32,
    /// Transactions begun on the pool since the store opened.
    pub acquires: u64,
    /// Of those, the ones that found no idle connection: they waited for one to come back or
    /// for a new one to open.
    pub waits: u64,
    /// Seconds spent getting connections and beginning transactions, all acquisitions
    /// together.
    pub acquire_seconds: f64,
}

/// The acquisition counts of one pool.
#[derive(Debug, Default)]
pub(super) struct AcquireCounts {
    acquires: AtomicU64,
    waits: AtomicU64,
    nanos: AtomicU64,
}

impl AcquireCounts {
    /// Runs `begin` (a transaction begun on `pool`) and counts it: whether the pool had an idle
    /// connection when it was asked, and how long it took.
    pub(super) async fn count<DB: sqlx::Database, T>(
        &self,
        pool: &sqlx::Pool<DB>,
        begin: impl Future<Output = T>,
    ) -> T {
        let waits = pool.num_idle() == 0;
        let started = Instant::now();
        let begun = begin.await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.acquires.fetch_add(1, Ordering::Relaxed);
        if waits {
            self.waits.fetch_add(1, Ordering::Relaxed);
        }
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        begun
    }

    /// The pool's use now, under the name `pool`.
    pub(super) fn pool_use<DB: sqlx::Database>(
        &self,
        pool: &'static str,
        of: &sqlx::Pool<DB>,
    ) -> PoolUse {
        PoolUse {
            pool,
            size: of.size(),
            idle: u32::try_from(of.num_idle()).unwrap_or(u32::MAX),
            max: of.options().get_max_connections(),
            acquires: self.acquires.load(Ordering::Relaxed),
            waits: self.waits.load(Ordering::Relaxed),
            acquire_seconds: self.nanos.load(Ordering::Relaxed) as f64 / 1e9,
        }
    }
}
