//! Projects, project roles, API applications with their keys, and
//! authorizations (user grants) with their roles.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{binary_null, boolean, string_len, text, timestamp_with_time_zone, uuid};

/// Creates the project tables.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key that deletes the row with the row it refers to.
fn fk(
    table: &'static str,
    cols: &[&'static str],
    to: &'static str,
    to_cols: &[&'static str],
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(format!("fk_{table}_{to}")).on_delete(ForeignKeyAction::Cascade).on_update(ForeignKeyAction::Cascade);
    for c in cols {
        f.from_col(Alias::new(*c));
    }
    for c in to_cols {
        f.to_col(Alias::new(*c));
    }
    f.from_tbl(Alias::new(table)).to_tbl(Alias::new(to));
    f.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("projects")
                .col(uuid("id").primary_key())
                .col(uuid("org_id"))
                .col(string_len("name", 200))
                // Lower-case name: unique per organization.
                .col(string_len("name_key", 200))
                .col(string_len("state", 16))
                .col(boolean("role_assertion"))
                .col(boolean("authorization_required"))
                .col(boolean("project_access_required"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("projects", &["org_id"], "organizations", &["id"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_projects_org_name")
                .table("projects")
                .col("org_id")
                .col("name_key")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_projects_created").table("projects").col("created_at").col("id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("project_roles")
                .col(uuid("project_id"))
                .col(string_len("role_key", 200))
                .col(string_len("display_name", 200))
                .col(string_len("role_group", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("project_id").col("role_key"))
                .foreign_key(&mut fk("project_roles", &["project_id"], "projects", &["id"]))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("applications")
                .col(uuid("id").primary_key())
                .col(uuid("project_id"))
                .col(string_len("name", 200))
                // Lower-case name: unique per project.
                .col(string_len("name_key", 200))
                .col(string_len("state", 16))
                // `basic` or `private_key_jwt`.
                .col(string_len("auth_method", 32))
                // Unique: the introspection endpoint looks applications up by it.
                .col(string_len("client_id", 200).unique_key())
                // SHA-256 of the current `tsr_cs_` client secret; never the secret.
                .col(binary_null("secret_digest"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("applications", &["project_id"], "projects", &["id"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_applications_project_name")
                .table("applications")
                .col("project_id")
                .col("name_key")
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("application_keys")
                .col(uuid("id").primary_key())
                .col(uuid("app_id"))
                .col(string_len("key_type", 16))
                // SubjectPublicKeyInfo PEM. Never a private key.
                .col(text("public_key"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("application_keys", &["app_id"], "applications", &["id"]))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_application_keys_app")
                .table("application_keys")
                .col("app_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("authorizations")
                .col(uuid("id").primary_key())
                .col(uuid("user_id"))
                .col(uuid("project_id"))
                .col(uuid("org_id"))
                .col(string_len("state", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("authorizations", &["user_id"], "users", &["id"]))
                .foreign_key(&mut fk("authorizations", &["project_id"], "projects", &["id"]))
                .foreign_key(&mut fk("authorizations", &["org_id"], "organizations", &["id"]))
                .to_owned(),
        )
        .await?;
        // One authorization per user, project and organization (ZITADEL's
        // `Errors.UserGrant.AlreadyExists`); also the index of the role claims'
        // look-up by user (and project).
        m.create_index(
            Index::create()
                .name("ux_authorizations_user_project_org")
                .table("authorizations")
                .col("user_id")
                .col("project_id")
                .col("org_id")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("ix_authorizations_project").table("authorizations").col("project_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("authorization_roles")
                .col(uuid("authorization_id"))
                .col(uuid("project_id"))
                .col(string_len("role_key", 200))
                .primary_key(Index::create().col("authorization_id").col("role_key"))
                .foreign_key(&mut fk("authorization_roles", &["authorization_id"], "authorizations", &["id"]))
                // Removing a project role takes it out of every authorization.
                .foreign_key(&mut fk(
                    "authorization_roles",
                    &["project_id", "role_key"],
                    "project_roles",
                    &["project_id", "role_key"],
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_authorization_roles_role")
                .table("authorization_roles")
                .col("project_id")
                .col("role_key")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in
            ["authorization_roles", "authorizations", "application_keys", "applications", "project_roles", "projects"]
        {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
