//! [`AdministratorRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::names::{DisplayName, OrgName, Username};
use tessera_domain::permission::{OrgFilter, Scope};
use tessera_domain::repo::{
    AdminFilter, AdminQuery, AdminSort, AdminVisibility, AdminWithNames, AdministratorRepository, Listed, RepoResult,
    TextFilter, TextMethod,
};
use tessera_domain::{AdministratorId, OrgId, ProjectId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one};
use crate::entity::administrator::{self, Column};
use crate::entity::{organization, user};
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
    membership(r.id, r.user_id, &r.scope_kind, r.scope_id, &r.roles, r.created_at, r.updated_at)
}

fn membership(
    id: Uuid,
    user_id: Uuid,
    scope_kind: &str,
    scope_id: Uuid,
    roles: &str,
    created_at: Timestamp,
    updated_at: Timestamp,
) -> RepoResult<Administrator> {
    let scope = match scope_kind {
        INSTANCE => Scope::Instance,
        ORG => Scope::Org(OrgId::from_uuid(scope_id)),
        PROJECT => Scope::Project(ProjectId::from_uuid(scope_id)),
        other => return Err(error::corrupt("administrator scope", other)),
    };
    let roles =
        RoleSet::parse(scope, roles.split_whitespace()).map_err(|e| error::corrupt("administrator roles", e))?;
    Ok(Administrator {
        id: AdministratorId::from_uuid(id),
        user_id: UserId::from_uuid(user_id),
        scope,
        roles,
        created_at,
        updated_at,
    })
}

/// A membership row joined with its member and, for organization scope, the
/// organization.
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    scope_kind: String,
    scope_id: Uuid,
    roles: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    username: String,
    display_name: String,
    user_org_id: Uuid,
    org_name: Option<String>,
}

fn with_names(r: Row) -> RepoResult<AdminWithNames> {
    Ok(AdminWithNames {
        admin: membership(r.id, r.user_id, &r.scope_kind, r.scope_id, &r.roles, r.created_at, r.updated_at)?,
        username: Username::parse(&r.username).map_err(|e| error::corrupt("username", e))?,
        display_name: DisplayName::parse("displayName", &r.display_name)
            .map_err(|e| error::corrupt("display name", e))?,
        user_org_id: OrgId::from_uuid(r.user_org_id),
        org_name: r
            .org_name
            .map(|n| OrgName::parse(&n))
            .transpose()
            .map_err(|e| error::corrupt("organization name", e))?,
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
        AdminFilter::Users(ids) if ids.is_empty() => query::never(),
        AdminFilter::Users(ids) => {
            Condition::all().add(Column::UserId.is_in(ids.iter().map(|u| *u.as_uuid()).collect::<Vec<_>>()))
        }
        AdminFilter::UserOrg(o) => Condition::all().add(user::Column::OrgId.eq(*o.as_uuid())),
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
        AdminFilter::DisplayName(t) => query::text(user::Column::Name, None, t),
        AdminFilter::CreatedAt(t) => query::time(Column::CreatedAt, t),
        AdminFilter::ChangedAt(t) => query::time(Column::UpdatedAt, t),
        AdminFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        AdminFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        AdminFilter::Not(f) => condition(f).not(),
    }
}

/// Memberships on `kind` resources whose id is in `ids`.
fn on(kind: &'static str, ids: Vec<Uuid>) -> Condition {
    Condition::all().add(Column::ScopeKind.eq(kind)).add(Column::ScopeId.is_in(ids))
}

/// The rows a caller may see (see [`AdminVisibility`]).
fn visibility(v: &AdminVisibility) -> Condition {
    if v.instance && v.orgs == OrgFilter::All && v.projects.is_none() {
        return Condition::all();
    }
    // An empty `Condition::any()` would be dropped (no restriction at all), so
    // count the alternatives and fall back to a condition that never holds.
    let mut alternatives = Vec::new();
    if v.instance {
        alternatives.push(Condition::all().add(Column::ScopeKind.eq(INSTANCE)));
    }
    match &v.orgs {
        OrgFilter::All => alternatives.push(Condition::all().add(Column::ScopeKind.eq(ORG))),
        OrgFilter::Only(orgs) if !orgs.is_empty() => {
            alternatives.push(on(ORG, orgs.iter().map(|o| *o.as_uuid()).collect()));
        }
        OrgFilter::Only(_) => {}
    }
    match &v.projects {
        None => alternatives.push(Condition::all().add(Column::ScopeKind.eq(PROJECT))),
        Some(projects) if !projects.is_empty() => {
            alternatives.push(on(PROJECT, projects.iter().map(|p| *p.as_uuid()).collect()));
        }
        Some(_) => {}
    }
    if let Some(user) = v.own_user {
        alternatives.push(Condition::all().add(Column::UserId.eq(*user.as_uuid())));
    }
    if alternatives.is_empty() {
        return query::never();
    }
    alternatives.into_iter().fold(Condition::any(), Condition::add)
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

    async fn list(&self, q: &AdminQuery) -> RepoResult<Listed<AdminWithNames>> {
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(visibility(&q.visibility));
        let select = administrator::Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::UserId,
                Column::ScopeKind,
                Column::ScopeId,
                Column::Roles,
                Column::CreatedAt,
                Column::UpdatedAt,
            ])
            .column_as(user::Column::Username, "username")
            .column_as(user::Column::Name, "display_name")
            .column_as(user::Column::OrgId, "user_org_id")
            .column_as(organization::Column::Name, "org_name")
            .join(JoinType::InnerJoin, administrator::Relation::User.def())
            .join(JoinType::LeftJoin, administrator::Relation::Organization.def())
            .filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let sort_col = match q.sort {
            AdminSort::CreatedAt => Column::CreatedAt,
            AdminSort::ChangedAt => Column::UpdatedAt,
            AdminSort::User => Column::UserId,
        };
        let (offset, limit) = query::window(&q.page);
        let rows = select
            .order_by(sort_col, order.clone())
            .order_by(Column::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(with_names).collect::<RepoResult<_>>()?, total })
    }
}
