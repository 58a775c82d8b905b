//! Fresh databases for tests (CONVENTIONS.md §6): a SQLite file in a temporary
//! directory by default, or — when `TESSERA_TEST_POSTGRES_URL` is set, as CI sets
//! it — a new PostgreSQL database created for the test and dropped afterwards.

#![allow(clippy::expect_used, reason = "a test helper: failing set-up must fail the test loudly")]
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::store::execute_raw;
use crate::{DatabaseOptions, SeaStore};

/// The variable naming a PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "TESSERA_TEST_POSTGRES_URL";

/// A database that exists for the lifetime of this value.
pub struct TestDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<PostgresCleanup>,
}

struct PostgresCleanup {
    admin_url: String,
    name: String,
}

/// Replaces the database name (the path) of a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TestDb {
    /// An empty database: on PostgreSQL when [`POSTGRES_URL_VAR`] is set, else SQLite.
    ///
    /// # Panics
    /// When the PostgreSQL server named by the variable cannot be reached: a test
    /// run that was asked to use PostgreSQL must not silently fall back.
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.trim().is_empty() => Self::postgres(admin_url.trim()).await,
            _ => Self::sqlite(),
        }
    }

    /// An empty SQLite database in a fresh temporary directory.
    ///
    /// # Panics
    /// When no temporary directory can be created.
    #[must_use]
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("tessera.db").display());
        Self { url, _dir: Some(dir), postgres: None }
    }

    async fn postgres(admin_url: &str) -> Self {
        let name = format!("tessera_test_{}", Uuid::now_v7().simple());
        let admin = Database::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is set but PostgreSQL is unreachable: {e}"));
        execute_raw(&admin, &format!("CREATE DATABASE \"{name}\"")).await.expect("create the test database");
        let _ = admin.close().await;
        Self {
            url: with_database(admin_url, &name),
            _dir: None,
            postgres: Some(PostgresCleanup { admin_url: admin_url.to_owned(), name }),
        }
    }

    /// The database URL, for a server under test.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether this is a PostgreSQL database.
    #[must_use]
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A store on this database, migrated to the latest schema.
    ///
    /// # Panics
    /// When the database cannot be opened or migrated.
    pub async fn store(&self) -> SeaStore {
        let store =
            SeaStore::connect(&DatabaseOptions::new(self.url.clone())).await.expect("connect to the test database");
        store.migrate_up().await.expect("migrate the test database");
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else { return };
        // Drop runs inside the test's runtime; use a thread with its own runtime.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(pg.admin_url.as_str()).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name);
                    let _ = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(with_database("postgres://u@h:5432/postgres", "t"), "postgres://u@h:5432/t");
        assert_eq!(with_database("postgres://u@h:5432", "t"), "postgres://u@h:5432/t");
        assert_eq!(with_database("postgres://u@h/db?sslmode=disable", "t"), "postgres://u@h/t?sslmode=disable");
    }
}
