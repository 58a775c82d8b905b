//! JWT Profile and client credentials: machine keys, machine secrets, instance
//! signing keys, opaque access tokens, revoked JWT access tokens and used
//! assertion `jti`s.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    binary, string_len, text, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid,
};

/// Creates the credential tables of the JWT Profile and client credentials grants.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key to `users` that deletes the row with its user.
fn user_fk(table: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user"))
        .from(table, "user_id")
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("machine_keys")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                // `rsa`, `ec_p256` or `ed25519`.
                .col(string_len("key_type", 16))
                // SubjectPublicKeyInfo PEM. Never a private key.
                .col(text("public_key"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut user_fk("machine_keys"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_machine_keys_user")
                .table("machine_keys")
                .col("user_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("machine_secrets")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(binary("digest"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("superseded_at"))
                .foreign_key(&mut user_fk("machine_secrets"))
                .to_owned(),
        )
        .await?;
        // One current secret per user: a partial unique index (SQLite ≥ 3.8 and
        // PostgreSQL both have them).
        m.create_index(
            Index::create()
                .name("ux_machine_secrets_current")
                .table("machine_secrets")
                .col("user_id")
                .unique()
                .and_where(Expr::col("superseded_at").is_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_machine_secrets_user").table("machine_secrets").col("user_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("signing_keys")
                .col(uuid("id").primary_key())
                .col(string_len("algorithm", 16))
                // JWK `n` and `e`, base64url.
                .col(text("jwk_n"))
                .col(string_len("jwk_e", 32))
                // version || nonce || AES-256-GCM ciphertext of the PKCS#1 DER key.
                .col(binary("sealed_private_key"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("publish_at"))
                // Unique: nodes planning the same rotation at once create one key.
                .col(timestamp_with_time_zone("sign_from").unique_key())
                .col(timestamp_with_time_zone("sign_until"))
                .col(timestamp_with_time_zone("retire_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("access_tokens")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(string_len("client_id", 200))
                // Space-separated scope tokens (RFC 6749 §3.3 forbids spaces in them).
                .col(text("scopes"))
                // JSON array of strings.
                .col(text("audience"))
                .col(binary("digest"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut user_fk("access_tokens"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_access_tokens_user").table("access_tokens").col("user_id").to_owned())
            .await?;
        m.create_index(
            Index::create().name("ix_access_tokens_expires").table("access_tokens").col("expires_at").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("revoked_jwts")
                .col(string_len("jti", 255).primary_key())
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_revoked_jwts_expires").table("revoked_jwts").col("expires_at").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("used_jtis")
                .col(string_len("issuer", 255))
                .col(string_len("jti", 255))
                .col(timestamp_with_time_zone("expires_at"))
                .primary_key(Index::create().col("issuer").col("jti"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_used_jtis_expires").table("used_jtis").col("expires_at").to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["used_jtis", "revoked_jwts", "access_tokens", "signing_keys", "machine_secrets", "machine_keys"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
