//! [`AuthorizationRepository`] on sea-orm.

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::authorization::{Authorization, AuthorizationState};
use tessera_domain::names::{DisplayName, OrgName, Username};
use tessera_domain::project::{ProjectName, ProjectState, RoleKey};
use tessera_domain::repo::{
    AuthorizationFilter, AuthorizationQuery, AuthorizationRepository, AuthorizationSort, AuthorizationView,
    GrantedRole, Listed, RepoResult, RoleGrant,
};
use tessera_domain::{AuthorizationId, OrgId, ProjectId, Timestamp, UserId};
use uuid::Uuid;

use super::project::visibility;
use super::{Ctx, expect_one};
use crate::entity::{authorization, authorization_role, organization, project, project_role, user};
use crate::{error, query};

/// An authorization row joined with the names a listing shows.
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    project_id: Uuid,
    org_id: Uuid,
    state: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    project_name: String,
    project_org_id: Uuid,
    org_name: String,
    username: String,
    user_display_name: String,
    user_org_id: Uuid,
}

/// A role of an authorization with its display fields.
#[derive(Debug, FromQueryResult)]
struct RoleRow {
    authorization_id: Uuid,
    role_key: String,
    display_name: String,
    role_group: String,
}

/// One row of the role claims' query.
#[derive(Debug, FromQueryResult)]
struct GrantRow {
    project_id: Uuid,
    role_key: String,
    org_id: Uuid,
    org_name: String,
}

fn view(r: Row, roles: Vec<GrantedRole>) -> RepoResult<AuthorizationView> {
    Ok(AuthorizationView {
        authorization: Authorization {
            id: AuthorizationId::from_uuid(r.id),
            user_id: UserId::from_uuid(r.user_id),
            project_id: ProjectId::from_uuid(r.project_id),
            org_id: OrgId::from_uuid(r.org_id),
            roles: roles.iter().map(|g| g.key.clone()).collect(),
            state: AuthorizationState::parse(&r.state).map_err(|e| error::corrupt("authorization state", e))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        },
        roles,
        project_name: ProjectName::parse(&r.project_name).map_err(|e| error::corrupt("project name", e))?,
        project_org_id: OrgId::from_uuid(r.project_org_id),
        org_name: OrgName::parse(&r.org_name).map_err(|e| error::corrupt("organization name", e))?,
        username: Username::parse(&r.username).map_err(|e| error::corrupt("username", e))?,
        user_display_name: DisplayName::parse("displayName", &r.user_display_name)
            .map_err(|e| error::corrupt("user display name", e))?,
        user_org_id: OrgId::from_uuid(r.user_org_id),
    })
}

fn select_view() -> sea_orm::Select<authorization::Entity> {
    authorization::Entity::find()
        .select_only()
        .columns([
            authorization::Column::Id,
            authorization::Column::UserId,
            authorization::Column::ProjectId,
            authorization::Column::OrgId,
            authorization::Column::State,
            authorization::Column::CreatedAt,
            authorization::Column::UpdatedAt,
        ])
        .column_as(project::Column::Name, "project_name")
        .column_as(project::Column::OrgId, "project_org_id")
        .column_as(organization::Column::Name, "org_name")
        .column_as(user::Column::Username, "username")
        .column_as(user::Column::Name, "user_display_name")
        .column_as(user::Column::OrgId, "user_org_id")
        .join(JoinType::InnerJoin, authorization::Relation::Project.def())
        .join(JoinType::InnerJoin, authorization::Relation::Organization.def())
        .join(JoinType::InnerJoin, authorization::Relation::User.def())
}

fn ids(v: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    v.into_iter().collect()
}

