//! Table `application_keys`: public keys of API applications.

use sea_orm::entity::prelude::*;

/// A row of `application_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_keys")]
pub struct Model {
    /// Primary key, also the key file's `keyId`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The application.
    pub app_id: Uuid,
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
    /// The application.
    #[sea_orm(belongs_to = "super::application::Entity", from = "Column::AppId", to = "super::application::Column::Id")]
    Application,
}

impl Related<super::application::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Application.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
