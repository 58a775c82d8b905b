//! Throttling of console logins (DESIGN.md §8), so that passwords cannot be
//! guessed online at argon2 speed and the throttle cannot be turned against
//! the people it protects.
//!
//! - An attempt takes its place **before** the password is checked
//!   ([`LoginThrottle::begin`], one step under one lock), and attempts in
//!   flight count like failures: parallel requests cannot all pass the check
//!   and then all run argon2.
//! - Failures count per (login name, client address) and per client address:
//!   an address that guesses is refused, other addresses are not affected.
//! - Per login name over all addresses, failures beyond a free allowance make
//!   each further attempt wait a delay that doubles up to a ceiling, and an
//!   hourly bound caps the guesses; both apply only to addresses that have not
//!   logged in as that name before, so the real user keeps logging in from
//!   where they usually do while someone else guesses.
//!
//! Counters live in the process: behind a load balancer each node counts on its
//! own, which multiplies the allowance by the number of nodes but still bounds
//! it (docs/console.md).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::Duration;
use tessera_domain::Timestamp;

/// The limits of the login throttle.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures per (login name, address) within `window` before that address
    /// is refused for that name.
    pub per_pair: u32,
    /// Failures per address (any names) within `window` before the address is
    /// refused.
    pub per_address: u32,
    /// How long the two counts above last.
    pub window: Duration,
    /// Failures per login name (all addresses) within an hour that cost no delay.
    pub per_name_free: u32,
    /// Failures per login name (all addresses) within an hour after which
    /// addresses that never logged in as that name are refused until the hour
    /// is over.
    pub per_name_hourly: u32,
    /// The longest delay between attempts for one name.
    pub max_delay: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_pair: 5,
            per_address: 20,
            window: Duration::minutes(15),
            per_name_free: 10,
            per_name_hourly: 100,
            max_delay: Duration::seconds(60),
        }
    }
}

/// Keys are kept at most this many; expired windows are dropped first.
const MAX_ENTRIES: usize = 100_000;
/// Addresses remembered per name as having logged in.
const KNOWN_PER_NAME: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Timestamp,
    failures: u32,
    /// Attempts whose password check has not finished.
    pending: u32,
    last_failure: Option<Timestamp>,
}

impl Window {
    const fn new(now: Timestamp) -> Self {
        Self { started: now, failures: 0, pending: 0, last_failure: None }
    }

    /// Failures plus attempts in flight, within `span` of its start.
    fn used(&self, now: Timestamp, span: Duration) -> u32 {
        if now - self.started < span { self.failures.saturating_add(self.pending) } else { self.pending }
    }
}

#[derive(Debug, Default)]
struct State {
    windows: HashMap<String, Window>,
    /// Login name → addresses that logged in as it.
    known: HashMap<String, Vec<IpAddr>>,
}

/// Login attempt counters.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    state: Mutex<State>,
}

/// An attempt that was refused; `retry_after` is when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Whole seconds to wait, at least 1.
    pub retry_after_secs: u64,
}

fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

fn addr_text(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
}

fn keys(name: &str, addr: Option<IpAddr>) -> [String; 3] {
    let (name, addr) = (name_key(name), addr_text(addr));
    [format!("p:{name}\0{addr}"), format!("a:{addr}"), format!("n:{name}")]
}

fn secs(d: Duration) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0).max(1)
}

