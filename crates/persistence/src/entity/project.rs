//! Table `projects`.

use sea_orm::entity::prelude::*;

/// A row of `projects`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The owning organization.
    pub org_id: Uuid,
    /// Name as entered.
    pub name: String,
    /// Lower-case name, unique per organization.
    pub name_key: String,
    /// `active` or `inactive`.
    pub state: String,
    /// Roles asserted in tokens.
    pub role_assertion: bool,
    /// Authorization required to get tokens.
    pub authorization_required: bool,
    /// Project access required to get tokens.
    pub project_access_required: bool,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
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
