//! Table `users` (machine and human users in one table, `kind` tells them apart).

use sea_orm::entity::prelude::*;

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owning organization.
    pub org_id: Uuid,
    /// Username as entered.
    pub username: String,
    /// Lower-case username, unique per organization.
    pub username_key: String,
    /// `machine` or `human`.
    pub kind: String,
    /// `active`, `inactive` or `locked`.
    pub state: String,
    /// Machine name or human display name.
    pub name: String,
    /// Machine description.
    pub description: Option<String>,
    /// Machine access token type.
    pub access_token_type: Option<String>,
    /// Human given name.
    pub given_name: Option<String>,
    /// Human family name.
    pub family_name: Option<String>,
    /// Human e-mail address.
    pub email: Option<String>,
    /// Whether the address was verified.
    pub email_verified: bool,
    /// Human password hash (argon2id PHC string).
    pub password_hash: Option<String>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owning organization.
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrgId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
