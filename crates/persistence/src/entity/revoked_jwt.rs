//! Table `revoked_jwts`: `jti`s of revoked JWT access tokens until they expire.

use sea_orm::entity::prelude::*;

/// A row of `revoked_jwts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_jwts")]
pub struct Model {
    /// The token's `jti`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub jti: String,
    /// The token's expiration; the row may be purged after it.
    pub expires_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
