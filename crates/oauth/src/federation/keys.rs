//! The key sets of federated issuers, fetched through an outbound client and
//! cached (DESIGN.md §9, docs/federation.md "Keys"):
//!
//! - a key set is kept for its `Cache-Control: max-age`, bounded between
//!   [`KeyCacheConfig::min_ttl`] and [`KeyCacheConfig::max_ttl`]
//!   ([`KeyCacheConfig::default_ttl`] without one); while it is fresh nothing
//!   is fetched, so exchanges with warm keys do no I/O;
//! - a token whose `kid` the cached set lacks (the issuer rotated) refreshes
//!   it, but at most once per [`KeyCacheConfig::refresh_interval`] per
//!   issuer: a flood of tokens with made-up `kid`s costs the issuer one fetch
//!   per interval;
//! - when a refresh fails, the cached keys keep working until
//!   [`KeyCacheConfig::max_stale`] after they were fetched; past that the
//!   exchange fails closed ([`FederationError::KeysUnavailable`]);
//! - concurrent misses for one issuer wait for one fetch.
//!
//! With discovery, the issuer's OpenID Connect discovery document names the
//! `jwks_uri`; its `issuer` must be the configured issuer exactly (OpenID
//! Connect Discovery §4.3).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde_json::Value;
use tessera_domain::Timestamp;
use tessera_domain::federation::{Issuer, KeySource};

use super::{FederationError, parse_inline_jwks};

/// Most keys read from one key set; the rest are ignored.
pub const MAX_KEYS: usize = 100;

/// A document fetched by the outbound client.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The body, already bounded in size by the client.
    pub body: Vec<u8>,
    /// `Cache-Control: max-age`, when the answer had one.
    pub max_age: Option<Duration>,
}

/// Why a fetch failed; for logs and metrics (never a URL's secrets: the
/// URLs are an administrator's configuration, not credentials).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// The outbound client, as the key cache needs it: `GET` a JSON document.
/// Implemented over HTTP with the guards of DESIGN.md §9 in
/// `tessera_http::outbound`, and by a fake in tests.
#[async_trait]
pub trait FetchJson: Send + Sync {
    /// Fetches `url`.
    ///
    /// # Errors
    /// Any failure: refused by the guards, unreachable, a status other than
    /// 200, too large, too slow.
    async fn get(&self, url: &str) -> Result<Fetched, FetchError>;
}

/// The cache's bounds (docs/federation.md, "Keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCacheConfig {
    /// Shortest time a key set is kept, whatever its `max-age` says.
    pub min_ttl: Duration,
    /// Longest time a key set is kept before it is fetched again.
    pub max_ttl: Duration,
    /// How long a key set without `max-age` is kept.
    pub default_ttl: Duration,
    /// How long after its fetch a key set keeps working while its issuer
    /// cannot be reached.
    pub max_stale: Duration,
    /// Fewest time between two fetches for one issuer that an unknown `kid`
    /// or a failure may cause.
    pub refresh_interval: Duration,
}

impl Default for KeyCacheConfig {
    fn default() -> Self {
        Self {
            min_ttl: Duration::minutes(5),
            max_ttl: Duration::hours(24),
            default_ttl: Duration::hours(1),
            max_stale: Duration::hours(24),
            refresh_interval: Duration::seconds(60),
        }
    }
}

/// One issuer's cached keys.
#[derive(Debug, Clone)]
struct Entry {
    keys: Option<Arc<JwkSet>>,
    fetched_at: Option<Timestamp>,
    fresh_until: Timestamp,
    last_attempt: Timestamp,
}

/// The cache of key sets, shared by every exchange of the process.
pub struct KeyCache {
    fetcher: Arc<dyn FetchJson>,
    config: KeyCacheConfig,
    entries: Mutex<HashMap<String, Entry>>,
    /// One lock per source, so that concurrent misses wait for one fetch.
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Fetches made, failed: for metrics.
    counters: Mutex<(u64, u64)>,
    /// Inline key sets already parsed, by the SHA-256 of their text, so an
    /// exchange does not parse its credential's set again.
    inline: Mutex<HashMap<[u8; 32], Arc<JwkSet>>>,
}

/// Most parsed inline key sets kept; past it the map starts over.
const MAX_INLINE_SETS: usize = 1024;

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What [`KeyCache::keys`] should do with what it has.
enum Plan {
    Use(Arc<JwkSet>),
    Fetch,
    Fail,
}

impl KeyCache {
    /// A cache fetching through `fetcher`.
    #[must_use]
    pub fn new(fetcher: Arc<dyn FetchJson>, config: KeyCacheConfig) -> Self {
        Self {
            fetcher,
            config,
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            counters: Mutex::new((0, 0)),
            inline: Mutex::new(HashMap::new()),
        }
    }

