//! Configuration (DESIGN.md §2, CONVENTIONS.md §5): one typed [`Settings`], read
//! from an optional TOML file and then from `TESSERA_*` environment variables
//! (`__` separates nesting levels: `TESSERA_SERVER__PORT` is `server.port`).
//! `tessera.example.toml` at the repository root documents every key.
//!
//! Every mistake is reported as one line naming the key and its variable, never
//! the value (it may be a secret).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Prefix of every environment variable Tessera reads.
pub const ENV_PREFIX: &str = "TESSERA";

/// Shortest accepted master key.
pub const MIN_MASTERKEY_LEN: usize = 32;

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Public base URL and OAuth issuer. Default `http://localhost:<server.port>`.
    pub external_url: Option<String>,
    /// Where the embedded database, the generated master key and the bootstrap
    /// credentials live.
    pub data_dir: PathBuf,
    /// Encrypts signing keys at rest (at least 32 characters). Generated into the
    /// data dir when absent.
    pub masterkey: Option<SecretString>,
    /// HTTP listener.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Logging.
    pub log: LogSettings,
    /// First-instance bootstrap.
    pub bootstrap: BootstrapSettings,
    /// Tokens from the token endpoint.
    pub tokens: TokenSettings,
    /// Instance signing keys.
    pub signing_keys: SigningKeySettings,
    /// The caches of the hot paths.
    pub cache: CacheSettings,
    /// Bounds on the work a client can cause (docs/security/model.md#limits).
    pub limits: LimitsSettings,
    /// Workload identity federation (docs/federation.md).
    pub federation: FederationSettings,
    /// Leaked-token reports from secret scanning (docs/pat-hygiene.md).
    pub secret_scanning: SecretScanningSettings,
    /// Event webhooks (docs/pat-hygiene.md "Notifications").
    pub webhooks: WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            external_url: None,
            data_dir: PathBuf::from("./tessera-data"),
            masterkey: None,
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            bootstrap: BootstrapSettings::default(),
            tokens: TokenSettings::default(),
            signing_keys: SigningKeySettings::default(),
            cache: CacheSettings::default(),
            limits: LimitsSettings::default(),
            federation: FederationSettings::default(),
            secret_scanning: SecretScanningSettings::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// Event webhooks (docs/pat-hygiene.md "Notifications").
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// Comma-separated days before an expiration at which
    /// `credential.expiring` is sent, once each.
    pub expiry_notice_days: String,
    /// Seconds between the worker's passes over due deliveries and expiring
    /// credentials.
    pub interval_secs: u64,
    /// Hosts webhook targets may name over `http` and at private or loopback
    /// addresses (comma-separated): for development and tests. Separate from
    /// `federation.allow_hosts`.
    pub allow_hosts: String,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { expiry_notice_days: "7,1".to_owned(), interval_secs: 5, allow_hosts: String::new() }
    }
}

impl WebhookSettings {
    /// The notice thresholds in days, largest first (checked at load).
    #[must_use]
    pub fn thresholds(&self) -> Vec<u32> {
        let mut days: Vec<u32> = self.expiry_notice_days.split(',').filter_map(|d| d.trim().parse().ok()).collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        days
    }

    /// The allow-list, one host per entry.
    #[must_use]
    pub fn allow_hosts(&self) -> Vec<String> {
        self.allow_hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect()
    }
}

/// Leaked-token reports from GitHub's secret scanning partner program
/// (docs/pat-hygiene.md). The endpoint is served only when one of the two
/// names a key list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SecretScanningSettings {
    /// URL of GitHub's key list
    /// (`https://api.github.com/meta/public_keys/secret_scanning`), fetched
    /// with the outbound client.
    pub github_keys_url: String,
    /// A file holding the key list in the same format, read at start.
    pub github_keys_file: String,
}

