//! Tessera's persistence: sea-orm entities, migrations and the implementations of
//! the domain's repository traits, on SQLite (the embedded default) and PostgreSQL
//! (the scale-out engine) with one code path.
//!
//! On SQLite the store keeps two pools: a single writer connection for
//! transactions (SQLite has one writer at a time; serialising writers in-process
//! avoids `SQLITE_BUSY` between our own connections) and several read-only
//! connections for the read paths, which WAL mode lets run beside the writer.

mod entity;
mod error;
pub mod migration;
mod query;
mod repo;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use store::{BackupError, ConnectError, DatabaseOptions, MigrationStatus, SeaStore};

#[cfg(test)]
mod credential_tests;
#[cfg(test)]
mod project_tests;
#[cfg(test)]
mod tests;
