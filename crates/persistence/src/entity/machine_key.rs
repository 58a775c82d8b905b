//! Table `machine_keys`: public keys of machine users.

use sea_orm::entity::prelude::*;

/// A row of `machine_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "machine_keys")]
pub struct Model {
    /// Primary key, also the key file's `keyId`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The machine user.
    pub user_id: Uuid,
    /// `rsa`, `ec_p256` or `ed25519`.
    pub key_type: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key: String,
    /// Expiration.
    pub expires_at: DateTimeUtc,
    /// Creation time.
    pub created_at: DateTimeUtc,
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
