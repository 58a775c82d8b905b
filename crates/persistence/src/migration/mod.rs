//! Schema migrations (sea-orm-migration). They run at start, from
//! `tessera migrate` and from `cargo xtask migrate`, and build every test database,
//! so SQLite and PostgreSQL always carry the same schema.
//!
//! A migration that has landed on `main` is never edited again: changes go into a
//! new file, so older databases move forward (docs/operator/upgrades.md).

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_jwt_profile;
mod m0003_console_sessions;
mod m0004_projects;
mod m0005_federated_credentials;
mod m0006_pat_scopes;
mod m0007_webhooks;
mod m0008_signing_key_members;

/// The ordered list of Tessera's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_jwt_profile::Migration),
            Box::new(m0003_console_sessions::Migration),
            Box::new(m0004_projects::Migration),
            Box::new(m0005_federated_credentials::Migration),
            Box::new(m0006_pat_scopes::Migration),
            Box::new(m0007_webhooks::Migration),
            Box::new(m0008_signing_key_members::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "tessera_migrations".into_iden()
    }
}
