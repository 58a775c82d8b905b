//! Table `machine_secrets`: client secret digests of machine users.

use sea_orm::entity::prelude::*;

/// A row of `machine_secrets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "machine_secrets")]
pub struct Model {
    /// Primary key, also the secret's embedded lookup id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The machine user.
    pub user_id: Uuid,
    /// SHA-256 of the whole secret string.
    pub digest: Vec<u8>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// When a newer secret replaced this one.
    pub superseded_at: Option<DateTimeUtc>,
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