fn condition(f: &AuthorizationFilter) -> Condition {
    use authorization::Column as C;
    match f {
        AuthorizationFilter::Ids(v) => Condition::all().add(C::Id.is_in(ids(v.iter().map(|i| *i.as_uuid())))),
        AuthorizationFilter::Users(v) => Condition::all().add(C::UserId.is_in(ids(v.iter().map(|i| *i.as_uuid())))),
        AuthorizationFilter::Project(p) => Condition::all().add(C::ProjectId.eq(*p.as_uuid())),
        AuthorizationFilter::Org(o) => Condition::all().add(C::OrgId.eq(*o.as_uuid())),
        AuthorizationFilter::UserOrg(o) => Condition::all().add(user::Column::OrgId.eq(*o.as_uuid())),
        AuthorizationFilter::ProjectName(t) => query::text(project::Column::Name, Some(project::Column::NameKey), t),
        AuthorizationFilter::RoleKey(t) => Condition::all().add(
            C::Id.in_subquery(
                Query::select()
                    .column(authorization_role::Column::AuthorizationId)
                    .from(authorization_role::Entity)
                    .cond_where(query::text(authorization_role::Column::RoleKey, None, t))
                    .to_owned(),
            ),
        ),
        AuthorizationFilter::State(s) => Condition::all().add(C::State.eq(s.as_str())),
        AuthorizationFilter::Username(t) => query::text(user::Column::Username, Some(user::Column::UsernameKey), t),
        AuthorizationFilter::UserDisplayName(t) => query::text(user::Column::Name, None, t),
        AuthorizationFilter::Nothing => query::never(),
    }
}

impl<C: ConnectionTrait + Send + Sync> Ctx<'_, C> {
    /// The roles of the given authorizations, with display fields, by key.
    async fn roles_of(&self, auths: &[Uuid]) -> RepoResult<HashMap<Uuid, Vec<GrantedRole>>> {
        let mut out: HashMap<Uuid, Vec<GrantedRole>> = HashMap::new();
        if auths.is_empty() {
            return Ok(out);
        }
        let rows = authorization_role::Entity::find()
            .select_only()
            .column(authorization_role::Column::AuthorizationId)
            .column(authorization_role::Column::RoleKey)
            .column(project_role::Column::DisplayName)
            .column(project_role::Column::RoleGroup)
            .join(JoinType::InnerJoin, authorization_role::Relation::ProjectRole.def())
            .filter(authorization_role::Column::AuthorizationId.is_in(auths.to_vec()))
            .order_by_asc(authorization_role::Column::RoleKey)
            .into_model::<RoleRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        for r in rows {
            out.entry(r.authorization_id).or_default().push(GrantedRole {
                key: RoleKey::parse(&r.role_key).map_err(|e| error::corrupt("role key", e))?,
                display_name: DisplayName::parse("displayName", &r.display_name)
                    .map_err(|e| error::corrupt("role display name", e))?,
                group: r.role_group,
            });
        }
        Ok(out)
    }

    async fn insert_roles(&self, a: &Authorization) -> RepoResult<()> {
        if a.roles.is_empty() {
            return Ok(());
        }
        let models = a.roles.iter().map(|k| authorization_role::ActiveModel {
            authorization_id: Set(*a.id.as_uuid()),
            project_id: Set(*a.project_id.as_uuid()),
            role_key: Set(k.as_str().to_owned()),
        });
        authorization_role::Entity::insert_many(models)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::AUTHORIZATION, e))?;
        Ok(())
    }

    async fn grants(&self, user: UserId, project: Option<ProjectId>) -> RepoResult<Vec<RoleGrant>> {
        let mut select = authorization_role::Entity::find()
            .select_only()
            .column(authorization_role::Column::ProjectId)
            .column(authorization_role::Column::RoleKey)
            .column_as(authorization::Column::OrgId, "org_id")
            .column_as(organization::Column::Name, "org_name")
            .join(JoinType::InnerJoin, authorization_role::Relation::Authorization.def())
            .join(JoinType::InnerJoin, authorization::Relation::Project.def())
            .join(JoinType::InnerJoin, authorization::Relation::Organization.def())
            .filter(authorization::Column::UserId.eq(*user.as_uuid()))
            .filter(authorization::Column::State.eq(AuthorizationState::Active.as_str()))
            .filter(project::Column::State.eq(ProjectState::Active.as_str()));
        if let Some(p) = project {
            select = select.filter(authorization::Column::ProjectId.eq(*p.as_uuid()));
        }
        let rows = select
            .order_by_asc(authorization_role::Column::ProjectId)
            .order_by_asc(authorization_role::Column::RoleKey)
            .order_by_asc(authorization::Column::OrgId)
            .into_model::<GrantRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        rows.into_iter()
            .map(|r| {
                Ok(RoleGrant {
                    project_id: ProjectId::from_uuid(r.project_id),
                    role_key: RoleKey::parse(&r.role_key).map_err(|e| error::corrupt("role key", e))?,
                    org_id: OrgId::from_uuid(r.org_id),
                    org_name: OrgName::parse(&r.org_name).map_err(|e| error::corrupt("organization name", e))?,
                })
            })
            .collect()
    }
}

