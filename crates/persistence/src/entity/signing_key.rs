//! Table `signing_keys`: instance signing keys, private parts sealed.

use sea_orm::entity::prelude::*;

/// A row of `signing_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// Primary key; its text form is the `kid`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `RS256`.
    pub algorithm: String,
    /// JWK modulus, base64url.
    pub jwk_n: String,
    /// JWK exponent, base64url.
    pub jwk_e: String,
    /// The sealed private key.
    pub sealed_private_key: Vec<u8>,
    /// Generation time.
    pub created_at: DateTimeUtc,
    /// In the JWKS from.
    pub publish_at: DateTimeUtc,
    /// Signs from (unique).
    pub sign_from: DateTimeUtc,
    /// Signs until.
    pub sign_until: DateTimeUtc,
    /// Out of the JWKS from.
    pub retire_at: DateTimeUtc,
}

/// Relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
