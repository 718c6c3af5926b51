//! Rate limits in one-minute windows, each begun by its key's first hit.
//!
//! What is limited, and why so:
//! - every request to an authentication endpoint, per client address (IPv4: the address; IPv6:
//!   its /64, which one subscriber usually holds whole), checked before the body is read. This
//!   flood guard is counted in the process's memory: it costs no database statement, and what it
//!   protects (the process's work on bodies and queries) is per process too;
//! - brute-force attempts (failed log-ins, resets, vault-key verifications), the guesses,
//!   counted in the database so that every server process on it shares one budget (migration
//!   0006, [`crate::storage::RateLimitStore`]), as one chain in one statement: per address (over
//!   all accounts), then per account *and* address, then per account from all addresses under a
//!   ceiling far above one address's allowance. An attacker who floods someone else's e-mail
//!   from one address exhausts only that address's allowance for the account, and the owner
//!   still logs in from elsewhere, while many addresses together still cannot guess without
//!   bound. A hit refused at one link of the chain is not counted by the links after it.
//!   Log-ins are limited at login-m1, on the guess, and count only when they fail: a wrong
//!   proof counts ([`RateLimiter::attempt`]), a right one only reads the counters
//!   ([`RateLimiter::check`], one `SELECT`) and is refused on the same condition, so a
//!   successful log-in writes no counter. (Checking at login-a instead would let log-ins
//!   started in parallel before a limit was reached each make a guess after it.) Resets and
//!   vault verifications count every request, as before;
//! - look-ups that tell whether an e-mail has an account (`invites/instructions`), per caller,
//!   in the database.
//!
//! Keys in the database are hashed (SHA-256 of kind and value), so the counters hold no e-mail
//! or address.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_lc_rs::digest;

use crate::{
    config::ServerConfig,
    error::ApiError,
    storage::{Counter, Store},
};

/// The length of a window.
pub const WINDOW_MS: i64 = 60_000;

/// What a brute-force attempt tries to prove, each counted under keys of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// A log-in (login-a) or an account reset, for an e-mail: one budget, as both prove the
    /// account's secrets (its passphrase, a reset token).
    Login,
    /// A vault-key verification (vault-verify-a), for an account id.
    Vault,
}

impl Attempt {
    fn label(self) -> &'static str {
        match self {
            Attempt::Login => "login",
            Attempt::Vault => "vault",
        }
    }
}

/// The limiter: the limits, the store that counts the shared ones and this process's flood
/// guard.
pub struct RateLimiter {
    store: Arc<dyn Store>,
    flood_guard: LocalWindows,
    per_address: u32,
    per_account_address: u32,
    per_account: u32,
    lookups_per_caller: u32,
}

impl RateLimiter {
    /// The limits of `config`, counted in `store`.
    pub fn new(store: Arc<dyn Store>, config: &ServerConfig) -> Self {
        Self {
            store,
            flood_guard: LocalWindows::default(),
            per_address: config.login_rate_per_ip,
            per_account_address: config.login_rate_per_account,
            per_account: config.login_rate_per_account_global,
            lookups_per_caller: config.invite_lookup_rate,
        }
    }

    /// Counts one request to an authentication endpoint from `client` in this process's flood
    /// guard (no database statement: it runs before the body is read, on every such request).
    pub fn address(&self, client: IpAddr) -> Result<(), ApiError> {
        self.flood_guard
            .hit(&address_key(client), self.per_address, Instant::now())
            .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })
    }

    /// Counts one brute-force attempt on `account` (an e-mail for log-ins and resets, an
    /// account id for vault keys) from `client`, in one statement: against the address's
    /// attempts, then, if that allows it, the account from this address, then the account from
    /// everywhere.
    pub async fn attempt(
        &self,
        attempt: Attempt,
        account: &str,
        client: IpAddr,
    ) -> Result<(), ApiError> {
        self.hit(&self.chain(attempt, account, client)).await
    }

    /// Refuses an attempt on `account` from `client` when one of the counters [`Self::attempt`]
    /// counts has already reached its limit in its open window; counts nothing (one read), so
    /// that a successful log-in writes nothing: log-ins count only when they fail (a wrong
    /// proof at login-m1 counts with [`Self::attempt`]). Refuses exactly when
    /// [`Self::attempt`] would find the limit exceeded with its hit.
    pub async fn check(
        &self,
        attempt: Attempt,
        account: &str,
        client: IpAddr,
    ) -> Result<(), ApiError> {
        let now = crate::state::now_ms();
        let chain = self.chain(attempt, account, client);
        match self.store.over_limit(now, WINDOW_MS, &chain).await? {
            None => Ok(()),
            Some(over) => Err(ApiError::RateLimited {
                retry_after_secs: retry_after_secs(over.window_start, now),
            }),
        }
    }

    /// The counters of an attempt on `account` from `client`, in the order they are counted.
    fn chain(&self, attempt: Attempt, account: &str, client: IpAddr) -> [Counter; 3] {
        let label = attempt.label();
        let address = address_key(client);
        [
            Counter {
                key: key("attempts-from", &[&address]),
                limit: self.per_address,
            },
            Counter {
                key: key(label, &[account, &address]),
                limit: self.per_account_address,
            },
            Counter {
                key: key(label, &[account]),
                limit: self.per_account,
            },
        ]
    }

    /// Counts one look-up of whether an e-mail has an account, by the account `caller_id`.
    pub async fn lookup(&self, caller_id: &str) -> Result<(), ApiError> {
        let counter = Counter {
            key: key("lookup", &[caller_id]),
            limit: self.lookups_per_caller,
        };
        self.hit(&[counter]).await
    }

    async fn hit(&self, chain: &[Counter]) -> Result<(), ApiError> {
        let now = crate::state::now_ms();
        match self.store.count_hit(now, WINDOW_MS, chain).await? {
            None => Ok(()),
            Some(over) => Err(ApiError::RateLimited {
                retry_after_secs: retry_after_secs(over.window_start, now),
            }),
        }
    }
}

