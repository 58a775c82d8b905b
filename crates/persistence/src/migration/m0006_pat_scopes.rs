//! Fine-grained personal access tokens (docs/pat-hygiene.md): the scope a PAT
//! is limited to, and the organization policy that requires one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, text_null};

/// Adds `personal_access_tokens.scope` and `organizations.pat_require_scope`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `{"orgs": […], "projects": […], "permissions": […]}`; NULL: the token
        // acts with all rights of its user, as every PAT before this.
        m.alter_table(Table::alter().table("personal_access_tokens").add_column(text_null("scope")).to_owned()).await?;
        m.alter_table(
            Table::alter().table("organizations").add_column(boolean("pat_require_scope").default(false)).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organizations").drop_column("pat_require_scope").to_owned()).await?;
        m.alter_table(Table::alter().table("personal_access_tokens").drop_column("scope").to_owned()).await
    }
}
