//! What every handler shares: the store, the clock and the metrics.

use std::sync::Arc;

use tessera_domain::Clock;
use tessera_domain::repo::Store;
use tessera_oauth::password::PasswordHasher;
use tessera_oauth::usage::UsageRecorder;
use tessera_oauth::validator::Validator;

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
    /// argon2id for human passwords (console logins, password changes).
    pub hasher: PasswordHasher,
}

impl AppState {
    /// State over `store` with the given clock, password hasher, a fresh metrics
    /// registry and a fresh validator.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, hasher: PasswordHasher) -> Self {
        let validator = Arc::new(Validator::new(clock.clone(), Arc::new(UsageRecorder::default())));
        Self { store, clock, metrics: Metrics::new(), validator, hasher }
    }
}
