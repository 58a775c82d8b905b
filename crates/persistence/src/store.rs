//! Connecting to the database, the [`SeaStore`] and its transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tessera_domain::cache::Epoch;
use tessera_domain::repo::{
    AccessTokenRepository, AdministratorRepository, AuditRepository, Backend, ConsoleSessionRepository,
    InstanceRepository, MachineKeyRepository, MachineSecretRepository, MetadataRepository, OrgRepository,
    PatRepository, RepoError, RepoResult, Repos, RevokedJwtRepository, SigningKeyRepository, Store, Transaction,
    UsedJtiRepository, UserRepository,
};
use tessera_domain::repo::{
    ApplicationRepository, AuthorizationRepository, FederatedCredentialRepository, NoticeRepository, ProjectRepository,
    WebhookRepository,
};

use crate::error;
use crate::migration::Migrator;
use crate::repo::Ctx;

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    pub url: String,
    /// Pool size (PostgreSQL) or number of read connections (SQLite).
    pub max_connections: u32,
    /// How long to wait for a connection (and, on SQLite, for a lock).
    pub acquire_timeout: Duration,
}

impl DatabaseOptions {
    /// Options with Tessera's defaults for `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), max_connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL's scheme is neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://)")]
    UnsupportedScheme,
    /// The URL could not be parsed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The server or file could not be opened.
    #[error("cannot connect to the database: {0}")]
    Unreachable(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
}

/// Why a backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is not SQLite; PostgreSQL has `pg_dump`.
    #[error("online backup copies SQLite databases only")]
    NotSqlite,
    /// SQLite takes the file name as text.
    #[error("the backup file name is not valid UTF-8")]
    NonUtf8Path,
    /// SQLite could not write the copy.
    #[error("cannot copy the database: {0}")]
    Copy(String),
}

/// One migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration's name.
    pub name: String,
    /// Whether it is applied.
    pub applied: bool,
}

/// The sea-orm implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SeaStore {
    /// Reads (SQLite: read-only connections; PostgreSQL: the pool).
    read: DatabaseConnection,
    /// Transactions and migrations (SQLite: the single writer; PostgreSQL: the pool).
    write: DatabaseConnection,
    backend: Backend,
    /// Advanced after every committed access-relevant change (and, on
    /// PostgreSQL, by [`SeaStore::follow_changes`] for other nodes' changes).
    epoch: Arc<Epoch>,
    /// Whether the schema has the webhook outbox, so that appending an audit
    /// event writes its deliveries. Always so once [`SeaStore::migrate_up`]
    /// ran (the server migrates before it writes); cleared only by
    /// [`SeaStore::migrate_up_steps`] stopping short of the outbox's
    /// migration, when the upgrade test writes an earlier release's schema
    /// with this code.
    outbox: Arc<AtomicBool>,
}

fn outbox() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(true))
}

/// The PostgreSQL notification channel on which a committed access-relevant
/// change tells the other nodes to drop what they cached.
pub const CHANGES_CHANNEL: &str = "tessera_changes";

/// Strips credentials from a connection error so it can be shown and logged.
fn describe(err: &DbErr) -> String {
    redact(err.to_string())
}

/// Cuts anything that looks like credentials in a URL out of an error text.
fn redact(text: String) -> String {
    // sqlx never echoes the password, but the URL may appear in some errors; cut
    // anything that looks like `scheme://user:pass@`.
    match (text.find("://"), text.find('@')) {
        (Some(start), Some(at)) if at > start => format!("{}://[redacted]{}", &text[..start], &text[at..]),
        _ => text,
    }
}

impl SeaStore {
    /// The writer connection, for tests that set its pragmas.
    #[cfg(test)]
    pub(crate) fn writer(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Opens the database at `options.url`. Does not migrate.
    ///
    /// # Errors
    /// On an unsupported scheme, a malformed URL or an unreachable database.
    pub async fn connect(options: &DatabaseOptions) -> Result<Self, ConnectError> {
        let url = options.url.as_str();
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(options).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = ConnectOptions::new(url);
            opts.max_connections(options.max_connections)
                .min_connections(0)
                .acquire_timeout(options.acquire_timeout)
                .connect_timeout(options.acquire_timeout)
                .sqlx_logging(false);
            let db = Database::connect(opts).await.map_err(|e| ConnectError::Unreachable(describe(&e)))?;
            Ok(Self {
                read: db.clone(),
                write: db,
                backend: Backend::Postgres,
                epoch: Arc::default(),
                outbox: outbox(),
            })
        } else {
            Err(ConnectError::UnsupportedScheme)
        }
    }

