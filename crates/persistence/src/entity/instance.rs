//! Table `instance` (one row).

use sea_orm::entity::prelude::*;

/// The row of `instance`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Always 1 (unique), so there can be only one row.
    pub singleton: i32,
    /// Display name.
    pub name: String,
    /// The default organization.
    pub default_org_id: Uuid,
    /// Bootstrap time.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
