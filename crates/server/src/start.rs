//! `tessera start` and `tessera migrate`: open the database, migrate, bootstrap,
//! serve until SIGTERM/SIGINT.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::App;
use actix_web::middleware::from_fn;
use secrecy::ExposeSecret;
use tessera_core::{Core, OsRandom};
use tessera_domain::repo::{Repos, Store};
use tessera_domain::{Clock, Rng, SystemClock};
use tessera_http::console::ConsoleSettings;
use tessera_http::console::throttle::ThrottlePolicy;
use tessera_http::{AppState, observe};
use tessera_oauth::grant::{TokenConfig, TokenService};
use tessera_oauth::issue_log::IssueLog;
use tessera_oauth::keyring::KeyRing;
use tessera_oauth::sealing::Sealer;
use tessera_oauth::usage::UsageRecorder;
use tessera_oauth::validator::{JwtSettings, Validator};
use tessera_persistence::{ConnectError, DatabaseOptions, SeaStore};

use crate::bootstrap::{self, Outcome};
use crate::cli::MigrateAction;
use crate::files;
use crate::masterkey::{self, Origin};
use crate::settings::Settings;

/// A start-up failure, worded as one line for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data dir cannot be created or written.
    #[error("data directory {path} is not usable (data_dir, TESSERA_DATA_DIR): {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database cannot be opened or migrated.
    #[error("database (database.url, TESSERA_DATABASE__URL): {0}")]
    Database(#[from] ConnectError),
    /// The master key is unusable.
    #[error(transparent)]
    MasterKey(#[from] masterkey::MasterKeyError),
    /// The bootstrap failed.
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    /// The listen address is taken or invalid.
    #[error("cannot listen on {addr}: {source}; {}", bind_hint(source))]
    Bind {
        /// host:port.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// `migrate --check` found pending migrations.
    #[error("{0} pending migration(s)")]
    PendingMigrations(usize),
    /// The signing keys cannot be created or opened (e.g. a wrong master key).
    #[error("{0} (masterkey, TESSERA_MASTERKEY)")]
    Keys(String),
    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(std::io::Error),
    /// The SIGTERM/SIGINT handlers cannot be installed.
    #[error("cannot install the shutdown signal handlers: {0}")]
    Signals(std::io::Error),
    /// The secret scanning key list file cannot be read.
    #[error("secret_scanning.github_keys_file (TESSERA_SECRET_SCANNING__GITHUB_KEYS_FILE): {0}")]
    SecretScanning(String),
}

/// The leaked-token endpoint's keys as the settings name them.
fn leaks(
    settings: &crate::settings::SecretScanningSettings,
    outbound: Arc<tessera_http::outbound::Outbound>,
) -> Result<tessera_http::leaks::Leaks, StartError> {
    use tessera_http::leaks::{KeySource, Leaks};
    if !settings.github_keys_file.is_empty() {
        let path = &settings.github_keys_file;
        let text = std::fs::read(path).map_err(|e| StartError::SecretScanning(format!("cannot read {path}: {e}")))?;
        let keys = tessera_oauth::leaks::PartnerKeys::parse(&text)
            .map_err(|e| StartError::SecretScanning(format!("{path}: {e}")))?;
        return Ok(Leaks::github(KeySource::Fixed(keys)));
    }
    if !settings.github_keys_url.is_empty() {
        return Ok(Leaks::github(KeySource::Url { url: settings.github_keys_url.clone(), fetch: outbound }));
    }
    Ok(Leaks::default())
}

/// What to do when the listen address cannot be bound.
fn bind_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            "another process listens there: stop it, or choose another port with TESSERA_SERVER__PORT (server.port)"
        }
        std::io::ErrorKind::PermissionDenied => {
            "ports below 1024 need privileges: choose another port with TESSERA_SERVER__PORT (server.port)"
        }
        _ => "check TESSERA_SERVER__HOST (server.host) and TESSERA_SERVER__PORT (server.port)",
    }
}

pub(crate) async fn open_store(settings: &Settings) -> Result<SeaStore, StartError> {
    if settings.is_sqlite() {
        files::ensure_private_dir(&settings.data_dir)
            .map_err(|source| StartError::DataDir { path: settings.data_dir.clone(), source })?;
    }
    if settings.database.url.is_none() {
        // SQLite gives its WAL and shared-memory files the mode of the database
        // file, so creating that one owner-only keeps all three private.
        let path = settings.data_dir.join("tessera.db");
        files::create_private_if_missing(&path)
            .map_err(|source| StartError::DataDir { path: settings.data_dir.clone(), source })?;
    }
    let mut options = DatabaseOptions::new(settings.database_url().expose_secret().to_owned());
    options.max_connections = settings.database.max_connections;
    options.acquire_timeout = std::time::Duration::from_secs(settings.database.acquire_timeout_secs);
    Ok(SeaStore::connect(&options).await?)
}

