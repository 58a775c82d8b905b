//! Table `access_tokens`: opaque access token digests.

use sea_orm::entity::prelude::*;

/// A row of `access_tokens`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_tokens")]
pub struct Model {
    /// Primary key, also the token's embedded lookup id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user the token acts as.
    pub user_id: Uuid,
    /// The client it was issued to.
    pub client_id: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// JSON array of audiences.
    pub audience: String,
    /// SHA-256 of the whole token string.
    pub digest: Vec<u8>,
    /// Issue time.
    pub created_at: DateTimeUtc,
    /// Expiration.
    pub expires_at: DateTimeUtc,
    /// The federated credential it was exchanged for (migration m0005).
    pub federated_credential_id: Option<Uuid>,
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
