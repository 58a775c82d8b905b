//! Table `webhook_attempts`.

use sea_orm::entity::prelude::*;

/// A row of `webhook_attempts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The delivery.
    pub delivery_id: Uuid,
    /// 1 for the first attempt.
    pub number: i32,
    /// When it was made.
    pub attempted_at: DateTimeUtc,
    /// The receiver's status code.
    pub status_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i32,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