fn to_model(a: &Authorization) -> authorization::ActiveModel {
    authorization::ActiveModel {
        id: Set(*a.id.as_uuid()),
        user_id: Set(*a.user_id.as_uuid()),
        project_id: Set(*a.project_id.as_uuid()),
        org_id: Set(*a.org_id.as_uuid()),
        state: Set(a.state.as_str().to_owned()),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> AuthorizationRepository for Ctx<'_, C> {
    async fn insert(&self, a: &Authorization) -> RepoResult<()> {
        authorization::Entity::insert(to_model(a))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::AUTHORIZATION, e))?;
        self.insert_roles(a).await
    }

    async fn get(&self, id: AuthorizationId) -> RepoResult<Option<AuthorizationView>> {
        let row = select_view()
            .filter(authorization::Column::Id.eq(*id.as_uuid()))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(row) = row else { return Ok(None) };
        let mut roles = self.roles_of(&[row.id]).await?;
        let mine = roles.remove(&row.id).unwrap_or_default();
        view(row, mine).map(Some)
    }

    async fn lock(&self, id: AuthorizationId) -> RepoResult<Option<AuthorizationView>> {
        // Lock the authorization's row alone, then read it with its names.
        if self.lock_row::<authorization::Entity>(*id.as_uuid()).await?.is_none() {
            return Ok(None);
        }
        self.get(id).await
    }

    async fn update(&self, before: &Authorization, a: &Authorization) -> RepoResult<()> {
        let this = Condition::all().add(authorization::Column::Id.eq(*a.id.as_uuid()));
        self.write_changes(&to_model(before), to_model(a), this, error::AUTHORIZATION).await?;
        if before.roles == a.roles {
            return Ok(());
        }
        let conn = self.write()?;
        authorization_role::Entity::delete_many()
            .filter(authorization_role::Column::AuthorizationId.eq(*a.id.as_uuid()))
            .exec(conn)
            .await
            .map_err(|e| error::map(error::AUTHORIZATION, e))?;
        self.insert_roles(a).await
    }

    async fn delete(&self, id: AuthorizationId) -> RepoResult<()> {
        let res = authorization::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::AUTHORIZATION, e))?;
        expect_one(res.rows_affected, error::AUTHORIZATION.name)
    }

    async fn list(&self, q: &AuthorizationQuery) -> RepoResult<Listed<AuthorizationView>> {
        use authorization::Column as C;
        let mut visible = Condition::any().add(visibility(project::Column::OrgId, project::Column::Id, &q.visibility));
        if let Some(own) = q.visibility.own_user {
            visible = visible.add(C::UserId.eq(*own.as_uuid()));
        }
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(visible);
        let select = select_view().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            AuthorizationSort::CreatedAt => select.order_by(C::CreatedAt, order.clone()),
            AuthorizationSort::ChangedAt => select.order_by(C::UpdatedAt, order.clone()),
            AuthorizationSort::Id => select,
            AuthorizationSort::User => select.order_by(C::UserId, order.clone()),
            AuthorizationSort::Project => select.order_by(C::ProjectId, order.clone()),
            AuthorizationSort::Org => select.order_by(C::OrgId, order.clone()),
            AuthorizationSort::UserOrg => select.order_by(user::Column::OrgId, order.clone()),
        };
        let rows = select
            .order_by(C::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        let mut roles = self.roles_of(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let mine = roles.remove(&r.id).unwrap_or_default();
                view(r, mine)
            })
            .collect::<RepoResult<_>>()?;
        Ok(Listed { items, total })
    }

    async fn user_roles_on_project(&self, user: UserId, project: ProjectId) -> RepoResult<Vec<RoleGrant>> {
        self.grants(user, Some(project)).await
    }

    async fn user_roles(&self, user: UserId) -> RepoResult<Vec<RoleGrant>> {
        self.grants(user, None).await
    }
}
