//! Table `webhook_deliveries`: the outbox.

use sea_orm::entity::prelude::*;

/// A row of `webhook_deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Primary key (the `webhook-id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The target.
    pub target_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// The event's organization.
    pub org_id: Option<Uuid>,
    /// The body as signed.
    pub payload: String,
    /// When the event happened.
    pub created_at: DateTimeUtc,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made in this round.
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// A worker's claim.
    pub claimed_until: Option<DateTimeUtc>,
    /// The last attempt's status code.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was accepted.
    pub delivered_at: Option<DateTimeUtc>,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
