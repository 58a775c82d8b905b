//! Table `federated_credentials`: what external tokens a machine user accepts
//! in place of a secret.

use sea_orm::entity::prelude::*;

/// A row of `federated_credentials`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federated_credentials")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The machine user.
    pub user_id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The trusted issuer.
    pub issuer: String,
    /// `discovery`, `jwks_url` or `inline`.
    pub key_source: String,
    /// The JWKS URL or the inline JWKS.
    pub key_source_value: Option<String>,
    /// The exact subject.
    pub subject: String,
    /// The audience.
    pub audience: String,
    /// The conditions, JSON.
    pub conditions: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
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
