//! The first schema: instance, organizations, users, administrator memberships,
//! personal access tokens, user metadata and the audit trail.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer_null, binary, boolean, integer, string_len, string_len_null, text, text_null, timestamp_with_time_zone,
    timestamp_with_time_zone_null, uuid, uuid_null,
};

/// Creates the initial tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(name: &str, from: (&'static str, &'static str), to: (&'static str, &'static str)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("organizations")
                .col(uuid("id").primary_key())
                .col(string_len("name", 200))
                .col(string_len("name_key", 200).unique_key())
                .col(string_len("state", 16))
                .col(big_integer_null("pat_max_lifetime_secs"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("instance")
                .col(uuid("id").primary_key())
                // Always 1: the unique key makes a second instance row impossible, so
                // two nodes bootstrapping one empty database cannot both succeed.
                .col(integer("singleton").unique_key())
                .col(string_len("name", 200))
                .col(uuid("default_org_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    &mut fk("fk_instance_default_org", ("instance", "default_org_id"), ("organizations", "id"))
                        .on_delete(ForeignKeyAction::Restrict)
                        .to_owned(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(uuid("id").primary_key())
                .col(uuid("org_id"))
                .col(string_len("username", 200))
                .col(string_len("username_key", 200))
                .col(string_len("kind", 16))
                .col(string_len("state", 16))
                .col(string_len("name", 200))
                .col(string_len_null("description", 500))
                .col(string_len_null("access_token_type", 16))
                .col(string_len_null("given_name", 200))
                .col(string_len_null("family_name", 200))
                .col(string_len_null("email", 320))
                .col(boolean("email_verified").default(false))
                .col(text_null("password_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_users_org", ("users", "org_id"), ("organizations", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_users_org_username")
                .table("users")
                .col("org_id")
                .col("username_key")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("ix_users_username_key").table("users").col("username_key").to_owned())
            .await?;
        m.create_index(Index::create().name("ix_users_created").table("users").col("created_at").col("id").to_owned())
            .await?;

        m.create_table(
            Table::create()
                .table("administrators")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(string_len("scope_kind", 16))
                // The organization or project id the roles apply to; the nil UUID for the
                // instance, so the unique key below also holds for instance scope.
                .col(uuid("scope_id"))
                // Set for organization scope so deleting the organization removes
                // the memberships held on it by users of other organizations.
                .col(uuid_null("scope_org_id"))
                .col(text("roles"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_administrators_user", ("administrators", "user_id"), ("users", "id")))
                .foreign_key(&mut fk(
                    "fk_administrators_org",
                    ("administrators", "scope_org_id"),
                    ("organizations", "id"),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_administrators_user_scope")
                .table("administrators")
                .col("user_id")
                .col("scope_kind")
                .col("scope_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_administrators_scope").table("administrators").col("scope_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("personal_access_tokens")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(binary("digest"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .foreign_key(&mut fk("fk_pats_user", ("personal_access_tokens", "user_id"), ("users", "id")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_pats_user")
                .table("personal_access_tokens")
                .col("user_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("user_metadata")
                .col(uuid("user_id"))
                .col(string_len("key", 200))
                .col(binary("value"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("user_id").col("key"))
                .foreign_key(&mut fk("fk_user_metadata_user", ("user_metadata", "user_id"), ("users", "id")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_events")
                .col(uuid("id").primary_key())
                .col(timestamp_with_time_zone("occurred_at"))
                // No foreign keys: the trail outlives the users and organizations it names.
                .col(uuid_null("actor_id"))
                .col(string_len("action", 100))
                .col(string_len("target_type", 50))
                .col(string_len("target_id", 100))
                .col(uuid_null("org_id"))
                .col(text_null("details"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_audit_events_occurred").table("audit_events").col("occurred_at").to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_events",
            "user_metadata",
            "personal_access_tokens",
            "administrators",
            "users",
            "instance",
            "organizations",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
