//! Signing keys of more kinds than RSA (docs/operator/key-rotation.md): the
//! second public-key column holds an EC key's `y` (43 characters for P-256,
//! 64 for P-384), longer than the RSA exponent it was sized for.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// Widens `signing_keys.jwk_e` to `text` on PostgreSQL. SQLite enforces no
/// length on its text columns, so there is nothing to change there.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.alter_table(
                Table::alter()
                    .table("signing_keys")
                    .modify_column(ColumnDef::new("jwk_e").text().not_null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.alter_table(
                Table::alter()
                    .table("signing_keys")
                    .modify_column(ColumnDef::new("jwk_e").string_len(32).not_null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