/// `tessera migrate`.
///
/// # Errors
/// On database failures, or pending migrations with `--check`.
pub async fn migrate(settings: &Settings, action: MigrateAction, check: bool) -> Result<(), StartError> {
    let store = open_store(settings).await?;
    let result = async {
        match action {
            MigrateAction::Up if check => {
                let pending: Vec<_> = store.migration_status().await?.into_iter().filter(|m| !m.applied).collect();
                for m in &pending {
                    println!("pending  {}", m.name);
                }
                if pending.is_empty() {
                    println!("database schema is up to date");
                    Ok(())
                } else {
                    Err(StartError::PendingMigrations(pending.len()))
                }
            }
            MigrateAction::Up => {
                store.migrate_up().await?;
                println!("database schema is up to date");
                Ok(())
            }
            MigrateAction::Down => {
                store.migrate_down(Some(1)).await?;
                println!("reverted the most recent migration");
                Ok(())
            }
            MigrateAction::Status => {
                for m in store.migration_status().await? {
                    println!("{}  {}", if m.applied { "applied" } else { "pending" }, m.name);
                }
                Ok(())
            }
            MigrateAction::Fresh => {
                store.migrate_fresh().await?;
                println!("database recreated from scratch");
                Ok(())
            }
        }
    }
    .await;
    store.close().await;
    result
}

/// A server that is up: where it listens, and how to stop it. What
/// [`build`] returns, to `tessera start` and to the in-process tests.
pub struct Running {
    /// The address it listens on (port 0 in the settings: the one it got).
    pub address: std::net::SocketAddr,
    /// The issuer (`external_url`).
    pub external_url: String,
    /// The console's URL.
    pub console_url: String,
    /// The webhook worker, for tests that drive its passes on a mock clock.
    pub webhooks: Option<tessera_core::webhooks::Worker>,
    /// The store and the last-use notes, for [`Running::flush_usage`].
    usage: (Arc<SeaStore>, Arc<UsageRecorder>),
    /// The signing keys, for [`Running::refresh_keys`].
    keys: (Arc<dyn Clock>, Arc<KeyRing>),
    handle: actix_web::dev::ServerHandle,
    finished: tokio::task::JoinHandle<Result<(), StartError>>,
}

impl Running {
    /// Writes the pending last-use notes now, as the flusher does every few
    /// seconds (for tests on a mock clock); whether none is left pending.
    pub async fn flush_usage(&self) -> bool {
        flush_usage(self.usage.0.as_ref(), &self.usage.1).await
    }

    /// Runs the signing keys' refresh now, as every node does each
    /// `signing_keys.refresh_interval_secs` (for tests on a mock clock).
    ///
    /// # Errors
    /// As [`KeyRing::refresh`].
    pub async fn refresh_keys(&self) -> Result<(), tessera_oauth::keyring::KeyRingError> {
        self.keys.1.refresh(self.usage.0.as_ref(), self.keys.0.as_ref()).await
    }

    /// Asks the server to stop at once, without waiting (for a test's `Drop`).
    pub fn request_stop(&self) {
        // The command is sent when `stop` is called; the future only waits.
        drop(self.handle.stop(false));
    }

    /// Stops accepting, lets in-flight requests finish (DESIGN.md §2), flushes
    /// the bookkeeping and closes the database.
    ///
    /// # Errors
    /// When the server stopped with an I/O error.
    pub async fn stop(self) -> Result<(), StartError> {
        let Self { handle, finished, webhooks, usage, .. } = self;
        // Their hold on the store would keep the store from closing.
        drop((webhooks, usage));
        handle.stop(true).await;
        finished.await.unwrap_or_else(|e| Err(StartError::Serve(std::io::Error::other(e))))
    }
}

