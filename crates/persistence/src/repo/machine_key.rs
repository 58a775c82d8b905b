//! [`MachineKeyRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::machine_key::{MachineKey, PublicKeyType};
use tessera_domain::repo::{
    KeyFilter, KeyQuery, KeySort, KeysForAuth, Listed, MachineKeyRepository, MachineKeyWithOwner, RepoResult,
};
use tessera_domain::{KeyId, OrgId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one, owner};
use crate::entity::{machine_key, organization, user};
use crate::{error, query};

/// A key row joined with its owner's organization.
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    key_type: String,
    public_key: String,
    expires_at: Timestamp,
    created_at: Timestamp,
    org_id: Uuid,
}

/// A user joined with its organization and (left join) each of its keys.
#[derive(Debug, FromQueryResult)]
struct AuthRow {
    user_id: Uuid,
    user_state: String,
    user_kind: String,
    org_id: Uuid,
    org_state: String,
    key_id: Option<Uuid>,
    key_type: Option<String>,
    public_key: Option<String>,
    expires_at: Option<Timestamp>,
    created_at: Option<Timestamp>,
}

fn key(
    id: Uuid,
    user_id: Uuid,
    key_type: &str,
    public_key: String,
    expires_at: Timestamp,
    created_at: Timestamp,
) -> RepoResult<MachineKey> {
    Ok(MachineKey {
        id: KeyId::from_uuid(id),
        user_id: UserId::from_uuid(user_id),
        key_type: PublicKeyType::parse(key_type).map_err(|e| error::corrupt("key type", e))?,
        public_key_pem: public_key,
        expires_at,
        created_at,
    })
}

fn with_owner(r: Row) -> RepoResult<MachineKeyWithOwner> {
    Ok(MachineKeyWithOwner {
        key: key(r.id, r.user_id, &r.key_type, r.public_key, r.expires_at, r.created_at)?,
        org_id: OrgId::from_uuid(r.org_id),
    })
}

fn condition(f: &KeyFilter) -> Condition {
    match f {
        KeyFilter::User(u) => Condition::all().add(machine_key::Column::UserId.eq(*u.as_uuid())),
        KeyFilter::Key(k) => Condition::all().add(machine_key::Column::Id.eq(*k.as_uuid())),
        KeyFilter::Org(o) => Condition::all().add(user::Column::OrgId.eq(*o.as_uuid())),
        KeyFilter::CreatedAt(t) => query::time(machine_key::Column::CreatedAt, t),
        KeyFilter::ExpiresAt(t) => query::time(machine_key::Column::ExpiresAt, t),
        KeyFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        KeyFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        KeyFilter::Not(f) => condition(f).not(),
    }
}

/// `SELECT` of the key columns joined with the owning user.
fn select_with_owner() -> sea_orm::Select<machine_key::Entity> {
    machine_key::Entity::find()
        .select_only()
        .columns([
            machine_key::Column::Id,
            machine_key::Column::UserId,
            machine_key::Column::KeyType,
            machine_key::Column::PublicKey,
            machine_key::Column::ExpiresAt,
            machine_key::Column::CreatedAt,
        ])
        .column_as(user::Column::OrgId, "org_id")
        .join(JoinType::InnerJoin, machine_key::Relation::User.def())
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> MachineKeyRepository for Ctx<'_, C> {
    async fn insert(&self, k: &MachineKey) -> RepoResult<()> {
        let model = machine_key::ActiveModel {
            id: Set(*k.id.as_uuid()),
            user_id: Set(*k.user_id.as_uuid()),
            key_type: Set(k.key_type.as_str().to_owned()),
            public_key: Set(k.public_key_pem.clone()),
            expires_at: Set(k.expires_at),
            created_at: Set(k.created_at),
        };
        machine_key::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::MACHINE_KEY, e))?;
        Ok(())
    }

    async fn get(&self, id: KeyId) -> RepoResult<Option<MachineKeyWithOwner>> {
        select_with_owner()
            .filter(machine_key::Column::Id.eq(*id.as_uuid()))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(with_owner)
            .transpose()
    }

    async fn find_for_auth(&self, user_id: UserId) -> RepoResult<Option<KeysForAuth>> {
        let rows = user::Entity::find()
            .select_only()
            .column_as(user::Column::Id, "user_id")
            .column_as(user::Column::State, "user_state")
            .column_as(user::Column::Kind, "user_kind")
            .column_as(user::Column::OrgId, "org_id")
            .column_as(organization::Column::State, "org_state")
            .column_as(machine_key::Column::Id, "key_id")
            .column_as(machine_key::Column::KeyType, "key_type")
            .column_as(machine_key::Column::PublicKey, "public_key")
            .column_as(machine_key::Column::ExpiresAt, "expires_at")
            .column_as(machine_key::Column::CreatedAt, "created_at")
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .join(JoinType::LeftJoin, machine_key::Relation::User.def().rev())
            .filter(user::Column::Id.eq(*user_id.as_uuid()))
            .order_by_asc(machine_key::Column::CreatedAt)
            .into_model::<AuthRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        let Some(first) = rows.first() else { return Ok(None) };
        let owner = owner(first.user_id, &first.user_state, &first.user_kind, first.org_id, &first.org_state)?;
        let mut keys = Vec::with_capacity(rows.len());
        for r in rows {
            if let (Some(id), Some(key_type), Some(public_key), Some(expires_at), Some(created_at)) =
                (r.key_id, r.key_type, r.public_key, r.expires_at, r.created_at)
            {
                keys.push(key(id, r.user_id, &key_type, public_key, expires_at, created_at)?);
            }
        }
        Ok(Some(KeysForAuth { owner, keys }))
    }

    async fn delete(&self, id: KeyId) -> RepoResult<()> {
        let res = machine_key::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::MACHINE_KEY, e))?;
        expect_one(res.rows_affected, error::MACHINE_KEY.name)
    }

    async fn list(&self, q: &KeyQuery) -> RepoResult<Listed<MachineKeyWithOwner>> {
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(query::visibility(
            user::Column::OrgId,
            user::Column::Id,
            &q.visibility,
        ));
        let select = select_with_owner().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            KeySort::CreatedAt => select.order_by(machine_key::Column::CreatedAt, order.clone()),
            KeySort::Id => select,
            KeySort::User => select.order_by(machine_key::Column::UserId, order.clone()),
            KeySort::Org => select.order_by(user::Column::OrgId, order.clone()),
            KeySort::ExpiresAt => select.order_by(machine_key::Column::ExpiresAt, order.clone()),
        };
        let rows = select
            .order_by(machine_key::Column::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(with_owner).collect::<RepoResult<_>>()?, total })
    }
}