    async fn connect_sqlite(options: &DatabaseOptions) -> Result<Self, ConnectError> {
        let base = SqliteConnectOptions::from_str(&options.url).map_err(|e| ConnectError::InvalidUrl(e.to_string()))?;
        let busy = options.acquire_timeout;
        let configure = move |o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(busy)
                // LIKE is case-insensitive in SQLite by default and case-sensitive in
                // PostgreSQL; make both behave like PostgreSQL.
                .pragma("case_sensitive_like", "ON")
        };
        let writer_opts = configure(base.clone().create_if_missing(true));
        let reader_opts = configure(base).read_only(true);

        let mut w = ConnectOptions::new(options.url.clone());
        w.max_connections(1).min_connections(1).acquire_timeout(options.acquire_timeout).sqlx_logging(false);
        w.map_sqlx_sqlite_opts(move |_| writer_opts.clone());
        // sqlx counts open transactions itself and lowers the count only when
        // its ROLLBACK succeeds. After SQLITE_FULL or SQLITE_IOERR, SQLite has
        // already rolled back, sqlx's ROLLBACK fails, and the count stays up:
        // the next transaction would be a SAVEPOINT whose "commit" commits
        // nothing, and the writes after it would be acknowledged and lost
        // (tests::a_full_or_read_only_sqlite_file_is_unavailable_and_recovers).
        // A writer that comes back from a transaction still counting one is
        // closed instead (closing rolls back), and the pool opens a fresh one.
        w.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_release(|conn, _| {
                Box::pin(async move {
                    use sea_orm::sqlx::Connection as _;
                    // Waits for a rollback queued by a dropped transaction.
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
        });
        // The writer first: it creates the file and switches it to WAL mode.
        let write = Database::connect(w).await.map_err(|e| ConnectError::Unreachable(describe(&e)))?;

        let mut r = ConnectOptions::new(options.url.clone());
        r.max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .sqlx_logging(false);
        r.map_sqlx_sqlite_opts(move |_| reader_opts.clone());
        let read = Database::connect(r).await.map_err(|e| ConnectError::Unreachable(describe(&e)))?;
        Ok(Self { read, write, backend: Backend::Sqlite, epoch: Arc::default(), outbox: outbox() })
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// When a migration fails; the failing migration is rolled back where the
    /// engine allows it.
    pub async fn migrate_up(&self) -> Result<(), ConnectError> {
        Migrator::up(&self.write, None).await.map_err(|e| ConnectError::Migration(describe(&e)))?;
        self.outbox.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Applies the next `steps` pending migrations only: builds the schema of
    /// an earlier release (the upgrade tests).
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate_up_steps(&self, steps: u32) -> Result<(), ConnectError> {
        Migrator::up(&self.write, Some(steps)).await.map_err(|e| ConnectError::Migration(describe(&e)))?;
        let has_outbox = self.migration_status().await?.iter().any(|m| m.applied && m.name.contains("webhooks"));
        self.outbox.store(has_outbox, Ordering::Relaxed);
        Ok(())
    }

    /// Writes a consistent copy of a SQLite database to `dest` with
    /// `VACUUM INTO`, while other connections (a running server) keep reading
    /// and writing: the copy is one read transaction's snapshot. `dest` must
    /// not exist or be an empty file.
    ///
    /// # Errors
    /// [`BackupError::NotSqlite`] on PostgreSQL (use `pg_dump`), or when
    /// SQLite cannot write the copy.
    pub async fn backup_sqlite_into(&self, dest: &std::path::Path) -> Result<(), BackupError> {
        if self.backend != Backend::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        let dest = dest.to_str().ok_or(BackupError::NonUtf8Path)?;
        let stmt = sea_orm::Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, "VACUUM INTO ?", [dest.into()]);
        self.write.execute_raw(stmt).await.map_err(|e| BackupError::Copy(describe(&e)))?;
        Ok(())
    }

    /// Reverts the last `steps` migrations (all when `None`).
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate_down(&self, steps: Option<u32>) -> Result<(), ConnectError> {
        Migrator::down(&self.write, steps).await.map_err(|e| ConnectError::Migration(describe(&e)))
    }

    /// Drops every table and migrates from scratch.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate_fresh(&self) -> Result<(), ConnectError> {
        Migrator::fresh(&self.write).await.map_err(|e| ConnectError::Migration(describe(&e)))
    }

    /// Every known migration and whether it is applied.
    ///
    /// # Errors
    /// When the migration table cannot be read.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, ConnectError> {
        let applied = Migrator::get_applied_migrations(&self.write)
            .await
            .map_err(|e| ConnectError::Migration(describe(&e)))?
            .into_iter()
            .map(|m| m.name().to_owned())
            .collect::<Vec<_>>();
        Ok(Migrator::migrations()
            .iter()
            .map(|m| {
                let name = m.name().to_owned();
                MigrationStatus { applied: applied.contains(&name), name }
            })
            .collect())
    }

