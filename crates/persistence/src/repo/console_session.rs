//! [`ConsoleSessionRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tessera_domain::console_session::ConsoleSession;
use tessera_domain::pat::SecretDigest;
use tessera_domain::repo::{ConsoleSessionRepository, RepoResult};
use tessera_domain::{ConsoleSessionId, Timestamp, UserId};

use super::{Ctx, expect_one};
use crate::entity::console_session;
use crate::error;

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> ConsoleSessionRepository for Ctx<'_, C> {
    async fn insert(&self, s: &ConsoleSession) -> RepoResult<()> {
        let model = console_session::ActiveModel {
            id: Set(*s.id.as_uuid()),
            user_id: Set(*s.user_id.as_uuid()),
            digest: Set(s.digest.as_bytes().to_vec()),
            created_at: Set(s.created_at),
            expires_at: Set(s.expires_at),
        };
        console_session::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::CONSOLE_SESSION, e))?;
        Ok(())
    }

    async fn get(&self, id: ConsoleSessionId) -> RepoResult<Option<ConsoleSession>> {
        let Some(m) = console_session::Entity::find_by_id(*id.as_uuid()).one(self.conn).await.map_err(error::db)?
        else {
            return Ok(None);
        };
        Ok(Some(ConsoleSession {
            id: ConsoleSessionId::from_uuid(m.id),
            user_id: UserId::from_uuid(m.user_id),
            digest: SecretDigest::from_slice(&m.digest)
                .ok_or_else(|| error::corrupt("session digest", "wrong length"))?,
            created_at: m.created_at,
            expires_at: m.expires_at,
        }))
    }

    async fn delete(&self, id: ConsoleSessionId) -> RepoResult<()> {
        let res = console_session::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::CONSOLE_SESSION, e))?;
        expect_one(res.rows_affected, error::CONSOLE_SESSION.name)
    }

    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64> {
        let res = console_session::Entity::delete_many()
            .filter(console_session::Column::ExpiresAt.lt(before))
            .exec(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::CONSOLE_SESSION, e))?;
        Ok(res.rows_affected)
    }
}