/// `tessera start`: runs until a shutdown signal, then drains and returns.
///
/// # Errors
/// On any start-up failure; see [`StartError`].
pub async fn start(settings: Settings) -> Result<(), StartError> {
    // Our own handlers, installed before the "listening" line below: a SIGTERM
    // right after that line must stop the server, not kill the process.
    let shutdown = shutdown_signal().map_err(StartError::Signals)?;
    let running = build(settings, Arc::new(SystemClock), Arc::new(OsRandom)).await?;
    // The one line on standard output: scripts and tests wait for it.
    println!(
        "tessera listening on http://{} (issuer {}; console {})",
        running.address, running.external_url, running.console_url
    );
    tracing::info!(
        address = %running.address,
        issuer = %running.external_url,
        console = %running.console_url,
        "serving"
    );
    shutdown.await;
    tracing::info!("shutdown signal received; finishing in-flight requests");
    running.stop().await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Opens and migrates the database, bootstraps an empty one, opens the signing
/// keys and starts serving on the configured address, with `clock` and `rng`
/// as the use cases' time and randomness (the tests pass a mock clock and a
/// seeded generator). Returns once the listener is bound.
///
/// # Errors
/// On any start-up failure; see [`StartError`].
pub async fn build(settings: Settings, clock: Arc<dyn Clock>, rng: Arc<dyn Rng>) -> Result<Running, StartError> {
    let store = open_store(&settings).await?;
    store.migrate_up().await?;
    if !settings.is_sqlite() {
        // The data dir still holds the bootstrap files (and maybe the master key).
        files::ensure_private_dir(&settings.data_dir)
            .map_err(|source| StartError::DataDir { path: settings.data_dir.clone(), source })?;
    }
    let (masterkey, origin) = masterkey::resolve(&settings)?;
    match &origin {
        Origin::Generated(path) => tracing::info!(path = %path.display(), "generated a master key"),
        Origin::File(path) if !settings.is_sqlite() => tracing::warn!(
            path = %path.display(),
            "using the master key file of this node's data dir; nodes sharing one PostgreSQL database must all set the same TESSERA_MASTERKEY"
        ),
        _ => {}
    }

    // argon2id and RSA key generation share one set of bounded slots (DESIGN.md §8).
    let hasher = bootstrap::default_hasher()?.with_slots(settings.heavy_work_slots());
    let store = Arc::new(store);
    // Webhook targets name their own hosts: a separate allow-list from the
    // federation one, so opening one for tests does not open the other.
    let webhook_sender = Arc::new(tessera_http::outbound::Outbound::new(&tessera_http::outbound::OutboundConfig {
        allow: settings.webhooks.allow_hosts(),
        redirects: false,
        ..Default::default()
    }));
    let webhooks = Arc::new(tessera_core::webhooks::Webhooks {
        sealer: Arc::new(Sealer::for_webhook_secrets(&masterkey).map_err(|e| StartError::Keys(e.to_string()))?),
        sender: webhook_sender,
    });
    let core = Core::new(store.clone(), clock.clone(), rng, hasher)
        .with_cache(settings.cache_policy())
        .with_webhooks(webhooks);
    match bootstrap::ensure_first_instance(&core, &settings).await? {
        Outcome::Created { pat_path, password_path } => tracing::info!(
            admin_pat = %pat_path.display(),
            console_password = %password_path.display(),
            "bootstrapped a new instance; the admin credentials are in these files (mode 0600)"
        ),
        Outcome::AlreadyDone => tracing::debug!("instance already bootstrapped"),
    }

    let addr = format!("{}:{}", settings.server.host, settings.server.port);
    let listener = TcpListener::bind(&addr).map_err(|source| StartError::Bind { addr: addr.clone(), source })?;
    let local = listener.local_addr().map_err(|source| StartError::Bind { addr: addr.clone(), source })?;

    let instance = store
        .instance()
        .get()
        .await
        .map_err(|e| StartError::Keys(e.to_string()))?
        .ok_or_else(|| StartError::Keys("the instance is missing after bootstrap".into()))?;
    let sealer = Sealer::for_signing_keys(&masterkey).map_err(|e| StartError::Keys(e.to_string()))?;
    let policy = settings.rotation_policy().map_err(|e| StartError::Keys(e.to_string()))?;
    let keys = Arc::new(
        KeyRing::open(store.as_ref(), clock.as_ref(), sealer, policy)
            .await
            .map_err(|e| StartError::Keys(e.to_string()))?,
    );

    let external_url = settings.external_url_for(local.port());
    let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
    let config = TokenConfig {
        issuer: external_url.clone(),
        token_endpoint: format!("{external_url}{}", tessera_http::oauth::TOKEN_PATH),
        // The management API is ZITADEL's "zitadel" project; in Tessera its id
        // is the instance id.
        api_audience: instance.id.to_string(),
        access_token_lifetime: secs(settings.tokens.access_token_lifetime_secs),
        id_token_lifetime: secs(settings.tokens.id_token_lifetime_secs),
        skew: secs(settings.tokens.clock_skew_secs),
        secret_overlap: secs(settings.tokens.secret_overlap_secs),
    };
    let validator = Arc::new(
        Validator::new(
            clock.clone(),
            Arc::new(UsageRecorder::default()),
            config.api_audience.clone(),
            Some(JwtSettings { keys: keys.clone(), issuer: config.issuer.clone(), skew: config.skew }),
        )
        .with_cache(store.as_ref(), settings.cache_policy()),
    );
    // One writer commits the tokens of every waiting grant at once.
    let (issue_log, issue_writer) = IssueLog::new(store.clone(), ISSUE_BATCH);
    let issue_writer = tokio::spawn(issue_writer);
    let outbound = Arc::new(tessera_http::outbound::Outbound::new(&tessera_http::outbound::OutboundConfig {
        allow: settings.federation.allow_hosts(),
        ..Default::default()
    }));
    let leaks = leaks(&settings.secret_scanning, outbound.clone())?;
    let federation = tessera_oauth::grant::Federation {
        keys: tessera_oauth::federation::keys::KeyCache::new(outbound, Default::default()),
        policy: tessera_oauth::federation::FederationPolicy {
            max_age: secs(settings.federation.max_token_age_secs),
            ..Default::default()
        },
        max_lifetime: secs(settings.federation.access_token_lifetime_secs),
        outcomes: tessera_oauth::grant::ExchangeOutcomes::default(),
    };
    let tokens = Arc::new(
        TokenService::new(config, keys.clone(), clock.clone())
            .with_cache(store.as_ref(), settings.cache_policy())
            .with_issue_log(issue_log)
            .with_federation(Arc::new(federation)),
    );
    // Other nodes' changes empty this node's caches (PostgreSQL only).
    let follower = store.follow_changes().map(tokio::spawn);

    let console = ConsoleSettings::new(&external_url, chrono::Duration::hours(8), ThrottlePolicy::default());
    let core = core.with_signing_keys(keys.clone());
    let state = AppState::new(core, validator, tokens)
        .with_console(console)
        // Checked when the settings were loaded.
        .with_trusted_proxies(settings.trusted_proxies().unwrap_or_default())
        .with_body_timeout(std::time::Duration::from_millis(settings.limits.body_timeout_ms))
        .with_rate_limits(settings.rate_policy())
        .with_leaks(leaks);
    let worker = tessera_core::webhooks::Worker::new(
        &state.core,
        settings.webhooks.thresholds(),
        secs(settings.tokens.secret_overlap_secs),
    );
    let webhook_loop = worker.clone().map(|w| {
        tokio::spawn(run_webhooks_forever(w, std::time::Duration::from_secs(settings.webhooks.interval_secs)))
    });
    let usage = state.validator.usage().clone();
    let usage_handle = (store.clone(), usage.clone());
    let (stop_flusher, flusher_stop) = tokio::sync::watch::channel(());
    let flusher = tokio::spawn(flush_usage_forever(store.clone(), usage.clone(), flusher_stop));
    let key_handle = (clock.clone(), keys.clone());
    let refresher = tokio::spawn(refresh_keys_forever(
        store.clone(),
        clock,
        keys,
        std::time::Duration::from_secs(settings.signing_keys.refresh_interval_secs),
    ));
    // HTTP/1.1 and HTTP/2 (gRPC) on the one port: crates/http/src/serve.rs.
    let listen = tessera_http::serve::Listen {
        workers: settings.server.workers,
        shutdown_timeout_secs: settings.shutdown_timeout().as_secs(),
        // An explicit bound instead of tokio's 512 threads per worker; heavy
        // work is bounded further by the slots above.
        blocking_threads: settings.limits.blocking_threads,
    };
    // Stopped by `start` on SIGTERM/SIGINT, or by a test through `Running::stop`.
    let server = tessera_http::serve::server(
        listener,
        move || {
            App::new()
                .wrap(from_fn(observe::middleware))
                // `https://host/` as an SDK's base URL yields `//zitadel…/Method`:
                // merge repeated slashes before routing so such calls still match.
                .wrap(from_fn(tessera_http::observe::merge_slashes))
                .configure(tessera_http::configure(state.clone()))
        },
        &listen,
    )
    .map_err(|source| StartError::Bind { addr, source })?;
    let handle = server.handle();
    let console_url = format!("{external_url}{}/", tessera_http::console::CONSOLE_PATH);
    let finished = tokio::spawn(async move {
        let served = server.await;
        // Stopped, not aborted: an abort in the middle of a flush would lose the
        // notes it had taken out of the recorder.
        let _ = stop_flusher.send(());
        let _ = flusher.await;
        refresher.abort();
        // A delivery cut off mid-attempt stays claimed for a minute, then
        // goes again: at least once, never lost.
        if let Some(webhook_loop) = webhook_loop {
            webhook_loop.abort();
            let _ = webhook_loop.await;
        }
        if let Some(follower) = follower {
            follower.abort();
            let _ = follower.await;
        }
        // In-flight requests are finished, so no grant waits for the writer.
        issue_writer.abort();
        let _ = issue_writer.await;
        // The last chance to write the notes: a busy or briefly unreachable
        // database gets a few tries before they are given up (with a warning).
        for _ in 0..FINAL_FLUSH_TRIES {
            if flush_usage(store.as_ref(), &usage).await {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        served.map_err(StartError::Serve)?;
        if let Ok(store) = Arc::try_unwrap(store) {
            store.close().await;
        }
        Ok(())
    });
    Ok(Running {
        address: local,
        external_url,
        console_url,
        handle,
        finished,
        webhooks: worker,
        usage: usage_handle,
        keys: key_handle,
    })
}

/// Resolves at the first SIGTERM or SIGINT. The handlers are installed when this
/// returns, not when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Resolves at the first Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Reloads the signing keys and runs the rotation plan every `interval`, so
/// that every node publishes and uses keys another node created.
async fn refresh_keys_forever(
    store: Arc<SeaStore>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    interval: std::time::Duration,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = keys.refresh(store.as_ref(), clock.as_ref()).await {
            tracing::error!(error = %e, "could not refresh the signing keys; will retry");
        }
    }
}

/// Delivers due webhook deliveries every `interval` (a backlog in full
/// batches, up to [`WEBHOOK_BATCHES`] of them a pass), raises expiry notices
/// about once a minute, and purges old deliveries about hourly; a failed
/// pass is logged and retried.
async fn run_webhooks_forever(worker: tessera_core::webhooks::Worker, interval: std::time::Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let per_minute = (60 / interval.as_secs().max(1)).max(1);
    let mut passes: u64 = 0;
    // The first pass one interval after start, like every other.
    tick.tick().await;
    loop {
        tick.tick().await;
        if passes.is_multiple_of(per_minute)
            && let Err(e) = worker.scan_expiry().await
        {
            tracing::warn!(error = %e, "could not scan for expiring credentials; will retry");
        }
        for _ in 0..WEBHOOK_BATCHES {
            match worker.deliver_due().await {
                Ok(n) if n == tessera_core::webhooks::BATCH => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "could not deliver webhooks; will retry");
                    break;
                }
            }
        }
        if passes.is_multiple_of(per_minute * 60)
            && let Err(e) = worker.purge().await
        {
            tracing::warn!(error = %e, "could not purge old webhook deliveries; will retry");
        }
        passes = passes.wrapping_add(1);
    }
}