impl LoginThrottle {
    /// A throttle with `policy`.
    #[must_use]
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self { policy, state: Mutex::default() }
    }

    /// The policy.
    #[must_use]
    pub const fn policy(&self) -> &ThrottlePolicy {
        &self.policy
    }

    /// Takes a place for one attempt of `name` from `addr`, or refuses it. The
    /// place counts as a failure until [`Attempt::succeeded`] says otherwise
    /// (dropping the attempt counts it as failed).
    ///
    /// # Errors
    /// [`Refused`] when the pair, the address or the name is over its limit.
    pub fn begin(&self, name: &str, addr: Option<IpAddr>, now: Timestamp) -> Result<Attempt<'_>, Refused> {
        let p = &self.policy;
        let hour = Duration::hours(1);
        let Ok(mut state) = self.state.lock() else { return Err(Refused { retry_after_secs: 1 }) };
        if state.windows.len() >= MAX_ENTRIES {
            let span = p.window.max(hour);
            state.windows.retain(|_, w| w.pending > 0 || now - w.started < span);
            if state.windows.len() >= MAX_ENTRIES {
                // A flood of live counters (many addresses, many names): forget
                // them rather than grow without bound or refuse everyone. The
                // known addresses stay — only real logins add them.
                state.windows.retain(|_, w| w.pending > 0);
            }
        }
        let [pair, address, name_k] = keys(name, addr);
        let get = |k: &str| state.windows.get(k).copied().unwrap_or_else(|| Window::new(now));
        let (wp, wa, wn) = (get(&pair), get(&address), get(&name_k));
        let window_left = |w: &Window| secs(p.window - (now - w.started));
        if wp.used(now, p.window) >= p.per_pair {
            return Err(Refused { retry_after_secs: window_left(&wp) });
        }
        if wa.used(now, p.window) >= p.per_address {
            return Err(Refused { retry_after_secs: window_left(&wa) });
        }
        let known = addr.is_some_and(|a| state.known.get(&name_key(name)).is_some_and(|k| k.contains(&a)));
        if !known {
            let used = wn.used(now, hour);
            if used >= p.per_name_hourly {
                return Err(Refused { retry_after_secs: secs(hour - (now - wn.started)) });
            }
            if used >= p.per_name_free {
                // One delayed attempt at a time, each a doubling delay after
                // the last failure.
                if wn.pending > 0 {
                    return Err(Refused { retry_after_secs: 1 });
                }
                let over = used - p.per_name_free;
                let delay = Duration::seconds(1_i64 << over.min(20)).min(p.max_delay);
                if let Some(last) = wn.last_failure {
                    let ready = last + delay;
                    if now < ready {
                        return Err(Refused { retry_after_secs: secs(ready - now) });
                    }
                }
            }
        }
        for (key, span) in [(pair, p.window), (address, p.window), (name_k, hour)] {
            let w = state.windows.entry(key).or_insert_with(|| Window::new(now));
            if now - w.started >= span && w.pending == 0 {
                *w = Window::new(now);
            }
            w.pending = w.pending.saturating_add(1);
        }
        drop(state);
        Ok(Attempt { throttle: self, name: name.to_owned(), addr, now, done: false })
    }

    fn finish(&self, name: &str, addr: Option<IpAddr>, now: Timestamp, outcome: Outcome) {
        let Ok(mut state) = self.state.lock() else { return };
        let [pair, address, name_k] = keys(name, addr);
        for key in [&pair, &address, &name_k] {
            if let Some(w) = state.windows.get_mut(key.as_str()) {
                w.pending = w.pending.saturating_sub(1);
                if outcome == Outcome::Failed {
                    w.failures = w.failures.saturating_add(1);
                    w.last_failure = Some(now);
                }
            }
        }
        if outcome == Outcome::Succeeded {
            // The address's count stays: one address guessing many names is
            // still bounded.
            state.windows.remove(&pair);
            if let Some(a) = addr {
                let known = state.known.entry(name_key(name)).or_default();
                if !known.contains(&a) {
                    if known.len() >= KNOWN_PER_NAME {
                        known.remove(0);
                    }
                    known.push(a);
                }
            }
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Succeeded,
    Failed,
    /// The password was never checked.
    Abandoned,
}

/// A place taken by [`LoginThrottle::begin`].
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    name: String,
    addr: Option<IpAddr>,
    now: Timestamp,
    done: bool,
}

