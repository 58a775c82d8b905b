//! Federated credentials of machine users (workload identity federation,
//! docs/federation.md), and the credential an opaque access token was
//! exchanged for.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, text, text_null, timestamp_with_time_zone, uuid, uuid_null};

/// Creates `federated_credentials`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("federated_credentials")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(string_len("name", 200))
                .col(string_len("description", 500))
                // Compared exactly with a token's `iss`.
                .col(string_len("issuer", 512))
                // `discovery`, `jwks_url` or `inline`.
                .col(string_len("key_source", 16))
                // The JWKS URL, or the inline JWKS (public keys only).
                .col(text_null("key_source_value"))
                .col(string_len("subject", 256))
                .col(string_len("audience", 512))
                // `[{"claim": …, "pattern": …}]`.
                .col(text("conditions"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_federated_credentials_user")
                        .from("federated_credentials", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .on_update(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_federated_credentials_user")
                .table("federated_credentials")
                .col("user_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        // An exchange finds the credentials trusting a token's issuer.
        m.create_index(
            Index::create()
                .name("ix_federated_credentials_issuer")
                .table("federated_credentials")
                .col("issuer")
                .col("subject")
                .to_owned(),
        )
        .await?;
        // No foreign key: a token outlives the removal of its credential, as
        // it outlives the removal of the key that signed its assertion.
        m.alter_table(
            Table::alter().table("access_tokens").add_column(uuid_null("federated_credential_id")).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("access_tokens").drop_column("federated_credential_id").to_owned()).await?;
        m.drop_table(Table::drop().table("federated_credentials").to_owned()).await
    }
}
