//! [`MetadataRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tessera_domain::UserId;
use tessera_domain::repo::{Listed, MetadataEntry, MetadataRepository, Page, RepoResult, TextFilter};

use super::Ctx;
use crate::entity::user_metadata::{self, Column};
use crate::{error, query};

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> MetadataRepository for Ctx<'_, C> {
    async fn set(&self, user: UserId, entries: &[MetadataEntry]) -> RepoResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let models = entries.iter().map(|e| user_metadata::ActiveModel {
            user_id: Set(*user.as_uuid()),
            key: Set(e.key.clone()),
            value: Set(e.value.clone()),
            created_at: Set(e.created_at),
            updated_at: Set(e.updated_at),
        });
        user_metadata::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([Column::UserId, Column::Key])
                    .update_columns([Column::Value, Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::METADATA, e))?;
        Ok(())
    }

    async fn list(&self, user: UserId, key: Option<&TextFilter>, page: Page) -> RepoResult<Listed<MetadataEntry>> {
        let mut cond = Condition::all().add(Column::UserId.eq(*user.as_uuid()));
        if let Some(f) = key {
            cond = cond.add(query::text(Column::Key, None, f));
        }
        let select = user_metadata::Entity::find().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let (offset, limit) = query::window(&page);
        let order = if page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let rows =
            select.order_by(Column::Key, order).offset(offset).limit(limit).all(self.conn).await.map_err(error::db)?;
        let items = rows
            .into_iter()
            .map(|r| MetadataEntry { key: r.key, value: r.value, created_at: r.created_at, updated_at: r.updated_at })
            .collect();
        Ok(Listed { items, total })
    }

    async fn delete(&self, user: UserId, keys: &[String]) -> RepoResult<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let res = user_metadata::Entity::delete_many()
            .filter(Column::UserId.eq(*user.as_uuid()))
            .filter(Column::Key.is_in(keys.iter().cloned()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::METADATA, e))?;
        Ok(res.rows_affected)
    }
}
