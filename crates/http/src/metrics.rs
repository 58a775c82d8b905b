//! Prometheus metrics: request counts and latency histograms per route, exposed
//! in the text format at `GET /metrics`.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a request metric. `route` is the matched route pattern (e.g.
/// `/v2/users/{userId}`), never the raw path, so ids and anything a client puts
/// in a path cannot blow up cardinality or leak into the metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// Route pattern, or `unmatched`.
    pub route: String,
    /// Response status code.
    pub status: u16,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: String,
    /// Route pattern, or `unmatched`.
    pub route: String,
}

/// Labels of the client-authentication metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// `token`, `introspect`, `revoke` or `api`.
    pub endpoint: &'static str,
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~1.6 s: credential checks live at the low end, token signing in the middle.
    Histogram::new([0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
}

/// The registry and the metric families Tessera records.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Requests served.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency.
    pub latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Requests whose handler panicked (answered 500; should stay 0).
    pub panics: Counter,
    /// Console password checks run (argon2id), whatever their outcome.
    pub console_password_checks: Counter,
    /// Failed client authentications by endpoint.
    pub auth_failures: Family<EndpointLabels, Counter>,
    /// Requests refused by the failure rate limits, by endpoint.
    pub rate_limited: Family<EndpointLabels, Counter>,
}

impl Metrics {
    /// A fresh registry with every family registered.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("tessera");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        let panics = Counter::default();
        registry.register("http_panics", "Requests whose handler panicked, answered 500", panics.clone());
        let console_password_checks = Counter::default();
        registry.register(
            "console_password_checks",
            "Console login password checks run (argon2id)",
            console_password_checks.clone(),
        );
        let auth_failures = Family::<EndpointLabels, Counter>::default();
        registry.register("auth_failures", "Failed client authentications", auth_failures.clone());
        let rate_limited = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "rate_limited",
            "Requests refused after too many failed client authentications",
            rate_limited.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            panics,
            console_password_checks,
            auth_failures,
            rate_limited,
        }
    }

    /// The same metrics, plus workload identity federation's
    /// (`tessera_federation_exchanges_total{result}`,
    /// `tessera_federation_key_fetches_total`,
    /// `tessera_federation_key_fetch_failures_total`), read from `federation`
    /// at each scrape.
    #[must_use]
    pub fn with_federation(mut self, federation: Arc<tessera_oauth::grant::Federation>) -> Self {
        if let Some(registry) = Arc::get_mut(&mut self.registry) {
            registry.register_collector(Box::new(FederationCollector(federation)));
        }
        self
    }

    /// The exposition text.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// Encodes workload identity federation's counters at each scrape.
#[derive(Debug)]
struct FederationCollector(Arc<tessera_oauth::grant::Federation>);

impl prometheus_client::collector::Collector for FederationCollector {
    fn encode(&self, mut encoder: prometheus_client::encoding::DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric as _;
        use prometheus_client::metrics::counter::ConstCounter;
        let exchanges = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "federation_exchanges",
            "External tokens presented for exchange, by outcome",
            None,
            exchanges.metric_type(),
        )?;
        for (result, n) in self.0.outcomes.snapshot() {
            let labels = [("result", result)];
            ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
        }
        let (fetches, failures) = self.0.keys.fetch_counts();
        for (name, help, n) in [
            ("federation_key_fetches", "Fetches of federated issuers' key sets", fetches),
            ("federation_key_fetch_failures", "Fetches of federated issuers' key sets that failed", failures),
        ] {
            let counter = ConstCounter::new(n);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        Ok(())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
