//! What every handler shares: the store, the clock, the credential validator,
//! the token service and the metrics.

use std::sync::Arc;

use tessera_domain::cache::{CachePolicy, EpochCache};
use tessera_domain::permission::Grants;
use tessera_domain::repo::Store;
use tessera_domain::{Clock, UserId};
use tessera_oauth::grant::TokenService;
use tessera_oauth::password::PasswordHasher;
use tessera_oauth::validator::Validator;

use crate::console::ConsoleSettings;
use crate::metrics::Metrics;

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
    /// API callers' administrator roles by user ([`tessera_domain::cache`]).
    pub grants: Arc<EpochCache<UserId, Grants>>,
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
        let grants = Arc::new(EpochCache::new(store.epoch().clone(), CachePolicy::OFF));
        Self { store, clock, metrics: Metrics::new(), validator, tokens, hasher, console: Arc::default(), grants }
    }

    /// The same state caching what every API call reads under `policy`.
    #[must_use]
    pub fn with_cache(mut self, policy: CachePolicy) -> Self {
        self.grants = Arc::new(EpochCache::new(self.store.epoch().clone(), policy));
        self
    }

    /// The same state with the console configured by `console`.
    #[must_use]
    pub fn with_console(mut self, console: ConsoleSettings) -> Self {
        self.console = Arc::new(console);
        self
    }
}
