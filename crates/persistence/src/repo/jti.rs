//! [`RevokedJwtRepository`] and [`UsedJtiRepository`] on sea-orm: two ledgers of
//! `jti`s, each row forgotten once the token or assertion it names has expired.

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tessera_domain::Timestamp;
use tessera_domain::access_token::{RevokedJwt, UsedJti};
use tessera_domain::repo::{RepoResult, RevokedJwtRepository, UsedJtiRepository};

use super::Ctx;
use crate::entity::{revoked_jwt, used_jti};
use crate::error;

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> RevokedJwtRepository for Ctx<'_, C> {
    async fn insert(&self, r: &RevokedJwt) -> RepoResult<()> {
        let model = revoked_jwt::ActiveModel { jti: Set(r.jti().to_owned()), expires_at: Set(r.expires_at()) };
        // Revoking twice is not an error (RFC 7009 §2.2: the server answers 200).
        revoked_jwt::Entity::insert(model)
            .on_conflict(OnConflict::column(revoked_jwt::Column::Jti).do_nothing().to_owned())
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::REVOKED_JWT, e))?;
        Ok(())
    }

    async fn is_revoked(&self, jti: &str) -> RepoResult<bool> {
        let n = revoked_jwt::Entity::find()
            .filter(revoked_jwt::Column::Jti.eq(jti))
            .count(self.conn)
            .await
            .map_err(error::db)?;
        Ok(n > 0)
    }

    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64> {
        let res = revoked_jwt::Entity::delete_many()
            .filter(revoked_jwt::Column::ExpiresAt.lt(before))
            .exec(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::REVOKED_JWT, e))?;
        Ok(res.rows_affected)
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> UsedJtiRepository for Ctx<'_, C> {
    async fn record(&self, used: &UsedJti, now: Timestamp) -> RepoResult<bool> {
        let model = used_jti::ActiveModel {
            issuer: Set(used.issuer().to_owned()),
            jti: Set(used.jti().to_owned()),
            expires_at: Set(used.expires_at()),
        };
        // INSERT … ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at
        // WHERE used_jtis.expires_at <= now: a live record leaves the row untouched
        // (0 rows: a replay), an expired one is taken over (1 row: a first use).
        let rows = used_jti::Entity::insert(model)
            .on_conflict(
                OnConflict::columns([used_jti::Column::Issuer, used_jti::Column::Jti])
                    .update_column(used_jti::Column::ExpiresAt)
                    .action_and_where(Expr::col((used_jti::Entity, used_jti::Column::ExpiresAt)).lte(now))
                    .to_owned(),
            )
            .exec_without_returning(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::USED_JTI, e))?;
        Ok(rows == 1)
    }

    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64> {
        let res = used_jti::Entity::delete_many()
            .filter(used_jti::Column::ExpiresAt.lt(before))
            .exec(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::USED_JTI, e))?;
        Ok(res.rows_affected)
    }
}
