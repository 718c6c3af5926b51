//! Fixed-window rate limits for the log-in steps, per account and per client address.
//!
//! Counters live in this process's memory: with several server processes behind one address
//! each enforces its own limit, which bounds an attacker to the limit times the process count.
//! Entries older than a window are swept whenever the map grows past a bound.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

const WINDOW: Duration = Duration::from_secs(60);
const SWEEP_ABOVE: usize = 10_000;

/// The limiter. Keys are an account's e-mail or a client address.
pub struct RateLimiter {
    per_account: u32,
    per_address: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter allowing `per_account` and `per_address` attempts per minute.
    pub fn new(per_account: u32, per_address: u32) -> Self {
        Self {
            per_account,
            per_address,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt for the account; `Err(seconds)` when over the limit.
    pub fn account(&self, email: &str) -> Result<(), u64> {
        self.hit(format!("account:{email}"), self.per_account)
    }

    /// Counts one request from the address; `Err(seconds)` when over the limit.
    pub fn address(&self, address: IpAddr) -> Result<(), u64> {
        self.hit(format!("address:{address}"), self.per_address)
    }

    fn hit(&self, key: String, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= limit {
            let wait = WINDOW.saturating_sub(now.duration_since(*start));
            return Err(wait.as_secs() + 1);
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_key_separately() {
        let limiter = RateLimiter::new(2, 3);
        assert!(limiter.account("a@x").is_ok());
        assert!(limiter.account("a@x").is_ok());
        let retry = limiter
            .account("a@x")
            .expect_err("third attempt is over the limit");
        assert!((1..=60).contains(&retry));
        assert!(limiter.account("b@x").is_ok());
        let address: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(limiter.address(address).is_ok());
        }
        assert!(limiter.address(address).is_err());
    }
}
