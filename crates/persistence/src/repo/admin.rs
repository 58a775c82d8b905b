//! [`AdministratorRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::permission::Scope;
use tessera_domain::repo::{
    AdminFilter, AdminQuery, AdministratorRepository, Listed, RepoResult, TextFilter, TextMethod,
};
use tessera_domain::{AdministratorId, OrgId, ProjectId, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one};
use crate::entity::administrator::{self, Column};
use crate::entity::user;
use crate::{error, query};

const INSTANCE: &str = "instance";
const ORG: &str = "org";
const PROJECT: &str = "project";

/// Storage form of a scope: kind and resource id. The instance scope uses the nil
/// UUID so the unique key (user, kind, id) also holds for it.
fn scope_key(scope: Scope) -> (&'static str, Uuid) {
    match scope {
        Scope::Instance => (INSTANCE, Uuid::nil()),
        Scope::Org(o) => (ORG, *o.as_uuid()),
        Scope::Project(p) => (PROJECT, *p.as_uuid()),
    }
}

fn to_domain(r: administrator::Model) -> RepoResult<Administrator> {
    let scope = match r.scope_kind.as_str() {
        INSTANCE => Scope::Instance,
        ORG => Scope::Org(OrgId::from_uuid(r.scope_id)),
        PROJECT => Scope::Project(ProjectId::from_uuid(r.scope_id)),
        other => return Err(error::corrupt("administrator scope", other)),
    };
    let roles =
        RoleSet::parse(scope, r.roles.split_whitespace()).map_err(|e| error::corrupt("administrator roles", e))?;
    Ok(Administrator {
        id: AdministratorId::from_uuid(r.id),
        user_id: UserId::from_uuid(r.user_id),
        scope,
        roles,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn to_model(a: &Administrator) -> administrator::ActiveModel {
    let (kind, id) = scope_key(a.scope);
    administrator::ActiveModel {
        id: Set(*a.id.as_uuid()),
        user_id: Set(*a.user_id.as_uuid()),
        scope_kind: Set(kind.to_owned()),
        scope_id: Set(id),
        scope_org_id: Set(match a.scope {
            Scope::Org(o) => Some(*o.as_uuid()),
            _ => None,
        }),
        roles: Set(a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ")),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
    }
}

fn condition(f: &AdminFilter) -> Condition {
    match f {
        AdminFilter::User(u) => Condition::all().add(Column::UserId.eq(*u.as_uuid())),
        AdminFilter::Scope(s) => {
            let (kind, id) = scope_key(*s);
            Condition::all().add(Column::ScopeKind.eq(kind)).add(Column::ScopeId.eq(id))
        }
        AdminFilter::AnyOrg => Condition::all().add(Column::ScopeKind.eq(ORG)),
        // Roles are stored space-separated; pad both sides so `ORG_OWNER` does not
        // match `ORG_OWNER_VIEWER`.
        AdminFilter::Role(r) => {
            let r = r.as_str();
            let like = |value: String, method| query::text(Column::Roles, None, &TextFilter { value, method });
            Condition::any()
                .add(Column::Roles.eq(r))
                .add(like(format!("{r} "), TextMethod::StartsWith))
                .add(like(format!(" {r}"), TextMethod::EndsWith))
                .add(like(format!(" {r} "), TextMethod::Contains))
        }
        AdminFilter::Username(t) => query::text(user::Column::Username, Some(user::Column::UsernameKey), t),
        AdminFilter::CreatedAt(t) => query::time(Column::CreatedAt, t),
        AdminFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        AdminFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        AdminFilter::Not(f) => condition(f).not(),
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> AdministratorRepository for Ctx<'_, C> {
    async fn insert(&self, a: &Administrator) -> RepoResult<()> {
        administrator::Entity::insert(to_model(a))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::ADMIN, e))?;
        Ok(())
    }

    async fn get(&self, user: UserId, scope: Scope) -> RepoResult<Option<Administrator>> {
        let (kind, id) = scope_key(scope);
        administrator::Entity::find()
            .filter(Column::UserId.eq(*user.as_uuid()))
            .filter(Column::ScopeKind.eq(kind))
            .filter(Column::ScopeId.eq(id))
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(to_domain)
            .transpose()
    }

    async fn get_by_id(&self, id: AdministratorId) -> RepoResult<Option<Administrator>> {
        administrator::Entity::find_by_id(*id.as_uuid())
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(to_domain)
            .transpose()
    }

    async fn list_for_user(&self, user: UserId) -> RepoResult<Vec<Administrator>> {
        administrator::Entity::find()
            .filter(Column::UserId.eq(*user.as_uuid()))
            .order_by_asc(Column::CreatedAt)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn update(&self, a: &Administrator) -> RepoResult<()> {
        let res = administrator::Entity::update_many()
            .set(to_model(a))
            .filter(Column::Id.eq(*a.id.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::ADMIN, e))?;
        expect_one(res.rows_affected, error::ADMIN.name)
    }

    async fn delete(&self, id: AdministratorId) -> RepoResult<()> {
        let res = administrator::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::ADMIN, e))?;
        expect_one(res.rows_affected, error::ADMIN.name)
    }

    async fn list(&self, q: &AdminQuery) -> RepoResult<Listed<Administrator>> {
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f)));
        let select =
            administrator::Entity::find().join(JoinType::InnerJoin, administrator::Relation::User.def()).filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let rows = select
            .order_by(Column::CreatedAt, order.clone())
            .order_by(Column::Id, order)
            .offset(offset)
            .limit(limit)
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(to_domain).collect::<RepoResult<_>>()?, total })
    }
}
