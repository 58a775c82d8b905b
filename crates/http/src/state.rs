//! What every handler shares: the store, the clock, the credential validator,
//! the token service and the metrics.

use std::sync::Arc;

use tessera_domain::cache::{CachePolicy, EpochCache};
use tessera_domain::permission::Grants;
use tessera_domain::repo::Store;
use tessera_domain::user::User;
use tessera_domain::{Clock, UserId};
use tessera_oauth::grant::TokenService;
use tessera_oauth::password::PasswordHasher;
use tessera_oauth::validator::Validator;

use crate::client_addr::TrustedProxies;
use crate::console::ConsoleSettings;
use crate::metrics::Metrics;
use crate::ratelimit::{FailureLimiter, Keys, Limited, RatePolicy};

/// Shared application state, cheap to clone (everything is behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The one credential validator.
    pub validator: Arc<Validator>,
    /// The token endpoint's grants and the signing keys.
    pub tokens: Arc<TokenService>,
    /// argon2id for human passwords (console logins, password changes).
    pub hasher: PasswordHasher,
    /// The console's cookie settings and login throttle.
    pub console: Arc<ConsoleSettings>,
    /// What API calls read again and again ([`tessera_domain::cache`]).
    pub caches: Arc<ApiCaches>,
    /// Whose forwarding headers name the client address ([`crate::client_addr`]).
    pub proxies: Arc<TrustedProxies>,
    /// How long a request body may take to arrive (then 408).
    pub body_timeout: std::time::Duration,
    /// Rate limits on failed client authentication ([`crate::ratelimit`]).
    pub limiter: Arc<FailureLimiter>,
}

/// What API calls read again and again, cached under the store's epoch: every
/// committed change drops it all.
pub struct ApiCaches {
    /// Callers' administrator roles by user.
    pub grants: EpochCache<UserId, Grants>,
    /// Users by id (for the read-only calls).
    pub users: EpochCache<UserId, Arc<User>>,
    /// Whether a machine user has a client secret.
    pub has_secret: EpochCache<UserId, bool>,
}

impl ApiCaches {
    fn new(store: &dyn Store, policy: CachePolicy) -> Self {
        let epoch = store.epoch();
        Self {
            grants: EpochCache::new(epoch.clone(), policy),
            users: EpochCache::new(epoch.clone(), policy),
            has_secret: EpochCache::new(epoch.clone(), policy),
        }
    }
}

impl AppState {
    /// State with a fresh metrics registry.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        validator: Arc<Validator>,
        tokens: Arc<TokenService>,
    ) -> Self {
        let caches = Arc::new(ApiCaches::new(store.as_ref(), CachePolicy::OFF));
        Self {
            store,
            clock,
            metrics: Metrics::new(),
            validator,
            tokens,
            hasher,
            console: Arc::default(),
            caches,
            proxies: Arc::default(),
            body_timeout: std::time::Duration::from_secs(10),
            limiter: Arc::default(),
        }
    }

    /// The same state caching what every API call reads under `policy`.
    #[must_use]
    pub fn with_cache(mut self, policy: CachePolicy) -> Self {
        self.caches = Arc::new(ApiCaches::new(self.store.as_ref(), policy));
        self
    }

    /// The same state believing the forwarding headers of `proxies`.
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Arc::new(proxies);
        self
    }

    /// The same state limiting failed client authentication by `policy`.
    #[must_use]
    pub fn with_rate_limits(mut self, policy: RatePolicy) -> Self {
        self.limiter = Arc::new(FailureLimiter::new(policy));
        self
    }

    /// Refuses a request under `keys` whose failure bucket is empty, counting
    /// the refusal under `endpoint`.
    ///
    /// # Errors
    /// [`Limited`].
    pub fn rate_check(&self, keys: &Keys, endpoint: &'static str) -> Result<(), Limited> {
        self.limiter.check(keys, self.clock.now()).inspect_err(|_| {
            self.metrics.rate_limited.get_or_create(&crate::metrics::EndpointLabels { endpoint }).inc();
        })
    }

    /// Counts a failed client authentication under `keys` at `endpoint`.
    pub fn auth_failed(&self, keys: &Keys, endpoint: &'static str) {
        self.metrics.auth_failures.get_or_create(&crate::metrics::EndpointLabels { endpoint }).inc();
        self.limiter.failed(keys, self.clock.now());
    }

    /// The same state cutting request bodies off after `timeout`.
    #[must_use]
    pub const fn with_body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// The same state with the console configured by `console`.
    #[must_use]
    pub fn with_console(mut self, console: ConsoleSettings) -> Self {
        self.console = Arc::new(console);
        self
    }
}
