//! What every handler shares: the use cases' ports, the credential validator,
//! the token service, the console settings and the metrics.

use std::sync::Arc;

use tessera_core::{Actor, Core, Ctx};
use tessera_oauth::grant::TokenService;
use tessera_oauth::validator::Validator;

use crate::console::ConsoleSettings;
use crate::metrics::Metrics;

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
}

impl AppState {
    /// State with a fresh metrics registry.
    pub fn new(core: Core, validator: Arc<Validator>, tokens: Arc<TokenService>) -> Self {
        Self { core, metrics: Metrics::new(), validator, tokens, console: Arc::default() }
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
