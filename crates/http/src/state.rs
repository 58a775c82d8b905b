//! What every handler shares: the store, the clock and the metrics.

use std::sync::Arc;

use tessera_domain::Clock;
use tessera_domain::repo::Store;

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
}

impl AppState {
    /// State over `store` with the given clock and a fresh metrics registry.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, metrics: Metrics::new() }
    }
}
