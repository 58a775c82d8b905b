//! Table `project_roles`.

use sea_orm::entity::prelude::*;

/// A row of `project_roles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_roles")]
pub struct Model {
    /// The project (first half of the primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: Uuid,
    /// The key (second half of the primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub role_key: String,
    /// Display name.
    pub display_name: String,
    /// Group; empty when none.
    pub role_group: String,
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