    /// Fetches made and fetches failed since start.
    #[must_use]
    pub fn fetch_counts(&self) -> (u64, u64) {
        *self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The keys that may verify a token of `issuer` signed with key `kid`,
    /// from `source`, at `now`.
    ///
    /// # Errors
    /// [`FederationError::KeysUnavailable`] when no usable key set can be had.
    pub async fn keys(
        &self,
        issuer: &Issuer,
        source: &KeySource,
        kid: Option<&str>,
        now: Timestamp,
    ) -> Result<Arc<JwkSet>, FederationError> {
        let url = match source {
            // An inline set is the administrator's, parsed when it was set.
            KeySource::Inline(text) => return self.inline(text),
            KeySource::JwksUrl(url) => url.clone(),
            KeySource::Discovery => issuer.discovery_url(),
        };
        if let Plan::Use(keys) = self.plan(&url, kid, now) {
            return Ok(keys);
        }
        // A failure just recorded may belong to a fetch still in flight: wait
        // for it before deciding.
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(flights.entry(url.clone()).or_default())
        };
        let _guard = flight.lock().await;
        // Another task may have fetched while this one waited.
        match self.plan(&url, kid, now) {
            Plan::Use(keys) => return Ok(keys),
            Plan::Fail => return Err(FederationError::KeysUnavailable),
            Plan::Fetch => {}
        }
        self.mark_attempt(&url, now);
        let fetched = match source {
            KeySource::Discovery => self.discover(issuer, &url).await,
            _ => self.fetch_set(&url).await,
        };
        self.count(fetched.is_err());
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.entry(url).or_insert_with(|| Entry {
            keys: None,
            fetched_at: None,
            fresh_until: now,
            last_attempt: now,
        });
        match fetched {
            Ok((keys, max_age)) => {
                let ttl = max_age.unwrap_or(self.config.default_ttl).clamp(self.config.min_ttl, self.config.max_ttl);
                let keys = Arc::new(keys);
                entry.keys = Some(Arc::clone(&keys));
                entry.fetched_at = Some(now);
                entry.fresh_until = now + ttl;
                Ok(keys)
            }
            Err(e) => {
                tracing::warn!(issuer = issuer.as_str(), error = %e, "fetching a federated issuer's keys failed");
                self.usable(entry, now).ok_or(FederationError::KeysUnavailable)
            }
        }
    }

    /// An inline key set, parsed once.
    fn inline(&self, text: &str) -> Result<Arc<JwkSet>, FederationError> {
        use sha2::Digest as _;
        let key: [u8; 32] = sha2::Sha256::digest(text.as_bytes()).into();
        let mut sets = self.inline.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(set) = sets.get(&key) {
            return Ok(Arc::clone(set));
        }
        let set = Arc::new(parse_inline_jwks(text).map_err(|_| FederationError::KeysUnavailable)?);
        if sets.len() >= MAX_INLINE_SETS {
            sets.clear();
        }
        sets.insert(key, Arc::clone(&set));
        Ok(set)
    }

    /// The cached keys, if still within [`KeyCacheConfig::max_stale`].
    fn usable(&self, entry: &Entry, now: Timestamp) -> Option<Arc<JwkSet>> {
        let fetched_at = entry.fetched_at?;
        (now < fetched_at + self.config.max_stale).then(|| entry.keys.clone()).flatten()
    }

    fn plan(&self, url: &str, kid: Option<&str>, now: Timestamp) -> Plan {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(entry) = entries.get(url) else { return Plan::Fetch };
        let may_fetch = now >= entry.last_attempt + self.config.refresh_interval;
        let has_kid = |keys: &JwkSet| kid.is_none_or(|kid| keys.find(kid).is_some());
        match self.usable(entry, now) {
            Some(keys) if now < entry.fresh_until && (has_kid(&keys) || !may_fetch) => Plan::Use(keys),
            Some(keys) if !may_fetch => Plan::Use(keys),
            None if !may_fetch => Plan::Fail,
            _ => Plan::Fetch,
        }
    }

