//! Table `used_jtis`: assertion `jti`s seen while the assertion is valid.

use sea_orm::entity::prelude::*;

/// A row of `used_jtis`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "used_jtis")]
pub struct Model {
    /// The assertion's issuer.
    #[sea_orm(primary_key, auto_increment = false)]
    pub issuer: String,
    /// The assertion's `jti`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: String,
    /// Until when a second use is a replay.
    pub expires_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
