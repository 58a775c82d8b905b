//! [`SigningKeyRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tessera_domain::SigningKeyId;
use tessera_domain::repo::{RepoResult, SigningKeyRepository};
use tessera_domain::signing_key::{
    KeySchedule, PublicJwk, RsaPublicComponents, SealedPrivateKey, SigningAlgorithm, SigningKey,
};

use super::{Ctx, expect_one};
use crate::entity::signing_key;
use crate::error;

fn to_domain(m: signing_key::Model) -> RepoResult<SigningKey> {
    let algorithm = SigningAlgorithm::parse(&m.algorithm).map_err(|e| error::corrupt("signing algorithm", e))?;
    // The algorithm says how to read the two public-key columns: RSA `n`
    // and `e`; EC `x` and `y` (the curve follows from the algorithm); OKP `x`.
    let public = match algorithm {
        a if a.is_rsa() => PublicJwk::Rsa(RsaPublicComponents { n: m.jwk_n, e: m.jwk_e }),
        SigningAlgorithm::EdDsa => PublicJwk::Okp { x: m.jwk_n },
        a => PublicJwk::Ec { crv: a.curve().unwrap_or_default().to_owned(), x: m.jwk_n, y: m.jwk_e },
    };
    Ok(SigningKey {
        id: SigningKeyId::from_uuid(m.id),
        algorithm,
        public,
        sealed_private_key: SealedPrivateKey::from_bytes(m.sealed_private_key),
        created_at: m.created_at,
        schedule: KeySchedule::new(m.publish_at, m.sign_from, m.sign_until, m.retire_at)
            .map_err(|e| error::corrupt("signing key schedule", e))?,
    })
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> SigningKeyRepository for Ctx<'_, C> {
    async fn insert(&self, k: &SigningKey) -> RepoResult<()> {
        // `jwk_n` and `jwk_e` hold the two public members of every kind (see
        // `to_domain`): no schema change for ECDSA and Ed25519 keys.
        let (n, e) = match &k.public {
            PublicJwk::Rsa(p) => (p.n.clone(), p.e.clone()),
            PublicJwk::Ec { x, y, .. } => (x.clone(), y.clone()),
            PublicJwk::Okp { x } => (x.clone(), String::new()),
        };
        let model = signing_key::ActiveModel {
            id: Set(*k.id.as_uuid()),
            algorithm: Set(k.algorithm.as_str().to_owned()),
            jwk_n: Set(n),
            jwk_e: Set(e),
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

    async fn lock_all(&self) -> RepoResult<Vec<SigningKey>> {
        signing_key::Entity::find()
            .order_by_asc(signing_key::Column::SignFrom)
            .lock_exclusive()
            .all(self.locking()?)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn reschedule(&self, id: SigningKeyId, schedule: &KeySchedule) -> RepoResult<()> {
        let res = signing_key::Entity::update_many()
            .set(signing_key::ActiveModel {
                publish_at: Set(schedule.publish_at()),
                sign_from: Set(schedule.sign_from()),
                sign_until: Set(schedule.sign_until()),
                retire_at: Set(schedule.retire_at()),
                ..Default::default()
            })
            .filter(signing_key::Column::Id.eq(*id.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::SIGNING_KEY, e))?;
        expect_one(res.rows_affected, error::SIGNING_KEY.name)
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