/// Bounds on the work a client can cause (DESIGN.md §8,
/// docs/security/model.md#limits).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LimitsSettings {
    /// argon2id and RSA key generations running at once; 0 means one per CPU core.
    pub heavy_work_slots: usize,
    /// Such jobs waiting for a slot; beyond them, 503 with `Retry-After` at once.
    pub heavy_work_queue: usize,
    /// Threads of each worker's blocking pool.
    pub blocking_threads: usize,
    /// Milliseconds a request body may take to arrive once its headers are in;
    /// a slower one is cut off with 408.
    pub body_timeout_ms: u64,
    /// Comma-separated addresses or networks (`10.0.0.0/8`) of reverse proxies
    /// whose `Forwarded` / `X-Forwarded-For` headers name the client address
    /// that throttles count by. Empty: the TCP peer is the client.
    pub trusted_proxies: String,
    /// Failed client authentications (API bearer tokens, OAuth client
    /// credentials and assertions) one address may make in a burst; 0 turns
    /// the per-address limit off.
    pub auth_failures_per_address_burst: u32,
    /// Failures per second an address regains.
    pub auth_failures_per_address_per_second: u32,
    /// Failed authentications one client id may see in a burst; 0 turns the
    /// per-client limit off.
    pub auth_failures_per_client_burst: u32,
    /// Failures per second a client id regains.
    pub auth_failures_per_client_per_second: u32,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        Self {
            heavy_work_slots: 0,
            heavy_work_queue: 4,
            blocking_threads: 16,
            body_timeout_ms: 10_000,
            trusted_proxies: String::new(),
            auth_failures_per_address_burst: 100,
            auth_failures_per_address_per_second: 10,
            auth_failures_per_client_burst: 50,
            auth_failures_per_client_per_second: 5,
        }
    }
}

/// The caches of verified credentials and of what introspection and API
/// authorization read (DESIGN.md §6). Every committed change empties them at
/// once on this node, and on the other nodes of a shared PostgreSQL when its
/// notification arrives; the entry lifetime bounds a lost notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CacheSettings {
    /// Entry lifetime in milliseconds, at most 1000; 0 turns the caches off.
    pub ttl_ms: u64,
    /// Entries per cache.
    pub max_entries: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { ttl_ms: 1000, max_entries: 50_000 }
    }
}

/// Workload identity federation: exchanging external identity tokens for
/// access tokens (docs/federation.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FederationSettings {
    /// Comma-separated hosts the outbound client may reach over `http` and at
    /// private or loopback addresses; for development and tests.
    pub allow_hosts: String,
    /// Oldest external token accepted, in seconds since its `iat`.
    pub max_token_age_secs: u64,
    /// Longest lifetime of an access token issued for an external token, in
    /// seconds; never past the external token's own `exp`.
    pub access_token_lifetime_secs: u64,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self { allow_hosts: String::new(), max_token_age_secs: 3600, access_token_lifetime_secs: 3600 }
    }
}

impl FederationSettings {
    /// The allow-list, one host per entry.
    #[must_use]
    pub fn allow_hosts(&self) -> Vec<String> {
        self.allow_hosts.split(',').map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned).collect()
    }
}

/// Tokens from the token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokenSettings {
    /// Lifetime of access tokens, in seconds (ZITADEL's default: 12 h).
    pub access_token_lifetime_secs: u64,
    /// Lifetime of ID tokens, in seconds.
    pub id_token_lifetime_secs: u64,
    /// Allowed clock difference for assertions and JWTs, in seconds.
    pub clock_skew_secs: u64,
    /// How long a machine user's previous client secret keeps working after a
    /// new one is added, in seconds (0: cut off at once, as ZITADEL does).
    pub secret_overlap_secs: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime_secs: 43_200,
            id_token_lifetime_secs: 43_200,
            clock_skew_secs: 5,
            secret_overlap_secs: 0,
        }
    }
}

