//! Table `authorization_roles`: the roles of each authorization.

use sea_orm::entity::prelude::*;

/// A row of `authorization_roles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_roles")]
pub struct Model {
    /// The authorization (first half of the primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub authorization_id: Uuid,
    /// The project (with `role_key`, a reference to the project role).
    pub project_id: Uuid,
    /// The role (second half of the primary key).
    #[sea_orm(primary_key, auto_increment = false)]
    pub role_key: String,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The authorization.
    #[sea_orm(
        belongs_to = "super::authorization::Entity",
        from = "Column::AuthorizationId",
        to = "super::authorization::Column::Id"
    )]
    Authorization,
    /// The project role.
    #[sea_orm(
        belongs_to = "super::project_role::Entity",
        from = "(Column::ProjectId, Column::RoleKey)",
        to = "(super::project_role::Column::ProjectId, super::project_role::Column::RoleKey)"
    )]
    ProjectRole,
}

impl ActiveModelBehavior for ActiveModel {}