impl Attempt<'_> {
    /// The password was right: forgets this pair's failures and remembers the
    /// address for the name.
    pub fn succeeded(mut self) {
        self.done = true;
        self.throttle.finish(&self.name, self.addr, self.now, Outcome::Succeeded);
    }

    /// The password was never checked (the server was busy or its database
    /// unreachable): the place is given back and nothing is counted.
    pub fn abandon(mut self) {
        self.done = true;
        self.throttle.finish(&self.name, self.addr, self.now, Outcome::Abandoned);
    }

    /// The attempt failed.
    pub fn failed(self) {
        drop(self);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.throttle.finish(&self.name, self.addr, self.now, Outcome::Failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            per_pair: 2,
            per_address: 3,
            window: Duration::minutes(1),
            per_name_free: 4,
            per_name_hourly: 6,
            max_delay: Duration::seconds(8),
        }
    }

    fn fail(t: &LoginThrottle, name: &str, addr: Option<IpAddr>, now: Timestamp) {
        t.begin(name, addr, now).expect("allowed").failed();
    }

    #[test]
    fn refuses_a_pair_and_an_address_but_not_others() {
        let t = LoginThrottle::new(policy());
        let now = chrono::Utc::now();
        let (a, b) = (ip("127.0.0.1"), ip("127.0.0.2"));
        fail(&t, "Admin", a, now);
        fail(&t, "admin", a, now);
        assert!(t.begin("ADMIN", a, now).is_err(), "per pair, case-insensitive");
        t.begin("admin", b, now).expect("another address is not affected").succeeded();
        fail(&t, "x", a, now);
        assert!(t.begin("z", a, now).is_err(), "per address");
        assert!(t.begin("z", b, now).is_ok());
        assert!(t.begin("admin", a, now + Duration::minutes(2)).is_ok(), "the window passed");
    }

    #[test]
    fn attempts_in_flight_count_before_they_finish() {
        let t = LoginThrottle::new(policy());
        let now = chrono::Utc::now();
        let a = ip("10.0.0.1");
        let first = t.begin("admin", a, now).unwrap();
        let second = t.begin("admin", a, now).unwrap();
        assert!(t.begin("admin", a, now).is_err(), "two in flight fill the pair's allowance");
        first.succeeded();
        drop(second);
        assert!(t.begin("admin", a, now).is_ok(), "a success clears the pair");

        let b = ip("10.0.0.2");
        for _ in 0..5 {
            t.begin("admin", b, now).expect("abandoned attempts count nothing").abandon();
        }
    }

    #[test]
    fn names_get_a_doubling_delay_and_an_hourly_bound_but_known_addresses_pass() {
        let t = LoginThrottle::new(policy());
        let mut now = chrono::Utc::now();
        let home = ip("192.0.2.1");
        t.begin("admin", home, now).unwrap().succeeded();
        // Four free failures from four addresses.
        for i in 0..4 {
            fail(&t, "admin", ip(&format!("198.51.100.{i}")), now);
        }
        let stranger = ip("203.0.113.9");
        let refused = t.begin("admin", stranger, now).unwrap_err();
        assert_eq!(refused.retry_after_secs, 1, "the first delay");
        now += Duration::seconds(1);
        fail(&t, "admin", stranger, now);
        let refused = t.begin("admin", ip("203.0.113.10"), now).unwrap_err();
        assert_eq!(refused.retry_after_secs, 2, "doubled");
        t.begin("admin", home, now).expect("the known address is not delayed").succeeded();
        now += Duration::seconds(2);
        fail(&t, "admin", ip("203.0.113.10"), now);
        let refused = t.begin("admin", ip("203.0.113.11"), now + Duration::seconds(30)).unwrap_err();
        assert!(refused.retry_after_secs > 60, "hourly bound reached: {refused:?}");
        t.begin("admin", home, now).expect("still not for the known address").succeeded();
        assert!(t.begin("admin", ip("203.0.113.11"), now + Duration::hours(1)).is_ok(), "the hour passed");
    }
}