    /// On PostgreSQL: a task that listens on [`CHANGES_CHANNEL`] and advances
    /// this node's epoch for every change another node (or this one) commits,
    /// so caches here drop what they hold (DESIGN.md §5). A lost connection is
    /// re-established; since notifications may have been missed meanwhile, the
    /// epoch advances then too. `None` on SQLite, whose one node advances its
    /// epoch at every commit.
    #[must_use]
    pub fn follow_changes(&self) -> Option<impl std::future::Future<Output = ()> + Send + 'static> {
        if self.backend != Backend::Postgres {
            return None;
        }
        let pool = self.write.get_postgres_connection_pool().clone();
        let epoch = self.epoch.clone();
        Some(async move {
            loop {
                match follow(&pool, &epoch).await {
                    // The store is closing: this node is shutting down.
                    Err(sea_orm::sqlx::Error::PoolClosed) => return,
                    Err(e) => tracing::warn!(
                        error = %redact(e.to_string()),
                        "listening for other nodes' changes failed; retrying"
                    ),
                }
                // Whatever happened, something may have been missed.
                epoch.advance();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    }

    /// Closes every connection (the writer last, so SQLite checkpoints the WAL).
    pub async fn close(self) {
        let _ = self.read.close().await;
        let _ = self.write.close().await;
    }
}

impl Repos for SeaStore {
    fn instance(&self) -> Box<dyn InstanceRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn orgs(&self) -> Box<dyn OrgRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn users(&self) -> Box<dyn UserRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn admins(&self) -> Box<dyn AdministratorRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn pats(&self) -> Box<dyn PatRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn metadata(&self) -> Box<dyn MetadataRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn machine_keys(&self) -> Box<dyn MachineKeyRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn machine_secrets(&self) -> Box<dyn MachineSecretRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn federated_credentials(&self) -> Box<dyn FederatedCredentialRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn signing_keys(&self) -> Box<dyn SigningKeyRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn access_tokens(&self) -> Box<dyn AccessTokenRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn revoked_jwts(&self) -> Box<dyn RevokedJwtRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn used_jtis(&self) -> Box<dyn UsedJtiRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn console_sessions(&self) -> Box<dyn ConsoleSessionRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn audit(&self) -> Box<dyn AuditRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn projects(&self) -> Box<dyn ProjectRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn applications(&self) -> Box<dyn ApplicationRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn authorizations(&self) -> Box<dyn AuthorizationRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn webhooks(&self) -> Box<dyn WebhookRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
    fn notices(&self) -> Box<dyn NoticeRepository + '_> {
        Box::new(Ctx::read(&self.read))
    }
}

#[async_trait]
impl Store for SeaStore {
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>> {
        let tx = self.write.begin().await.map_err(error::db)?;
        let state = TxState { outbox: self.outbox.load(Ordering::Relaxed), ..TxState::default() };
        Ok(Box::new(SeaTransaction { tx, state, backend: self.backend, epoch: self.epoch.clone() }))
    }

    async fn ping(&self) -> RepoResult<()> {
        self.read.ping().await.map_err(error::db)?;
        if self.backend == Backend::Sqlite {
            self.write.ping().await.map_err(error::db)?;
        }
        Ok(())
    }

    fn backend(&self) -> Backend {
        self.backend
    }