/// Above this many keys, the flood guard forgets windows that have ended.
const SWEEP_ABOVE: usize = 10_000;

/// Windows kept in this process's memory: key → (start, hits).
#[derive(Default)]
struct LocalWindows {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl LocalWindows {
    /// Counts one hit on `key` at `now`; `Err(seconds until the window ends)` when over `limit`.
    fn hit(&self, key: &str, limit: u32, now: Instant) -> Result<(), u64> {
        let window = Duration::from_millis(WINDOW_MS.unsigned_abs());
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let (start, hits) = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(*start) >= window {
            *start = now;
            *hits = 0;
        }
        if *hits >= limit {
            let left = window.saturating_sub(now.duration_since(*start));
            return Err(u64::try_from(left.as_millis().div_ceil(1000).max(1)).unwrap_or(60));
        }
        *hits += 1;
        Ok(())
    }
}

/// Whole seconds until the window that began at `window_start` ends (at least 1).
fn retry_after_secs(window_start: i64, now: i64) -> u64 {
    let left_ms = u64::try_from(window_start + WINDOW_MS - now).unwrap_or(0);
    left_ms.div_ceil(1000).max(1)
}

/// What an address is counted as: an IPv4 address alone (an IPv4-mapped IPv6 address is its
/// IPv4 address), an IPv6 address by its /64, the block one subscriber or host usually gets
/// whole (counting single addresses would give every such client 2^64 budgets).
pub fn address_key(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    }
}

/// SHA-256 of a key's kind and parts, each ended by a zero byte (no part holds one: e-mails,
/// account ids and addresses are text without NUL).
fn key(kind: &str, parts: &[&str]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(kind.as_bytes());
    context.update(&[0]);
    for part in parts {
        context.update(part.as_bytes());
        context.update(&[0]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("a test address")
    }

    #[test]
    fn ipv6_addresses_in_one_slash_64_share_a_key() {
        let one = address_key(ip("2001:db8:1:2:aaaa::1"));
        let two = address_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_eq!(one, two);
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_ne!(one, address_key(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn ipv4_addresses_are_counted_alone_and_mapped_ones_as_ipv4() {
        assert_eq!(address_key(ip("192.0.2.7")), "192.0.2.7");
        assert_ne!(address_key(ip("192.0.2.7")), address_key(ip("192.0.2.8")));
        assert_eq!(address_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
    }

    #[test]
    fn keys_of_different_kinds_or_parts_differ() {
        assert_ne!(key("login", &["a@x", "1"]), key("vault", &["a@x", "1"]));
        assert_ne!(key("login", &["a@x", "1"]), key("login", &["a@x1"]));
        assert_eq!(key("login", &["a@x"]), key("login", &["a@x"]));
    }

    #[test]
    fn the_flood_guard_limits_each_key_for_a_window() {
        let guard = LocalWindows::default();
        let start = Instant::now();
        assert!(guard.hit("a", 2, start).is_ok());
        assert!(guard.hit("a", 2, start).is_ok());
        let retry = guard.hit("a", 2, start).expect_err("over the limit");
        assert!((1..=60).contains(&retry));
        assert!(guard.hit("b", 2, start).is_ok());
        assert!(guard.hit("a", 2, start + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_the_window_end() {
        assert_eq!(retry_after_secs(0, 0), 60);
        assert_eq!(retry_after_secs(0, 59_001), 1);
        assert_eq!(retry_after_secs(0, 59_999), 1);
        assert_eq!(retry_after_secs(0, 30_500), 30);
    }
}
