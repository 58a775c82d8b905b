//! [`SigningKeyRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use tessera_domain::SigningKeyId;
use tessera_domain::repo::{RepoResult, SigningKeyRepository};
use tessera_domain::signing_key::{KeySchedule, RsaPublicComponents, SealedPrivateKey, SigningAlgorithm, SigningKey};

use super::{Ctx, expect_one};
use crate::entity::signing_key;
use crate::error;

fn to_domain(m: signing_key::Model) -> RepoResult<SigningKey> {
    Ok(SigningKey {
        id: SigningKeyId::from_uuid(m.id),
        algorithm: SigningAlgorithm::parse(&m.algorithm).map_err(|e| error::corrupt("signing algorithm", e))?,
        public: RsaPublicComponents { n: m.jwk_n, e: m.jwk_e },
        sealed_private_key: SealedPrivateKey::from_bytes(m.sealed_private_key),
        created_at: m.created_at,
        schedule: KeySchedule::new(m.publish_at, m.sign_from, m.sign_until, m.retire_at)
            .map_err(|e| error::corrupt("signing key schedule", e))?,
    })
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> SigningKeyRepository for Ctx<'_, C> {
    async fn insert(&self, k: &SigningKey) -> RepoResult<()> {
        let model = signing_key::ActiveModel {
            id: Set(*k.id.as_uuid()),
            algorithm: Set(k.algorithm.as_str().to_owned()),
            jwk_n: Set(k.public.n.clone()),
            jwk_e: Set(k.public.e.clone()),
            sealed_private_key: Set(k.sealed_private_key.as_bytes().to_vec()),
            created_at: Set(k.created_at),
            publish_at: Set(k.schedule.publish_at()),
            sign_from: Set(k.schedule.sign_from()),
            sign_until: Set(k.schedule.sign_until()),
            retire_at: Set(k.schedule.retire_at()),
        };
        signing_key::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::SIGNING_KEY, e))?;
        Ok(())
    }

    async fn list(&self) -> RepoResult<Vec<SigningKey>> {
        signing_key::Entity::find()
            .order_by_asc(signing_key::Column::SignFrom)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn delete(&self, id: SigningKeyId) -> RepoResult<()> {
        let res = signing_key::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::SIGNING_KEY, e))?;
        expect_one(res.rows_affected, error::SIGNING_KEY.name)
    }

    async fn reseal(&self, id: SigningKeyId, sealed: &SealedPrivateKey) -> RepoResult<()> {
        let res = signing_key::Entity::update_many()
            .set(signing_key::ActiveModel { sealed_private_key: Set(sealed.as_bytes().to_vec()), ..Default::default() })
            .filter(signing_key::Column::Id.eq(*id.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::SIGNING_KEY, e))?;
        expect_one(res.rows_affected, error::SIGNING_KEY.name)
    }
}
