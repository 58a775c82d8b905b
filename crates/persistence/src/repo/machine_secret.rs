//! [`MachineSecretRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};
use tessera_domain::machine_secret::MachineSecret;
use tessera_domain::names::Username;
use tessera_domain::pat::SecretDigest;
use tessera_domain::repo::{MachineSecretRepository, RepoResult, SecretForAuth};
use tessera_domain::{SecretId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, owner};
use crate::entity::{machine_secret, organization, user};
use crate::error;

/// A secret row joined with everything the credential check needs.
#[derive(Debug, FromQueryResult)]
struct AuthRow {
    id: Uuid,
    user_id: Uuid,
    digest: Vec<u8>,
    created_at: Timestamp,
    superseded_at: Option<Timestamp>,
    username: String,
    user_state: String,
    user_kind: String,
    org_id: Uuid,
    org_state: String,
}

fn secret(
    id: Uuid,
    user_id: Uuid,
    digest: &[u8],
    created_at: Timestamp,
    superseded_at: Option<Timestamp>,
) -> RepoResult<MachineSecret> {
    Ok(MachineSecret {
        id: SecretId::from_uuid(id),
        user_id: UserId::from_uuid(user_id),
        digest: SecretDigest::from_slice(digest).ok_or_else(|| error::corrupt("secret digest", "wrong length"))?,
        created_at,
        superseded_at,
    })
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> MachineSecretRepository for Ctx<'_, C> {
    async fn rotate(&self, s: &MachineSecret) -> RepoResult<()> {
        let conn = self.write()?;
        let user = *s.user_id.as_uuid();
        // Secrets superseded by an earlier rotation have had their overlap.
        machine_secret::Entity::delete_many()
            .filter(machine_secret::Column::UserId.eq(user))
            .filter(machine_secret::Column::SupersededAt.is_not_null())
            .exec(conn)
            .await
            .map_err(|e| error::map(error::MACHINE_SECRET, e))?;
        machine_secret::Entity::update_many()
            .col_expr(machine_secret::Column::SupersededAt, Expr::value(Some(s.created_at)))
            .filter(machine_secret::Column::UserId.eq(user))
            .filter(machine_secret::Column::SupersededAt.is_null())
            .exec(conn)
            .await
            .map_err(|e| error::map(error::MACHINE_SECRET, e))?;
        let model = machine_secret::ActiveModel {
            id: Set(*s.id.as_uuid()),
            user_id: Set(user),
            digest: Set(s.digest.as_bytes().to_vec()),
            created_at: Set(s.created_at),
            superseded_at: Set(s.superseded_at),
        };
        machine_secret::Entity::insert(model)
            .exec_without_returning(conn)
            .await
            .map_err(|e| error::map(error::MACHINE_SECRET, e))?;
        Ok(())
    }

    async fn find_for_auth(&self, id: SecretId) -> RepoResult<Option<SecretForAuth>> {
        let row = machine_secret::Entity::find()
            .select_only()
            .columns([
                machine_secret::Column::Id,
                machine_secret::Column::UserId,
                machine_secret::Column::Digest,
                machine_secret::Column::CreatedAt,
                machine_secret::Column::SupersededAt,
            ])
            .column_as(user::Column::Username, "username")
            .column_as(user::Column::State, "user_state")
            .column_as(user::Column::Kind, "user_kind")
            .column_as(user::Column::OrgId, "org_id")
            .column_as(organization::Column::State, "org_state")
            .join(JoinType::InnerJoin, machine_secret::Relation::User.def())
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .filter(machine_secret::Column::Id.eq(*id.as_uuid()))
            .into_model::<AuthRow>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(SecretForAuth {
            owner: owner(r.user_id, &r.user_state, &r.user_kind, r.org_id, &r.org_state)?,
            username: Username::parse(&r.username).map_err(|e| error::corrupt("username", e))?,
            secret: secret(r.id, r.user_id, &r.digest, r.created_at, r.superseded_at)?,
        }))
    }

    async fn list_for_user(&self, user: UserId) -> RepoResult<Vec<MachineSecret>> {
        machine_secret::Entity::find()
            .filter(machine_secret::Column::UserId.eq(*user.as_uuid()))
            .order_by_desc(machine_secret::Column::CreatedAt)
            .order_by_desc(machine_secret::Column::Id)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(|m| secret(m.id, m.user_id, &m.digest, m.created_at, m.superseded_at))
            .collect()
    }

    async fn delete_for_user(&self, user: UserId) -> RepoResult<u64> {
        let res = machine_secret::Entity::delete_many()
            .filter(machine_secret::Column::UserId.eq(*user.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::MACHINE_SECRET, e))?;
        Ok(res.rows_affected)
    }

    async fn users_with_secret(&self, users: &[UserId]) -> RepoResult<Vec<UserId>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = users.iter().map(|u| *u.as_uuid()).collect();
        let rows: Vec<Uuid> = machine_secret::Entity::find()
            .select_only()
            .column(machine_secret::Column::UserId)
            .distinct()
            .filter(machine_secret::Column::UserId.is_in(ids))
            .filter(machine_secret::Column::SupersededAt.is_null())
            .into_tuple()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(rows.into_iter().map(UserId::from_uuid).collect())
    }
}
