//! Table `personal_access_tokens`.

use sea_orm::entity::prelude::*;

/// A row of `personal_access_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_access_tokens")]
pub struct Model {
    /// Primary key, also the token's embedded lookup id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The machine user.
    pub user_id: Uuid,
    /// SHA-256 of the whole token string.
    pub digest: Vec<u8>,
    /// Expiration.
    pub expires_at: DateTimeUtc,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last use (batched).
    pub last_used_at: Option<DateTimeUtc>,
    /// The scope of a fine-grained token (JSON); NULL: all rights of its user.
    pub scope: Option<String>,
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
