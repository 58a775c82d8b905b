//! Table `audit_events`.

use sea_orm::entity::prelude::*;

/// A row of `audit_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// When.
    pub occurred_at: DateTimeUtc,
    /// Who (`None`: the system).
    pub actor_id: Option<Uuid>,
    /// What happened.
    pub action: String,
    /// Kind of object.
    pub target_type: String,
    /// Object id.
    pub target_id: String,
    /// Organization of the object.
    pub org_id: Option<Uuid>,
    /// JSON details.
    pub details: Option<String>,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
