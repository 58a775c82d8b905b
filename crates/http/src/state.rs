//! What every handler shares: the use cases' ports, the credential validator,
//! the token service, the console settings and the metrics.

use std::sync::Arc;

use tessera_core::{Actor, Core, Ctx};
use tessera_oauth::grant::TokenService;
use tessera_oauth::validator::Validator;

use crate::client_addr::TrustedProxies;
use crate::console::ConsoleSettings;
use crate::metrics::Metrics;
use crate::ratelimit::{FailureLimiter, Keys, Limited, RatePolicy};

/// Shared application state, cheap to clone (everything is behind `Arc`).
#[derive(Clone)]
pub struct AppState {
    /// The use cases' ports: store, clock, randomness, password hasher, caches.
    pub core: Core,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The one credential validator.
    pub validator: Arc<Validator>,
    /// The token endpoint's grants and the signing keys.
    pub tokens: Arc<TokenService>,
    /// The console's cookie settings and login throttle.
    pub console: Arc<ConsoleSettings>,
    /// Whose forwarding headers name the client address ([`crate::client_addr`]).
    pub proxies: Arc<TrustedProxies>,
    /// How long a request body may take to arrive (then 408).
    pub body_timeout: std::time::Duration,
    /// Rate limits on failed client authentication ([`crate::ratelimit`]).
    pub limiter: Arc<FailureLimiter>,
    /// Leaked-token reports ([`crate::leaks`]).
    pub leaks: Arc<crate::leaks::Leaks>,
}

impl AppState {
    /// State with a fresh metrics registry.
    pub fn new(core: Core, validator: Arc<Validator>, tokens: Arc<TokenService>) -> Self {
        let metrics = match tokens.federation() {
            Some(federation) => Metrics::new().with_federation(federation.clone()),
            None => Metrics::new(),
        };
        Self {
            core,
            metrics,
            validator,
            tokens,
            console: Arc::default(),
            proxies: Arc::default(),
            body_timeout: std::time::Duration::from_secs(10),
            limiter: Arc::default(),
            leaks: Arc::default(),
        }
    }

    /// The same state taking leaked-token reports as `leaks` says.
    #[must_use]
    pub fn with_leaks(mut self, leaks: crate::leaks::Leaks) -> Self {
        self.leaks = Arc::new(leaks);
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
        self.limiter.check(keys, self.core.clock.now()).inspect_err(|_| {
            self.metrics.rate_limited.get_or_create(&crate::metrics::EndpointLabels { endpoint }).inc();
        })
    }

    /// Counts a failed client authentication under `keys` at `endpoint`.
    pub fn auth_failed(&self, keys: &Keys, endpoint: &'static str) {
        self.metrics.auth_failures.get_or_create(&crate::metrics::EndpointLabels { endpoint }).inc();
        self.limiter.failed(keys, self.core.clock.now());
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

    /// A use-case context for `actor`.
    #[must_use]
    pub fn ctx(&self, actor: Actor) -> Ctx {
        self.core.ctx(actor)
    }
}
