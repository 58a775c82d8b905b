//! Console login sessions: the digest of each session cookie, never the cookie.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{binary, timestamp_with_time_zone, uuid};

/// Creates `console_sessions`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("console_sessions")
                // Also the lookup id embedded in the cookie.
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                // SHA-256 of the whole cookie value.
                .col(binary("digest"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_console_sessions_user")
                        .from("console_sessions", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .on_update(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_console_sessions_user").table("console_sessions").col("user_id").to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_console_sessions_expires").table("console_sessions").col("expires_at").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("console_sessions").to_owned()).await
    }
}
