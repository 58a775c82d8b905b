//! Table `administrators`.

use sea_orm::entity::prelude::*;

/// A row of `administrators`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "administrators")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The member.
    pub user_id: Uuid,
    /// `instance`, `org` or `project`.
    pub scope_kind: String,
    /// Id of the instance, organization or project.
    pub scope_id: Uuid,
    /// For organization scope, the organization (cascading delete).
    pub scope_org_id: Option<Uuid>,
    /// Space-separated role names.
    pub roles: String,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The member.
    #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
    User,
    /// For organization scope, the organization.
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::ScopeOrgId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