/// Instance signing keys (RS256).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SigningKeySettings {
    /// How long one key signs, in seconds.
    pub rotation_period_secs: u64,
    /// How long before it signs a key is published in the JWKS, in seconds.
    pub publish_ahead_secs: u64,
    /// How often each node reloads the keys and runs the rotation plan, in seconds.
    pub refresh_interval_secs: u64,
    /// The JWS algorithm of keys the rotation generates: RS256 (the default,
    /// for compatibility), RS384, RS512, ES256, ES384 or EdDSA.
    pub algorithm: String,
    /// The modulus size of generated RSA keys: 2048, 3072 or 4096.
    pub rsa_bits: usize,
}

impl Default for SigningKeySettings {
    fn default() -> Self {
        Self {
            rotation_period_secs: 30 * 86_400,
            publish_ahead_secs: 7 * 86_400,
            refresh_interval_secs: 600,
            algorithm: "RS256".to_owned(),
            rsa_bits: 2048,
        }
    }
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self { host: "127.0.0.1".into(), port: 8080, workers: 0, shutdown_timeout_secs: 30 }
    }
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`. Default: `tessera.db` in the data dir.
    pub url: Option<SecretString>,
    /// Connection pool size (read connections on SQLite).
    pub max_connections: u32,
    /// Seconds to wait for a connection or a lock; then the request answers 503
    /// (`unavailable` / `temporarily_unavailable`), so an unreachable database
    /// is reported within about this long.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, max_connections: 8, acquire_timeout_secs: 1 }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `info,access=debug`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: LogFormat::Text, level: "info".into() }
    }
}

/// First-instance bootstrap (runs once, on an empty database).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct BootstrapSettings {
    /// Name of the first organization.
    pub org_name: String,
    /// Username of the admin machine user (holds `IAM_OWNER`).
    pub machine_username: String,
    /// Username of the human console admin (holds `IAM_OWNER`).
    pub human_username: String,
    /// Where the admin machine user's PAT is written. Default `<data_dir>/admin.pat`.
    pub pat_path: Option<PathBuf>,
    /// Where the console admin's password is written. Default `<data_dir>/admin.password`.
    pub password_path: Option<PathBuf>,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        Self {
            org_name: "Tessera".into(),
            machine_username: "admin-sa".into(),
            human_username: "admin".into(),
            pat_path: None,
            password_path: None,
        }
    }
}

/// A configuration mistake, worded for a one-line exit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(String);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

/// The environment variable of a dotted key: `server.port` → `TESSERA_SERVER__PORT`.
#[must_use]
pub fn env_var_of(key: &str) -> String {
    format!("{ENV_PREFIX}_{}", key.replace('.', "__").to_uppercase())
}

/// Every setting's dotted key (the leaves of [`Settings`]; a test in
/// `tests/example_config.rs` keeps this list equal to the type).
pub const KNOWN_KEYS: &[&str] = &[
    "bootstrap.human_username",
    "bootstrap.machine_username",
    "bootstrap.org_name",
    "bootstrap.password_path",
    "bootstrap.pat_path",
    "cache.max_entries",
    "cache.ttl_ms",
    "data_dir",
    "database.acquire_timeout_secs",
    "database.max_connections",
    "database.url",
    "external_url",
    "federation.access_token_lifetime_secs",
    "federation.allow_hosts",
    "federation.max_token_age_secs",
    "limits.auth_failures_per_address_burst",
    "limits.auth_failures_per_address_per_second",
    "limits.auth_failures_per_client_burst",
    "limits.auth_failures_per_client_per_second",
    "limits.blocking_threads",
    "limits.body_timeout_ms",
    "limits.heavy_work_queue",
    "limits.heavy_work_slots",
    "limits.trusted_proxies",
    "log.format",
    "log.level",
    "masterkey",
    "secret_scanning.github_keys_file",
    "secret_scanning.github_keys_url",
    "server.host",
    "server.port",
    "server.shutdown_timeout_secs",
    "server.workers",
    "signing_keys.algorithm",
    "signing_keys.publish_ahead_secs",
    "signing_keys.refresh_interval_secs",
    "signing_keys.rotation_period_secs",
    "signing_keys.rsa_bits",
    "tokens.access_token_lifetime_secs",
    "tokens.clock_skew_secs",
    "tokens.id_token_lifetime_secs",
    "tokens.secret_overlap_secs",
    "webhooks.allow_hosts",
    "webhooks.expiry_notice_days",
    "webhooks.interval_secs",
];

/// `TESSERA_*` variables that are not settings but are read by someone else:
/// the command line (`TESSERA_CONFIG`), the client commands (`TESSERA_TOKEN`)
/// and the tests (`TESSERA_TEST_*`).
fn is_foreign_variable(name: &str) -> bool {
    name.starts_with("TESSERA_TEST_") || name == "TESSERA_TOKEN" || name == "TESSERA_CONFIG"
}

/// Settings whose values are one of a fixed set, and that set.
const ALLOWED_VALUES: &[(&str, &str)] = &[("log.format", "text, json")];

/// One warning per `TESSERA_*` variable in `env` that no setting reads (a typo
/// such as `TESSERA_SERVER_PORT`, with one underscore, would otherwise be
/// silently ignored), with the closest known variable when there is one.
/// Sorted, so the warnings read the same on every start.
#[must_use]
pub fn unknown_variables(env: &HashMap<String, String>) -> Vec<String> {
    let known: Vec<String> = KNOWN_KEYS.iter().map(|k| env_var_of(k)).collect();
    let mut warnings: Vec<String> = env
        .keys()
        .filter(|k| k.starts_with("TESSERA_") && !is_foreign_variable(k) && !known.contains(k))
        .map(|name| match closest(name, &known) {
            Some(hint) => format!("unknown environment variable {name} is ignored; did you mean {hint}?"),
            None => format!("unknown environment variable {name} is ignored (see tessera.example.toml)"),
        })
        .collect();
    warnings.sort();
    warnings
}

/// The known variable closest to `name`: the same letters with other
/// underscores (`TESSERA_SERVER_PORT`), else the one within a few typos.
fn closest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    let letters = |s: &str| s.chars().filter(|c| *c != '_').collect::<String>().to_ascii_uppercase();
    let wanted = letters(name);
    if let Some(same) = known.iter().find(|k| letters(k) == wanted) {
        return Some(same);
    }
    let upper = name.to_ascii_uppercase();
    known
        .iter()
        .map(|k| (edit_distance(&upper, k), k))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// Levenshtein distance of two ASCII-ish strings (by `char`).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb { diagonal } else { 1 + diagonal.min(above).min(row[j]) };
            diagonal = above;
        }
    }
    row[b.len()]
}

fn invalid(key: &str, reason: impl fmt::Display) -> SettingsError {
    SettingsError(format!("invalid configuration {key} ({}): {reason}", env_var_of(key)))
}

/// Turns a `config` error into one line naming the key, without the value.
fn explain(err: config::ConfigError) -> SettingsError {
    use config::ConfigError as E;
    let key = match &err {
        E::Type { key, .. } | E::At { key, .. } => key.as_deref(),
        _ => None,
    };
    // A value outside a fixed set: list the set, not serde's wording.
    if let Some((key, allowed)) = key.and_then(|k| ALLOWED_VALUES.iter().find(|(known, _)| *known == k)) {
        return invalid(key, format!("expected one of: {allowed}"));
    }
    match err {
        E::Type { key: Some(key), expected, .. } => invalid(&key, format!("expected {expected}")),
        E::At { error, key: Some(key), .. } => match *error {
            E::Type { expected, .. } => invalid(&key, format!("expected {expected}")),
            E::Message(m) => invalid(&key, m),
            other => invalid(&key, other),
        },
        E::FileParse { uri, cause } => SettingsError(format!(
            "cannot parse configuration file {}: {cause}",
            uri.unwrap_or_else(|| "(unknown)".into())
        )),
        other => SettingsError(format!("invalid configuration: {other}")),
    }
}

/// Lists keys of a TOML file that no setting reads (typos would otherwise be
/// silently ignored).
fn unknown_keys(text: &str) -> Result<Vec<String>, SettingsError> {
    let mut unknown = Vec::new();
    let de =
        toml::Deserializer::parse(text).map_err(|e| SettingsError(format!("cannot parse configuration file: {e}")))?;
    let _: Result<Settings, _> = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()));
    Ok(unknown)
}

impl Settings {
    /// Reads `file` (if any), then the process environment.
    ///
    /// # Errors
    /// One line naming the offending key or file.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load_from(file, std::env::vars().collect())
    }

    /// Like [`Settings::load`] with an explicit environment (tests).
    ///
    /// # Errors
    /// One line naming the offending key or file.
    pub fn load_from(file: Option<&Path>, env: HashMap<String, String>) -> Result<Self, SettingsError> {
        let file = file
            .map(|path| {
                std::fs::read_to_string(path)
                    .map(|text| (text, path.display().to_string()))
                    .map_err(|e| SettingsError(format!("cannot read configuration file {}: {e}", path.display())))
            })
            .transpose()?;
        Self::from_text(file.as_ref().map(|(text, name)| (text.as_str(), name.as_str())), env)
    }

    /// Like [`Settings::load_from`] with the file already read: `file` is its
    /// text and the name errors give it. Also the entry point of the
    /// configuration fuzz target (docs/security/fuzzing.md).
    ///
    /// # Errors
    /// One line naming the offending key or file.
    pub fn from_text(file: Option<(&str, &str)>, env: HashMap<String, String>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder();
        if let Some((text, name)) = file {
            if let Some(key) = unknown_keys(text)?.first() {
                return Err(SettingsError(format!(
                    "unknown configuration key {key} in {name} (see tessera.example.toml)"
                )));
            }
            builder = builder.add_source(config::File::from_str(text, config::FileFormat::Toml));
        }
        // Only our own variables, minus those that configure tests and the CLI
        // client rather than the server.
        let env: HashMap<String, String> =
            env.into_iter().filter(|(k, _)| k.starts_with("TESSERA_") && !is_foreign_variable(k)).collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX).prefix_separator("_").separator("__").source(Some(env)),
        );
        let settings: Self = builder.build().and_then(config::Config::try_deserialize).map_err(explain)?;
        settings.validate()?;
        Ok(settings)
    }

    /// The trusted proxies, parsed.
    ///
    /// # Errors
    /// When an entry is not an address or network.
    pub fn trusted_proxies(&self) -> Result<tessera_http::client_addr::TrustedProxies, SettingsError> {
        let networks = self
            .limits
            .trusted_proxies
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(tessera_http::client_addr::Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("limits.trusted_proxies", e))?;
        Ok(tessera_http::client_addr::TrustedProxies::new(networks))
    }

    /// The rate limits on failed client authentication.
    #[must_use]
    pub fn rate_policy(&self) -> tessera_http::ratelimit::RatePolicy {
        use tessera_http::ratelimit::{Bucket, RatePolicy};
        let l = &self.limits;
        RatePolicy {
            per_address: Bucket {
                burst: f64::from(l.auth_failures_per_address_burst),
                per_second: f64::from(l.auth_failures_per_address_per_second),
            },
            per_client: Bucket {
                burst: f64::from(l.auth_failures_per_client_burst),
                per_second: f64::from(l.auth_failures_per_client_per_second),
            },
        }
    }

    /// The slots for argon2id and RSA key generation.
    #[must_use]
    pub fn heavy_work_slots(&self) -> tessera_oauth::slots::WorkSlots {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let slots = if self.limits.heavy_work_slots == 0 { cores } else { self.limits.heavy_work_slots };
        tessera_oauth::slots::WorkSlots::new(slots, self.limits.heavy_work_queue)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.trusted_proxies()?;
        if self.limits.blocking_threads == 0 {
            return Err(invalid("limits.blocking_threads", "must be at least 1"));
        }
        if let Some(url) = &self.external_url {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && url.len() > "https://".len()
                && !url.contains(['?', '#', ' ']);
            if !ok {
                return Err(invalid("external_url", "must be an http:// or https:// URL without query or fragment"));
            }
        }
        if let Some(key) = &self.masterkey
            && key.expose_secret().chars().count() < MIN_MASTERKEY_LEN
        {
            return Err(invalid("masterkey", format!("must be at least {MIN_MASTERKEY_LEN} characters")));
        }
        if let Some(url) = &self.database.url {
            let url = url.expose_secret();
            if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid("database.url", "unsupported scheme (expected sqlite:// or postgres://)"));
            }
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        for (key, value, max) in [
            ("tokens.access_token_lifetime_secs", self.tokens.access_token_lifetime_secs, 30 * 86_400),
            ("tokens.id_token_lifetime_secs", self.tokens.id_token_lifetime_secs, 30 * 86_400),
        ] {
            if value == 0 || value > max {
                return Err(invalid(key, format!("must be between 1 and {max}")));
            }
        }
        for (key, value, max) in [
            ("federation.max_token_age_secs", self.federation.max_token_age_secs, 2 * 86_400),
            ("federation.access_token_lifetime_secs", self.federation.access_token_lifetime_secs, 30 * 86_400),
        ] {
            if value == 0 || value > max {
                return Err(invalid(key, format!("must be between 1 and {max}")));
            }
        }
        if self.tokens.clock_skew_secs > 300 {
            return Err(invalid("tokens.clock_skew_secs", "must be at most 300"));
        }
        if self.cache.ttl_ms > 1000 {
            return Err(invalid(
                "cache.ttl_ms",
                "must be at most 1000 (a change on another node must show within a second)",
            ));
        }
        if self.cache.max_entries > 10_000_000 {
            return Err(invalid("cache.max_entries", "must be at most 10000000"));
        }
        if self.signing_keys.refresh_interval_secs == 0 {
            return Err(invalid("signing_keys.refresh_interval_secs", "must be at least 1"));
        }
        if tessera_domain::signing_key::SigningAlgorithm::parse(&self.signing_keys.algorithm).is_err() {
            return Err(invalid("signing_keys.algorithm", "must be one of RS256, RS384, RS512, ES256, ES384, EdDSA"));
        }
        if ![2048, 3072, 4096].contains(&self.signing_keys.rsa_bits) {
            return Err(invalid("signing_keys.rsa_bits", "must be 2048, 3072 or 4096"));
        }
        if let Err(e) = self.rotation_policy() {
            return Err(invalid("signing_keys.publish_ahead_secs", e));
        }
        if !self.secret_scanning.github_keys_url.is_empty() && !self.secret_scanning.github_keys_file.is_empty() {
            return Err(invalid(
                "secret_scanning.github_keys_url",
                "set either github_keys_url or github_keys_file, not both",
            ));
        }
        let file = &self.secret_scanning.github_keys_file;
        if !file.is_empty() {
            let text =
                std::fs::read(file).map_err(|e| invalid("secret_scanning.github_keys_file", format!("{file}: {e}")))?;
            tessera_oauth::leaks::PartnerKeys::parse(&text)
                .map_err(|e| invalid("secret_scanning.github_keys_file", format!("{file}: {e}")))?;
        }
        let url = &self.secret_scanning.github_keys_url;
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return Err(invalid("secret_scanning.github_keys_url", "must be an https:// URL"));
        }
        if self.bootstrap.org_name.trim().is_empty() {
            return Err(invalid("bootstrap.org_name", "must not be empty"));
        }
        let days = &self.webhooks.expiry_notice_days;
        let parsed: Vec<Option<u32>> = days.split(',').map(|d| d.trim().parse().ok()).collect();
        if parsed.iter().any(|d| !d.is_some_and(|d| (1..=366).contains(&d))) || parsed.len() > 5 {
            return Err(invalid(
                "webhooks.expiry_notice_days",
                "must be one to five comma-separated whole numbers of days between 1 and 366, e.g. 7,1",
            ));
        }
        if self.webhooks.interval_secs == 0 || self.webhooks.interval_secs > 3600 {
            return Err(invalid("webhooks.interval_secs", "must be between 1 and 3600"));
        }
        Ok(())
    }

    /// The issuer / public base URL, without a trailing slash.
    #[must_use]
    pub fn external_url(&self) -> String {
        self.external_url_for(self.server.port)
    }

    /// The issuer when the server is bound to `port` (differs from the configured
    /// port only when that is 0).
    #[must_use]
    pub fn external_url_for(&self, port: u16) -> String {
        match &self.external_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://localhost:{port}"),
        }
    }

    /// The database URL, defaulting to `tessera.db` in the data dir.
    #[must_use]
    pub fn database_url(&self) -> SecretString {
        match &self.database.url {
            Some(url) => url.clone(),
            None => SecretString::from(format!("sqlite://{}?mode=rwc", self.data_dir.join("tessera.db").display())),
        }
    }

    /// Whether the database is the embedded SQLite default (or another SQLite file).
    #[must_use]
    pub fn is_sqlite(&self) -> bool {
        self.database_url().expose_secret().starts_with("sqlite:")
    }

    /// Where the admin PAT is written.
    #[must_use]
    pub fn pat_path(&self) -> PathBuf {
        self.bootstrap.pat_path.clone().unwrap_or_else(|| self.data_dir.join("admin.pat"))
    }

    /// Where the console admin password is written.
    #[must_use]
    pub fn password_path(&self) -> PathBuf {
        self.bootstrap.password_path.clone().unwrap_or_else(|| self.data_dir.join("admin.password"))
    }

    /// The signing key rotation schedule: keys stay published for the longest
    /// token lifetime (plus skew) after they stop signing.
    ///
    /// # Errors
    /// When publication ahead is under an hour or not shorter than the period.
    pub fn rotation_policy(&self) -> Result<tessera_oauth::signing::RotationPolicy, tessera_domain::ValidationError> {
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        let longest = secs(self.tokens.access_token_lifetime_secs.max(self.tokens.id_token_lifetime_secs));
        let algorithm = tessera_domain::signing_key::SigningAlgorithm::parse(&self.signing_keys.algorithm)?;
        let kind = tessera_oauth::signing::KeyKind::new(algorithm, self.signing_keys.rsa_bits)?;
        Ok(tessera_oauth::signing::RotationPolicy::new(
            secs(self.signing_keys.rotation_period_secs),
            secs(self.signing_keys.publish_ahead_secs),
            longest + secs(self.tokens.clock_skew_secs),
            longest,
        )?
        .with_kind(kind))
    }

    /// The caches' policy.
    #[must_use]
    pub fn cache_policy(&self) -> tessera_domain::cache::CachePolicy {
        tessera_domain::cache::CachePolicy::new(Duration::from_millis(self.cache.ttl_ms), self.cache.max_entries)
    }

    /// The graceful shutdown window.
    #[must_use]
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.server.shutdown_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.external_url(), "http://localhost:8080");
        assert_eq!(s.database_url().expose_secret(), "sqlite://./tessera-data/tessera.db?mode=rwc");
        assert_eq!(s.pat_path(), PathBuf::from("./tessera-data/admin.pat"));
        assert_eq!(s.log.format, LogFormat::Text);
    }

    #[test]
    fn environment_overrides_file() {
        let f = file("external_url = \"https://id.example.com/\"\n[server]\nport = 9000\nhost = \"0.0.0.0\"\n");
        let s = Settings::load_from(
            Some(f.path()),
            env(&[
                ("TESSERA_SERVER__PORT", "9100"),
                ("TESSERA_LOG__FORMAT", "json"),
                ("TESSERA_DATA_DIR", "/var/lib/t"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.external_url(), "https://id.example.com");
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/t"));
    }

    #[test]
    fn a_bad_value_names_key_and_variable_but_not_the_value() {
        let err = Settings::load_from(None, env(&[("TESSERA_SERVER__PORT", "eighty")])).unwrap_err().to_string();
        assert!(err.contains("server.port") && err.contains("TESSERA_SERVER__PORT"), "{err}");
        assert!(!err.contains("eighty"), "{err}");
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let f = file("[server]\nprot = 1\n");
        let err = Settings::load_from(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(err.contains("server.prot"), "{err}");
    }

    #[test]
    fn foreign_tessera_variables_are_ignored() {
        assert!(
            Settings::load_from(None, env(&[("TESSERA_TEST_POSTGRES_URL", "postgres://x"), ("TESSERA_TOKEN", "t")]))
                .is_ok()
        );
    }

    #[test]
    fn short_masterkey_and_unknown_scheme_are_refused() {
        let err = Settings::load_from(None, env(&[("TESSERA_MASTERKEY", "short")])).unwrap_err().to_string();
        assert!(err.contains("TESSERA_MASTERKEY") && !err.contains("short\""), "{err}");
        let err = Settings::load_from(None, env(&[("TESSERA_DATABASE__URL", "mysql://x")])).unwrap_err().to_string();
        assert!(err.contains("TESSERA_DATABASE__URL") && err.contains("unsupported scheme"), "{err}");
    }

    #[test]
    fn numeric_looking_secrets_stay_strings() {
        let key = "0".repeat(40);
        let s = Settings::load_from(None, env(&[("TESSERA_MASTERKEY", &key)])).unwrap();
        assert_eq!(s.masterkey.unwrap().expose_secret(), key);
    }

    #[test]
    fn bad_log_format_is_named_with_the_allowed_values() {
        let err = Settings::load_from(None, env(&[("TESSERA_LOG__FORMAT", "yaml")])).unwrap_err().to_string();
        assert_eq!(
            err, "invalid configuration log.format (TESSERA_LOG__FORMAT): expected one of: text, json",
            "one line, naming the key and the allowed values, never the value"
        );
        let f = file("[log]\nformat = \"xml\"\n");
        let err = Settings::load_from(Some(f.path()), env(&[])).unwrap_err().to_string();
        assert!(err.ends_with("expected one of: text, json"), "{err}");
    }

    #[test]
    fn unknown_variables_are_named_with_the_closest_known_one() {
        let warnings = unknown_variables(&env(&[
            ("TESSERA_SERVER_PORT", "8099"),
            ("TESSERA_LOG__FROMAT", "json"),
            ("TESSERA_NOTHING_LIKE_IT", "x"),
            ("TESSERA_SERVER__PORT", "8099"),
            ("TESSERA_TEST_POSTGRES_URL", "postgres://x"),
            ("TESSERA_TOKEN", "t"),
            ("TESSERA_CONFIG", "t.toml"),
            ("HOME", "/root"),
        ]));
        assert_eq!(
            warnings,
            [
                "unknown environment variable TESSERA_LOG__FROMAT is ignored; did you mean TESSERA_LOG__FORMAT?",
                "unknown environment variable TESSERA_NOTHING_LIKE_IT is ignored (see tessera.example.toml)",
                "unknown environment variable TESSERA_SERVER_PORT is ignored; did you mean TESSERA_SERVER__PORT?",
            ]
        );
        assert!(unknown_variables(&env(&[("TESSERA_DATA_DIR", "x"), ("TESSERA_EXTERNAL_URL", "http://x")])).is_empty());
    }
}
