//! What every handler shares: the store, the clock, the credential validator,
//! the token service and the metrics.

use std::sync::Arc;

use tessera_domain::Clock;
use tessera_domain::repo::Store;
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
        Self { store, clock, metrics: Metrics::new(), validator, tokens, hasher, console: Arc::default() }
    }

    /// The same state with the console configured by `console`.
    #[must_use]
    pub fn with_console(mut self, console: ConsoleSettings) -> Self {
        self.console = Arc::new(console);
        self
    }
}
