//! Throttling of failed console logins, per username and per client address, so
//! that passwords cannot be guessed online at argon2 speed.
//!
//! Counters live in the process: behind a load balancer each node counts on its
//! own, which multiplies the allowance by the number of nodes but still bounds it
//! (docs/console.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::Duration;
use tessera_domain::Timestamp;

/// How many failures are allowed within a window.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures per username before further attempts are refused.
    pub per_username: u32,
    /// Failures per client address before further attempts are refused.
    pub per_address: u32,
    /// How long failures count.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self { per_username: 5, per_address: 20, window: Duration::minutes(15) }
    }
}

/// Keys are kept at most this many; older windows are dropped first.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
}

/// Failed-login counters.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    windows: Mutex<HashMap<String, Window>>,
}

fn user_key(username: &str) -> String {
    format!("u:{}", username.trim().to_lowercase())
}

fn addr_key(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "a:unknown".to_owned(), |a| format!("a:{a}"))
}

impl LoginThrottle {
    /// A throttle with `policy`.
    #[must_use]
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self { policy, windows: Mutex::default() }
    }

    fn failures(&self, map: &HashMap<String, Window>, key: &str, now: Timestamp) -> u32 {
        map.get(key).filter(|w| now - w.started < self.policy.window).map_or(0, |w| w.failures)
    }

    /// Whether a login attempt for `username` from `addr` may be checked at all.
    #[must_use]
    pub fn allows(&self, username: &str, addr: Option<IpAddr>, now: Timestamp) -> bool {
        let Ok(map) = self.windows.lock() else { return false };
        self.failures(&map, &user_key(username), now) < self.policy.per_username
            && self.failures(&map, &addr_key(addr), now) < self.policy.per_address
    }

    /// Counts a failed attempt.
    pub fn failed(&self, username: &str, addr: Option<IpAddr>, now: Timestamp) {
        let Ok(mut map) = self.windows.lock() else { return };
        if map.len() >= MAX_ENTRIES {
            let window = self.policy.window;
            map.retain(|_, w| now - w.started < window);
        }
        for key in [user_key(username), addr_key(addr)] {
            let w = map.entry(key).or_insert(Window { started: now, failures: 0 });
            if now - w.started >= self.policy.window {
                *w = Window { started: now, failures: 0 };
            }
            w.failures = w.failures.saturating_add(1);
        }
    }

    /// Forgets the failures of `username` after a successful login (the
    /// address's count stays: one address guessing many usernames is still
    /// bounded).
    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.windows.lock() {
            map.remove(&user_key(username));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_and_recovers_after_the_window() {
        let t = LoginThrottle::new(ThrottlePolicy { per_username: 2, per_address: 3, window: Duration::minutes(1) });
        let now = chrono::Utc::now();
        let a: Option<IpAddr> = "127.0.0.1".parse().ok();
        let b: Option<IpAddr> = "127.0.0.2".parse().ok();
        assert!(t.allows("Admin", a, now));
        t.failed("admin", a, now);
        t.failed("ADMIN", b, now);
        assert!(!t.allows("admin", a, now), "per username, case-insensitive");
        assert!(t.allows("other", a, now));
        t.failed("x", a, now);
        t.failed("y", a, now);
        assert!(!t.allows("z", a, now), "per address");
        assert!(t.allows("z", b, now));
        assert!(t.allows("admin", a, now + Duration::minutes(2)), "the window passed");
    }
}
