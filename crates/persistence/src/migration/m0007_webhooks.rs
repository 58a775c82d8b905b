//! Event webhooks (docs/pat-hygiene.md "Notifications"): targets, the outbox
//! of deliveries with their attempts, the expiry notices already sent, and
//! the organization policy that disables unused PATs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    binary, boolean, integer, integer_null, string_len, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

/// Creates `webhook_targets`, `webhook_deliveries`, `webhook_attempts` and
/// `credential_notices`; adds `organizations.pat_inactivity_days`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhook_targets")
                .col(uuid("id").primary_key())
                // NULL: an instance target, which receives every organization's events.
                .col(uuid_null("org_id"))
                .col(string_len("url", 2048))
                .col(string_len("description", 500))
                // `["pat.created", …]`.
                .col(text("events"))
                // The signing secret, sealed under the master key.
                .col(binary("sealed_secret"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_targets_org")
                        .from("webhook_targets", "org_id")
                        .to("organizations", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .on_update(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(uuid("id").primary_key())
                .col(uuid("target_id"))
                .col(string_len("event_type", 64))
                .col(uuid_null("org_id"))
                // The body exactly as signed and sent.
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                // `pending`, `delivered` or `failed`.
                .col(string_len("status", 16))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                // A worker's claim on a pending delivery.
                .col(timestamp_with_time_zone_null("claimed_until"))
                .col(integer_null("last_status_code"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_deliveries_target")
                        .from("webhook_deliveries", "target_id")
                        .to("webhook_targets", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .on_update(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The worker's scan for due deliveries.
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table("webhook_deliveries")
                .col("status")
                .col("next_attempt_at")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_target")
                .table("webhook_deliveries")
                .col("target_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("webhook_attempts")
                .col(uuid("id").primary_key())
                .col(uuid("delivery_id"))
                .col(integer("number"))
                .col(timestamp_with_time_zone("attempted_at"))
                .col(integer_null("status_code"))
                .col(text_null("error"))
                .col(integer("duration_ms"))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_webhook_attempts_delivery")
                        .from("webhook_attempts", "delivery_id")
                        .to("webhook_deliveries", "id")
                        .on_delete(ForeignKeyAction::Cascade)
                        .on_update(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_attempts_delivery")
                .table("webhook_attempts")
                .col("delivery_id")
                .col("number")
                .to_owned(),
        )
        .await?;
        // One row per notice sent: the primary key makes each one once, on
        // every node. No foreign key: the credential may be gone.
        m.create_table(
            Table::create()
                .table("credential_notices")
                .col(uuid("credential_id"))
                .col(string_len("notice", 64))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("credential_id").col("notice"))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table("organizations").add_column(integer_null("pat_inactivity_days")).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organizations").drop_column("pat_inactivity_days").to_owned()).await?;
        for table in ["credential_notices", "webhook_attempts", "webhook_deliveries", "webhook_targets"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
