//! [`InstanceRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use tessera_domain::instance::Instance;
use tessera_domain::repo::{InstanceRepository, RepoResult};
use tessera_domain::{InstanceId, OrgId};

use super::Ctx;
use crate::entity::instance;
use crate::error;

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> InstanceRepository for Ctx<'_, C> {
    async fn get(&self) -> RepoResult<Option<Instance>> {
        let row = instance::Entity::find().one(self.conn).await.map_err(error::db)?;
        Ok(row.map(|r| Instance {
            id: InstanceId::from_uuid(r.id),
            name: r.name,
            default_org_id: OrgId::from_uuid(r.default_org_id),
            created_at: r.created_at,
        }))
    }

    async fn insert(&self, i: &Instance) -> RepoResult<()> {
        let model = instance::ActiveModel {
            id: Set(*i.id.as_uuid()),
            singleton: Set(1),
            name: Set(i.name.clone()),
            default_org_id: Set(*i.default_org_id.as_uuid()),
            created_at: Set(i.created_at),
        };
        instance::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::INSTANCE, e))?;
        Ok(())
    }
}
