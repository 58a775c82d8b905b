//! Read caches for the hot paths (DESIGN.md §6) and the rule that keeps them
//! honest: an [`Epoch`] that every committed change to access-relevant state
//! advances.
//!
//! A reader notes the epoch *before* it reads the database and stores what it
//! read under that epoch; a lookup only answers from an entry of the current
//! epoch. A change commits first and advances the epoch after, so an entry
//! read before the change can never be served after it — not even one whose
//! read raced the commit. On one node that makes invalidation immediate. Other
//! nodes sharing PostgreSQL advance their epoch when the change's notification
//! arrives (`LISTEN/NOTIFY`, sent inside the committing transaction); the entry
//! lifetime (at most one second) bounds the window should a notification be
//! lost.
//!
//! Entries are keyed by ids (a token's id, a client id, a user id), never by a
//! raw credential; a cached credential is still compared with the presented
//! one on every hit.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest an entry may live: the fallback bound on how late another node
/// may notice a change (the "TTL of at most 1 s").
pub const MAX_TTL: Duration = Duration::from_secs(1);

/// A counter that every committed access-relevant change advances.
#[derive(Debug, Default)]
pub struct Epoch(AtomicU64);

impl Epoch {
    /// The current value.
    #[must_use]
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Advances the epoch: every entry cached so far stops answering.
    pub fn advance(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// How long entries live and how many a cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Entry lifetime, at most [`MAX_TTL`]; zero turns caching off.
    pub ttl: Duration,
    /// Entries per cache; zero turns caching off.
    pub capacity: usize,
}

impl CachePolicy {
    /// No caching at all.
    pub const OFF: Self = Self { ttl: Duration::ZERO, capacity: 0 };

    /// A policy with `ttl` capped at [`MAX_TTL`].
    #[must_use]
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl: ttl.min(MAX_TTL), capacity }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.capacity > 0
    }
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self::new(MAX_TTL, 50_000)
    }
}

struct Entry<V> {
    value: V,
    epoch: u64,
    born: Instant,
}

/// A bounded map whose entries answer only within their epoch and lifetime.
pub struct EpochCache<K, V> {
    epoch: Arc<Epoch>,
    policy: CachePolicy,
    map: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> std::fmt::Debug for EpochCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochCache").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// A ticket taken before a database read: the epoch the read belongs to.
#[derive(Debug, Clone, Copy)]
pub struct ReadTicket(u64);

impl<K: Hash + Eq, V: Clone> EpochCache<K, V> {
    /// An empty cache following `epoch`.
    #[must_use]
    pub fn new(epoch: Arc<Epoch>, policy: CachePolicy) -> Self {
        Self { epoch, policy, map: Mutex::new(HashMap::new()) }
    }

    /// The cached value for `key`, if it was read in the current epoch and is
    /// younger than the lifetime.
    pub fn get(&self, key: &K) -> Option<V> {
        if !self.policy.enabled() {
            return None;
        }
        let epoch = self.epoch.current();
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get(key)?;
        (entry.epoch == epoch && entry.born.elapsed() < self.policy.ttl).then(|| entry.value.clone())
    }

    /// Takes the ticket for a read about to happen; pass it to [`Self::insert`].
    #[must_use]
    pub fn ticket(&self) -> ReadTicket {
        ReadTicket(self.epoch.current())
    }

    /// Stores `value`, read under `ticket`, unless a change committed since
    /// (then the read may be stale and is not kept). A full cache first drops
    /// what can no longer answer, then, if still full, everything.
    pub fn insert(&self, key: K, value: V, ticket: ReadTicket) {
        if !self.policy.enabled() || ticket.0 != self.epoch.current() {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.policy.capacity && !map.contains_key(&key) {
            let ttl = self.policy.ttl;
            map.retain(|_, e| e.epoch == ticket.0 && e.born.elapsed() < ttl);
            if map.len() >= self.policy.capacity {
                map.clear();
            }
        }
        map.insert(key, Entry { value, epoch: ticket.0, born: Instant::now() });
    }

    /// `load()`'s value for `key`, from the cache when it holds it. The ticket
    /// is taken before the read, so a value read while a change commits is not
    /// kept.
    ///
    /// # Errors
    /// `load`'s.
    pub async fn get_or_load<E, F, Fut>(&self, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let ticket = self.ticket();
        let value = load().await?;
        self.insert(key, value.clone(), ticket);
        Ok(value)
    }

    /// As [`Self::get_or_load`] for a lookup that may find nothing; only what
    /// was found is kept.
    ///
    /// # Errors
    /// `load`'s.
    pub async fn get_or_find<E, F, Fut>(&self, key: K, find: F) -> Result<Option<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(hit) = self.get(&key) {
            return Ok(Some(hit));
        }
        let ticket = self.ticket();
        let found = find().await?;
        if let Some(value) = &found {
            self.insert(key, value.clone(), ticket);
        }
        Ok(found)
    }

    /// Forgets `key` (for a change this node just made; other entries stay).
    pub fn remove(&self, key: &K) {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
    }

    /// How many entries are held (live or not yet swept).
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether no entry is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(capacity: usize) -> (Arc<Epoch>, EpochCache<u32, &'static str>) {
        let epoch = Arc::new(Epoch::default());
        (epoch.clone(), EpochCache::new(epoch, CachePolicy::new(Duration::from_secs(1), capacity)))
    }

    #[test]
    fn an_entry_answers_within_its_epoch() {
        let (_, c) = cache(8);
        let t = c.ticket();
        c.insert(1, "a", t);
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.get(&2), None);
    }

    #[test]
    fn a_change_after_the_read_stops_the_entry_at_once() {
        let (epoch, c) = cache(8);
        c.insert(1, "a", c.ticket());
        epoch.advance();
        assert_eq!(c.get(&1), None, "a committed change invalidates everything read before it");
    }

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let (epoch, c) = cache(8);
        let ticket = c.ticket(); // the read starts …
        epoch.advance(); // … a change commits while it runs …
        c.insert(1, "stale", ticket); // … and its result arrives.
        assert_eq!(c.get(&1), None);
        assert!(c.is_empty());
    }

    #[test]
    fn entries_expire_and_the_lifetime_is_capped() {
        let epoch = Arc::new(Epoch::default());
        assert_eq!(CachePolicy::new(Duration::from_secs(60), 1).ttl, MAX_TTL);
        let c = EpochCache::new(epoch, CachePolicy::new(Duration::from_millis(1), 8));
        c.insert(1, "a", c.ticket());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let (_, c) = cache(4);
        for i in 0..100 {
            c.insert(i, "v", c.ticket());
            assert!(c.len() <= 4);
        }
        assert_eq!(c.get(&99), Some("v"), "the newest entry is kept");
    }

    #[test]
    fn off_caches_nothing() {
        let c: EpochCache<u32, u32> = EpochCache::new(Arc::default(), CachePolicy::OFF);
        c.insert(1, 1, c.ticket());
        assert_eq!(c.get(&1), None);
        assert!(c.is_empty());
    }
}
