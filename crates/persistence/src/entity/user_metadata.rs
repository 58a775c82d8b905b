//! Table `user_metadata`: free-form key/value pairs on a user.

use sea_orm::entity::prelude::*;

/// A row of `user_metadata`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_metadata")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The key, unique per user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The value (bytes).
    pub value: Vec<u8>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