/// Most full batches of deliveries one pass sends before the next tick.
const WEBHOOK_BATCHES: usize = 16;

/// Most grants committed in one transaction by the token writer.
const ISSUE_BATCH: usize = 256;

/// How often batched last-use times are written.
const USAGE_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the flush at shutdown is tried before the notes are given up.
const FINAL_FLUSH_TRIES: usize = 5;

/// Writes the pending last-use notes in one statement (DESIGN.md §6: no write per
/// request). A failure only delays the bookkeeping; the notes are kept for the
/// next try. Returns whether nothing is left pending.
async fn flush_usage(store: &SeaStore, usage: &UsageRecorder) -> bool {
    let batch = usage.drain();
    if batch.is_empty() {
        return true;
    }
    let result = async {
        let tx = store.begin().await?;
        tx.pats().record_last_used(&batch).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, tokens = batch.len(), "could not record last use of tokens; will retry");
        for (id, at) in batch {
            usage.record(id, at);
        }
        return false;
    }
    true
}

/// Flushes every [`USAGE_FLUSH_INTERVAL`] until `stop` changes; a flush under
/// way when it does is finished first.
async fn flush_usage_forever(
    store: Arc<SeaStore>,
    usage: Arc<UsageRecorder>,
    mut stop: tokio::sync::watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval(USAGE_FLUSH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                flush_usage(store.as_ref(), &usage).await;
            }
            _ = stop.changed() => return,
        }
    }
}
