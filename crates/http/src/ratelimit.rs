//! Rate limits on failed client authentication (DESIGN.md §8): token buckets
//! per client address and per client id, drained by failures only. A key whose
//! bucket is empty is refused with 429 and `Retry-After` before anything is
//! verified, until the bucket refills.
//!
//! The success path costs one atomic load while no key has failed recently
//! (the map is empty), and one map look-up otherwise. Buckets live in the
//! process: behind a load balancer each node counts on its own
//! (docs/security/model.md#limits).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tessera_domain::Timestamp;

/// One bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Failures allowed in a burst.
    pub burst: f64,
    /// Failures per second the bucket regains.
    pub per_second: f64,
}

/// The limits; a `burst` of 0 turns a bucket kind off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePolicy {
    /// Per client address.
    pub per_address: Bucket,
    /// Per client id (OAuth client id or username of a client-credentials grant).
    pub per_client: Bucket,
}

impl Default for RatePolicy {
    fn default() -> Self {
        Self {
            per_address: Bucket { burst: 100.0, per_second: 10.0 },
            per_client: Bucket { burst: 50.0, per_second: 5.0 },
        }
    }
}

/// Buckets are kept at most this many; full ones are dropped first.
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Timestamp,
}

/// A refusal: come back after `retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Whole seconds, at least 1.
    pub retry_after_secs: u64,
}

/// What a request is counted under.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    addr: Option<IpAddr>,
    client: Option<String>,
}

impl Keys {
    /// The client address and, when the request names one, the client id.
    #[must_use]
    pub fn new(addr: Option<IpAddr>, client: Option<&str>) -> Self {
        // Client ids longer than any Tessera stores cannot match one; they are
        // counted by address only, which also bounds the memory they take.
        let client = client.filter(|c| !c.is_empty() && c.len() <= 200).map(str::to_lowercase);
        Self { addr, client }
    }

    fn each(&self, policy: &RatePolicy) -> Vec<(String, Bucket)> {
        let mut out = Vec::with_capacity(2);
        if let Some(a) = self.addr
            && policy.per_address.burst > 0.0
        {
            out.push((format!("a:{a}"), policy.per_address));
        }
        if let Some(c) = &self.client
            && policy.per_client.burst > 0.0
        {
            out.push((format!("c:{c}"), policy.per_client));
        }
        out
    }
}

/// The failure buckets.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    policy: RatePolicy,
    /// How many buckets exist; 0 lets [`Self::check`] return at once.
    active: AtomicUsize,
    buckets: Mutex<HashMap<String, Level>>,
}

impl FailureLimiter {
    /// A limiter with `policy`.
    #[must_use]
    pub fn new(policy: RatePolicy) -> Self {
        Self { policy, active: AtomicUsize::new(0), buckets: Mutex::default() }
    }

    fn level(bucket: Bucket, level: Level, now: Timestamp) -> f64 {
        let secs = (now - level.at).num_milliseconds().max(0) as f64 / 1000.0;
        (level.tokens + secs * bucket.per_second).min(bucket.burst)
    }

    /// Whether a request under `keys` may be verified at all.
    ///
    /// # Errors
    /// [`Limited`] when one of its buckets is empty.
    pub fn check(&self, keys: &Keys, now: Timestamp) -> Result<(), Limited> {
        if self.active.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let Ok(mut map) = self.buckets.lock() else { return Ok(()) };
        for (key, bucket) in keys.each(&self.policy) {
            let Some(level) = map.get(&key).copied() else { continue };
            let tokens = Self::level(bucket, level, now);
            if tokens >= bucket.burst {
                map.remove(&key);
                self.active.store(map.len(), Ordering::Release);
            } else if tokens < 1.0 {
                let wait = if bucket.per_second > 0.0 { (1.0 - tokens) / bucket.per_second } else { 3600.0 };
                return Err(Limited { retry_after_secs: (wait.ceil() as u64).max(1) });
            }
        }
        Ok(())
    }

    /// Counts one failed authentication under `keys`.
    pub fn failed(&self, keys: &Keys, now: Timestamp) {
        let Ok(mut map) = self.buckets.lock() else { return };
        if map.len() >= MAX_BUCKETS {
            let policy = self.policy;
            map.retain(|k, l| {
                let bucket = if k.starts_with("a:") { policy.per_address } else { policy.per_client };
                Self::level(bucket, *l, now) < bucket.burst
            });
            if map.len() >= MAX_BUCKETS {
                map.clear();
            }
        }
        for (key, bucket) in keys.each(&self.policy) {
            let level = map.get(&key).map_or(bucket.burst, |l| Self::level(bucket, *l, now));
            map.insert(key, Level { tokens: (level - 1.0).max(0.0), at: now });
        }
        self.active.store(map.len(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_drain_the_buckets_and_time_refills_them() {
        let policy = RatePolicy {
            per_address: Bucket { burst: 3.0, per_second: 1.0 },
            per_client: Bucket { burst: 2.0, per_second: 0.5 },
        };
        let limiter = FailureLimiter::new(policy);
        let now = chrono::Utc::now();
        let a = Keys::new("192.0.2.1".parse().ok(), Some("ci-bot"));
        let other_addr = Keys::new("192.0.2.2".parse().ok(), Some("ci-bot"));
        let other_client = Keys::new("192.0.2.1".parse().ok(), Some("other"));
        assert!(limiter.check(&a, now).is_ok());

        limiter.failed(&a, now);
        limiter.failed(&a, now);
        assert_eq!(limiter.check(&other_addr, now), Err(Limited { retry_after_secs: 2 }), "the client id is empty");
        assert!(limiter.check(&other_client, now).is_ok(), "the address has one left");
        limiter.failed(&other_client, now);
        assert!(limiter.check(&Keys::new("192.0.2.1".parse().ok(), None), now).is_err(), "the address is empty");

        let later = now + chrono::Duration::seconds(2);
        assert!(limiter.check(&a, later).is_ok(), "refilled");
        let much_later = now + chrono::Duration::seconds(60);
        assert!(limiter.check(&a, much_later).is_ok());
        assert!(limiter.check(&other_client, much_later).is_ok());
    }

    #[test]
    fn no_failures_cost_no_lock() {
        let limiter = FailureLimiter::default();
        assert_eq!(limiter.active.load(Ordering::Acquire), 0);
        assert!(limiter.check(&Keys::new(None, Some("x")), chrono::Utc::now()).is_ok());
    }
}