    fn mark_attempt(&self, url: &str, now: Timestamp) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.entry(url.to_owned()).and_modify(|e| e.last_attempt = now).or_insert(Entry {
            keys: None,
            fetched_at: None,
            fresh_until: now,
            last_attempt: now,
        });
    }

    fn count(&self, failed: bool) {
        let mut c = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        c.0 += 1;
        if failed {
            c.1 += 1;
        }
    }

    /// Reads the discovery document at `url`, checks its issuer, and fetches
    /// its `jwks_uri`.
    async fn discover(&self, issuer: &Issuer, url: &str) -> Result<(JwkSet, Option<Duration>), FetchError> {
        let doc = self.fetcher.get(url).await?;
        let doc: Value =
            serde_json::from_slice(&doc.body).map_err(|_| FetchError("the discovery document is not JSON".into()))?;
        if doc["issuer"].as_str() != Some(issuer.as_str()) {
            return Err(FetchError("the discovery document names another issuer".into()));
        }
        let jwks_uri =
            doc["jwks_uri"].as_str().ok_or_else(|| FetchError("the discovery document has no jwks_uri".into()))?;
        let Ok(KeySource::JwksUrl(jwks_uri)) = KeySource::jwks_url(jwks_uri) else {
            return Err(FetchError("the discovery document's jwks_uri is not an http(s) URL".into()));
        };
        self.fetch_set(&jwks_uri).await
    }

    /// Fetches and reads a key set: every key that parses, up to [`MAX_KEYS`]
    /// (a key of a type Tessera does not know is skipped, not fatal).
    async fn fetch_set(&self, url: &str) -> Result<(JwkSet, Option<Duration>), FetchError> {
        let fetched = self.fetcher.get(url).await?;
        let doc: Value =
            serde_json::from_slice(&fetched.body).map_err(|_| FetchError("the key set is not JSON".into()))?;
        let keys = doc["keys"].as_array().ok_or_else(|| FetchError("the key set has no keys".into()))?;
        let keys: Vec<Jwk> =
            keys.iter().take(MAX_KEYS).filter_map(|k| serde_json::from_value(k.clone()).ok()).collect();
        Ok((JwkSet { keys }, fetched.max_age))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use chrono::{TimeZone as _, Utc};
    use serde_json::json;

    use super::*;

    const ISSUER: &str = "https://k8s.example";

    /// An issuer whose keys (by kid) and availability the test sets.
    #[derive(Default)]
    struct FakeIssuer {
        kids: Mutex<Vec<String>>,
        down: AtomicBool,
        calls: AtomicUsize,
        max_age: Mutex<Option<Duration>>,
        other_issuer: AtomicBool,
    }

    #[async_trait]
    impl FetchJson for FakeIssuer {
        async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            if self.down.load(Ordering::SeqCst) {
                return Err(FetchError("connection refused".into()));
            }
            let body = if url.ends_with("/.well-known/openid-configuration") {
                let iss = if self.other_issuer.load(Ordering::SeqCst) { "https://evil.example" } else { ISSUER };
                json!({"issuer": iss, "jwks_uri": format!("{ISSUER}/openid/v1/jwks")})
            } else {
                let kids = self.kids.lock().unwrap().clone();
                let mut keys: Vec<Value> = kids
                    .iter()
                    .map(|kid| json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}))
                    .collect();
                // A key of a kind Tessera does not read is skipped.
                keys.push(json!({"kty": "unknown", "kid": "odd"}));
                json!({ "keys": keys })
            };
            Ok(Fetched { body: body.to_string().into_bytes(), max_age: *self.max_age.lock().unwrap() })
        }
    }

    fn t0() -> Timestamp {
        Utc.with_ymd_and_hms(2030, 6, 1, 12, 0, 0).unwrap()
    }

    fn setup(kids: &[&str]) -> (Arc<FakeIssuer>, KeyCache) {
        let fake = Arc::new(FakeIssuer::default());
        *fake.kids.lock().unwrap() = kids.iter().map(|k| (*k).to_owned()).collect();
        let cache = KeyCache::new(Arc::clone(&fake) as Arc<dyn FetchJson>, KeyCacheConfig::default());
        (fake, cache)
    }

    fn issuer() -> Issuer {
        Issuer::parse(ISSUER).unwrap()
    }

    async fn kids(cache: &KeyCache, kid: Option<&str>, at: Timestamp) -> Result<Vec<String>, FederationError> {
        let set = cache.keys(&issuer(), &KeySource::Discovery, kid, at).await?;
        Ok(set.keys.iter().filter_map(|k| k.common.key_id.clone()).collect())
    }

    #[tokio::test]
    async fn warm_keys_are_served_without_fetching() {
        let (fake, cache) = setup(&["a"]);
        assert_eq!(kids(&cache, Some("a"), t0()).await.unwrap(), ["a"]);
        // Discovery and key set: two fetches, then none while fresh.
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        for minute in 1..50 {
            kids(&cache, Some("a"), t0() + Duration::minutes(minute)).await.unwrap();
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        // Past the default TTL (1 h) the set is fetched again.
        kids(&cache, Some("a"), t0() + Duration::minutes(61)).await.unwrap();
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn max_age_is_bounded() {
        let (fake, cache) = setup(&["a"]);
        *fake.max_age.lock().unwrap() = Some(Duration::seconds(1));
        kids(&cache, None, t0()).await.unwrap();
        // Kept for the 5-minute minimum, not for 1 s.
        kids(&cache, None, t0() + Duration::minutes(4)).await.unwrap();
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
        *fake.max_age.lock().unwrap() = Some(Duration::days(30));
        kids(&cache, None, t0() + Duration::minutes(6)).await.unwrap();
        kids(&cache, None, t0() + Duration::hours(23)).await.unwrap();
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
        // At most a day, not a month.
        kids(&cache, None, t0() + Duration::hours(25)).await.unwrap();
        assert_eq!(fake.calls.load(Ordering::SeqCst), 6);
    }

    #[tokio::test]
    async fn a_rotated_key_is_fetched_once_and_a_kid_flood_fetches_once_per_interval() {
        let (fake, cache) = setup(&["a"]);
        kids(&cache, Some("a"), t0()).await.unwrap();
        fake.kids.lock().unwrap().push("b".into());
        // The new kid: one refresh (discovery + set) finds it.
        let at = t0() + Duration::minutes(2);
        assert_eq!(kids(&cache, Some("b"), at).await.unwrap(), ["a", "b"]);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
        // A thousand made-up kids within the interval cost nothing more.
        for n in 0..1000 {
            let kid = format!("made-up-{n}");
            assert_eq!(kids(&cache, Some(&kid), at + Duration::seconds(59)).await.unwrap(), ["a", "b"]);
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 4);
        // One more refresh after the interval.
        kids(&cache, Some("made-up-x"), at + Duration::seconds(61)).await.unwrap();
        kids(&cache, Some("made-up-y"), at + Duration::seconds(62)).await.unwrap();
        assert_eq!(fake.calls.load(Ordering::SeqCst), 6);
    }

    #[tokio::test]
    async fn concurrent_misses_wait_for_one_fetch() {
        let (fake, cache) = setup(&["a"]);
        let cache = Arc::new(cache);
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { kids(&cache, Some("a"), t0()).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), ["a"]);
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_outage_is_ridden_out_on_cached_keys_then_fails_closed() {
        let (fake, cache) = setup(&["a"]);
        kids(&cache, Some("a"), t0()).await.unwrap();
        fake.down.store(true, Ordering::SeqCst);
        // Stale (past 1 h) but within the 24 h maximum: the cached keys work.
        assert_eq!(kids(&cache, Some("a"), t0() + Duration::hours(2)).await.unwrap(), ["a"]);
        assert_eq!(kids(&cache, Some("a"), t0() + Duration::hours(23)).await.unwrap(), ["a"]);
        // Past it: closed.
        let late = t0() + Duration::hours(24) + Duration::seconds(1);
        assert_eq!(kids(&cache, Some("a"), late).await.unwrap_err(), FederationError::KeysUnavailable);
        // And a failing issuer is asked at most once per interval.
        let before = fake.calls.load(Ordering::SeqCst);
        for s in 0..30 {
            let _ = kids(&cache, Some("a"), late + Duration::seconds(s)).await;
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), before);
        // It heals when the issuer is back.
        fake.down.store(false, Ordering::SeqCst);
        assert_eq!(kids(&cache, Some("a"), late + Duration::seconds(61)).await.unwrap(), ["a"]);
    }

    #[tokio::test]
    async fn an_unreachable_new_issuer_fails_closed_and_is_not_hammered() {
        let (fake, cache) = setup(&["a"]);
        fake.down.store(true, Ordering::SeqCst);
        for s in 0..20 {
            assert_eq!(
                kids(&cache, None, t0() + Duration::seconds(s)).await.unwrap_err(),
                FederationError::KeysUnavailable
            );
        }
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn discovery_must_name_the_configured_issuer() {
        let (fake, cache) = setup(&["a"]);
        fake.other_issuer.store(true, Ordering::SeqCst);
        assert_eq!(kids(&cache, None, t0()).await.unwrap_err(), FederationError::KeysUnavailable);
        assert_eq!(cache.fetch_counts(), (1, 1));
    }

    #[tokio::test]
    async fn explicit_urls_skip_discovery_and_inline_sets_fetch_nothing() {
        let (fake, cache) = setup(&["a"]);
        let url = KeySource::jwks_url("https://k8s.example/openid/v1/jwks").unwrap();
        let set = cache.keys(&issuer(), &url, Some("a"), t0()).await.unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
        let inline = KeySource::inline(
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"i","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
        )
        .unwrap();
        assert_eq!(cache.keys(&issuer(), &inline, Some("i"), t0()).await.unwrap().keys.len(), 1);
        assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
    }
}
