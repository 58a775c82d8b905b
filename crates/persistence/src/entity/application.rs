//! Table `applications`.

use sea_orm::entity::prelude::*;

/// A row of `applications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The project.
    pub project_id: Uuid,
    /// Name as entered.
    pub name: String,
    /// Lower-case name, unique per project.
    pub name_key: String,
    /// `active` or `inactive`.
    pub state: String,
    /// `basic` or `private_key_jwt`.
    pub auth_method: String,
    /// OAuth client id, unique.
    pub client_id: String,
    /// SHA-256 of the current client secret.
    pub secret_digest: Option<Vec<u8>>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The project.
    #[sea_orm(belongs_to = "super::project::Entity", from = "Column::ProjectId", to = "super::project::Column::Id")]
    Project,
}

impl Related<super::project::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Project.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
