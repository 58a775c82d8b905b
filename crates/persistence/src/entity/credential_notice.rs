//! Table `credential_notices`: expiry notices already sent.

use sea_orm::entity::prelude::*;

/// A row of `credential_notices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential_notices")]
pub struct Model {
    /// The credential (a PAT, machine key or client secret id).
    #[sea_orm(primary_key, auto_increment = false)]
    pub credential_id: Uuid,
    /// `expiring:<days>@<deadline>` or `expired@<deadline>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub notice: String,
    /// When it was sent.
    pub created_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