    fn epoch(&self) -> &Arc<Epoch> {
        &self.epoch
    }
}

/// What a transaction has done so far, for the audit rule.
#[derive(Debug, Default)]
pub(crate) struct TxState {
    wrote: AtomicBool,
    audited: AtomicBool,
    /// Something a cache may hold changed (everything but issuing new tokens
    /// and bookkeeping).
    changed: AtomicBool,
    /// Whether audit events write their webhook deliveries
    /// ([`SeaStore::outbox`](SeaStore)).
    pub(crate) outbox: bool,
}

impl TxState {
    /// An audited write that may change what a cache holds.
    pub(crate) fn mark_write(&self) {
        self.wrote.store(true, Ordering::Relaxed);
        self.changed.store(true, Ordering::Relaxed);
    }
    /// An audited write that only adds something no cache can hold yet (a
    /// newly issued token).
    pub(crate) fn mark_addition(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }
    pub(crate) fn mark_audited(&self) {
        self.audited.store(true, Ordering::Relaxed);
    }
}

/// A sea-orm transaction with the audit rule.
struct SeaTransaction {
    tx: DatabaseTransaction,
    state: TxState,
    backend: Backend,
    epoch: Arc<Epoch>,
}

impl Repos for SeaTransaction {
    fn instance(&self) -> Box<dyn InstanceRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn orgs(&self) -> Box<dyn OrgRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn users(&self) -> Box<dyn UserRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn admins(&self) -> Box<dyn AdministratorRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn pats(&self) -> Box<dyn PatRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn metadata(&self) -> Box<dyn MetadataRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn machine_keys(&self) -> Box<dyn MachineKeyRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn machine_secrets(&self) -> Box<dyn MachineSecretRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn federated_credentials(&self) -> Box<dyn FederatedCredentialRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn signing_keys(&self) -> Box<dyn SigningKeyRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn access_tokens(&self) -> Box<dyn AccessTokenRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn revoked_jwts(&self) -> Box<dyn RevokedJwtRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn used_jtis(&self) -> Box<dyn UsedJtiRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn console_sessions(&self) -> Box<dyn ConsoleSessionRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn audit(&self) -> Box<dyn AuditRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn projects(&self) -> Box<dyn ProjectRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn applications(&self) -> Box<dyn ApplicationRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn authorizations(&self) -> Box<dyn AuthorizationRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn webhooks(&self) -> Box<dyn WebhookRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
    fn notices(&self) -> Box<dyn NoticeRepository + '_> {
        Box::new(Ctx::tx(&self.tx, &self.state))
    }
}

#[async_trait]
impl Transaction for SeaTransaction {
    async fn commit(self: Box<Self>) -> RepoResult<()> {
        let wrote = self.state.wrote.load(Ordering::Relaxed);
        let audited = self.state.audited.load(Ordering::Relaxed);
        if wrote && !audited {
            self.tx.rollback().await.map_err(error::db)?;
            return Err(RepoError::Unaudited);
        }
        let changed = self.state.changed.load(Ordering::Relaxed);
        if changed && self.backend == Backend::Postgres {
            // Delivered by PostgreSQL when (and only if) this transaction commits.
            let notify = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, '')",
                [CHANGES_CHANNEL.into()],
            );
            self.tx.execute_raw(notify).await.map_err(error::db)?;
        }
        self.tx.commit().await.map_err(error::db)?;
        if changed {
            // After the commit, never before: see tessera_domain::cache.
            self.epoch.advance();
        }
        Ok(())
    }
}

/// Listens on [`CHANGES_CHANNEL`] until reconnecting fails.
async fn follow(pool: &sea_orm::sqlx::PgPool, epoch: &Epoch) -> Result<std::convert::Infallible, sea_orm::sqlx::Error> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    // Changes committed before LISTEN took effect are not delivered.
    epoch.advance();
    loop {
        // `None`: the connection was lost and has been re-established (sqlx
        // listens again); what was sent in between is lost, so drop everything.
        listener.try_recv().await?;
        epoch.advance();
    }
}

/// Runs a statement on any connection; used by the testing helpers.
#[cfg(any(test, feature = "testing"))]
pub(crate) async fn execute_raw(conn: &impl sea_orm::ConnectionTrait, sql: &str) -> Result<(), DbErr> {
    conn.execute_unprepared(sql).await.map(|_| ())
}
