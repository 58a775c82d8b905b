//! Table `organizations`.

use sea_orm::entity::prelude::*;

/// A row of `organizations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Name as entered.
    pub name: String,
    /// Lower-case name, unique.
    pub name_key: String,
    /// `active` or `inactive`.
    pub state: String,
    /// Tessera's PAT lifetime limit, in seconds.
    pub pat_max_lifetime_secs: Option<i64>,
    /// Whether PATs must be fine-grained.
    pub pat_require_scope: bool,
    /// Days of disuse after which a PAT is disabled; NULL: never.
    pub pat_inactivity_days: Option<i32>,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
