//! Table `console_sessions`: console login sessions.

use sea_orm::entity::prelude::*;

/// A row of `console_sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// Primary key, also the cookie's embedded lookup id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The human administrator.
    pub user_id: Uuid,
    /// SHA-256 of the whole cookie value.
    pub digest: Vec<u8>,
    /// Login time.
    pub created_at: DateTimeUtc,
    /// Expiration.
    pub expires_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
