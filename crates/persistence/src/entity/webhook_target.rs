//! Table `webhook_targets`.

use sea_orm::entity::prelude::*;

/// A row of `webhook_targets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_targets")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organization; NULL for an instance target.
    pub org_id: Option<Uuid>,
    /// Where deliveries go.
    pub url: String,
    /// Free text.
    pub description: String,
    /// The events, a JSON list of names.
    pub events: String,
    /// The signing secret, sealed under the master key.
    pub sealed_secret: Vec<u8>,
    /// Whether new events are delivered.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
