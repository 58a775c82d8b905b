//! [`ProjectRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tessera_domain::names::DisplayName;
use tessera_domain::permission::OrgFilter;
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey};
use tessera_domain::repo::{
    Listed, ProjectFilter, ProjectQuery, ProjectRepository, ProjectSort, ProjectVisibility, RepoResult, RoleFilter,
    RoleQuery, RoleSort,
};
use tessera_domain::{OrgId, ProjectId};
use uuid::Uuid;

use super::{Ctx, expect_one};
use crate::entity::{administrator, project, project_role};
use crate::{error, query};

fn to_domain(r: project::Model) -> RepoResult<Project> {
    Ok(Project {
        id: ProjectId::from_uuid(r.id),
        org_id: OrgId::from_uuid(r.org_id),
        name: ProjectName::parse(&r.name).map_err(|e| error::corrupt("project name", e))?,
        state: ProjectState::parse(&r.state).map_err(|e| error::corrupt("project state", e))?,
        role_assertion: r.role_assertion,
        authorization_required: r.authorization_required,
        project_access_required: r.project_access_required,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn to_model(p: &Project) -> project::ActiveModel {
    project::ActiveModel {
        id: Set(*p.id.as_uuid()),
        org_id: Set(*p.org_id.as_uuid()),
        name: Set(p.name.as_str().to_owned()),
        name_key: Set(p.name.key()),
        state: Set(p.state.as_str().to_owned()),
        role_assertion: Set(p.role_assertion),
        authorization_required: Set(p.authorization_required),
        project_access_required: Set(p.project_access_required),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    }
}

pub(crate) fn role_to_domain(r: project_role::Model) -> RepoResult<ProjectRole> {
    Ok(ProjectRole {
        project_id: ProjectId::from_uuid(r.project_id),
        key: RoleKey::parse(&r.role_key).map_err(|e| error::corrupt("role key", e))?,
        display_name: DisplayName::parse("displayName", &r.display_name)
            .map_err(|e| error::corrupt("role display name", e))?,
        group: r.role_group,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn role_to_model(r: &ProjectRole) -> project_role::ActiveModel {
    project_role::ActiveModel {
        project_id: Set(*r.project_id.as_uuid()),
        role_key: Set(r.key.as_str().to_owned()),
        display_name: Set(r.display_name.as_str().to_owned()),
        role_group: Set(r.group.clone()),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    }
}

/// Project visibility on any table with an organization and a project column.
pub(crate) fn visibility<A: ColumnTrait, B: ColumnTrait>(
    org_col: A,
    project_col: B,
    v: &ProjectVisibility,
) -> Condition {
    match &v.orgs {
        OrgFilter::All => Condition::all(),
        OrgFilter::Only(orgs) => {
            if orgs.is_empty() && v.projects.is_empty() {
                return query::never();
            }
            let mut any = Condition::any();
            if !orgs.is_empty() {
                any = any.add(org_col.is_in(orgs.iter().map(|o| *o.as_uuid()).collect::<Vec<Uuid>>()));
            }
            if !v.projects.is_empty() {
                any = any.add(project_col.is_in(v.projects.iter().map(|p| *p.as_uuid()).collect::<Vec<Uuid>>()));
            }
            any
        }
    }
}

fn condition(f: &ProjectFilter) -> Condition {
    use project::Column as C;
    match f {
        ProjectFilter::Name(t) => query::text(C::Name, Some(C::NameKey), t),
        ProjectFilter::Org(o) => Condition::all().add(C::OrgId.eq(*o.as_uuid())),
        ProjectFilter::Ids(ids) => {
            Condition::all().add(C::Id.is_in(ids.iter().map(|i| *i.as_uuid()).collect::<Vec<_>>()))
        }
        ProjectFilter::State(s) => Condition::all().add(C::State.eq(s.as_str())),
    }
}

fn role_condition(f: &RoleFilter) -> Condition {
    use project_role::Column as C;
    match f {
        RoleFilter::Key(t) => query::text(C::RoleKey, None, t),
        RoleFilter::DisplayName(t) => query::text(C::DisplayName, None, t),
        RoleFilter::Keys(keys) => {
            Condition::all().add(C::RoleKey.is_in(keys.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>()))
        }
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> ProjectRepository for Ctx<'_, C> {
    async fn insert(&self, p: &Project) -> RepoResult<()> {
        project::Entity::insert(to_model(p))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::PROJECT, e))?;
        Ok(())
    }

    async fn get(&self, id: ProjectId) -> RepoResult<Option<Project>> {
        project::Entity::find_by_id(*id.as_uuid()).one(self.conn).await.map_err(error::db)?.map(to_domain).transpose()
    }

    async fn lock(&self, id: ProjectId) -> RepoResult<Option<Project>> {
        self.lock_row::<project::Entity>(*id.as_uuid()).await?.map(to_domain).transpose()
    }

    async fn update(&self, before: &Project, after: &Project) -> RepoResult<()> {
        let this = Condition::all().add(project::Column::Id.eq(*after.id.as_uuid()));
        self.write_changes(&to_model(before), to_model(after), this, error::PROJECT).await
    }

    async fn delete(&self, id: ProjectId) -> RepoResult<()> {
        let conn = self.write()?;
        // Memberships on the project have no foreign key (their scope id refers
        // to the instance, an organization or a project); remove them here.
        administrator::Entity::delete_many()
            .filter(administrator::Column::ScopeKind.eq("project"))
            .filter(administrator::Column::ScopeId.eq(*id.as_uuid()))
            .exec(conn)
            .await
            .map_err(|e| error::map(error::ADMIN, e))?;
        let res =
            project::Entity::delete_by_id(*id.as_uuid()).exec(conn).await.map_err(|e| error::map(error::PROJECT, e))?;
        expect_one(res.rows_affected, error::PROJECT.name)
    }

    async fn list(&self, q: &ProjectQuery) -> RepoResult<Listed<Project>> {
        use project::Column as C;
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(visibility(
            C::OrgId,
            C::Id,
            &q.visibility,
        ));
        let select = project::Entity::find().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            ProjectSort::CreatedAt => select.order_by(C::CreatedAt, order.clone()),
            ProjectSort::ChangedAt => select.order_by(C::UpdatedAt, order.clone()),
            ProjectSort::Name => select.order_by(C::NameKey, order.clone()),
            ProjectSort::Id => select,
        };
        let rows = select.order_by(C::Id, order).offset(offset).limit(limit).all(self.conn).await.map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(to_domain).collect::<RepoResult<_>>()?, total })
    }

    async fn insert_role(&self, r: &ProjectRole) -> RepoResult<()> {
        project_role::Entity::insert(role_to_model(r))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::PROJECT_ROLE, e))?;
        Ok(())
    }

    async fn get_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<Option<ProjectRole>> {
        project_role::Entity::find_by_id((*project.as_uuid(), key.as_str().to_owned()))
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(role_to_domain)
            .transpose()
    }

    async fn update_role(&self, before: &ProjectRole, r: &ProjectRole) -> RepoResult<()> {
        let this = Condition::all()
            .add(project_role::Column::ProjectId.eq(*r.project_id.as_uuid()))
            .add(project_role::Column::RoleKey.eq(r.key.as_str()));
        self.write_changes(&role_to_model(before), role_to_model(r), this, error::PROJECT_ROLE).await
    }

    async fn delete_role(&self, project: ProjectId, key: &RoleKey) -> RepoResult<()> {
        let res = project_role::Entity::delete_by_id((*project.as_uuid(), key.as_str().to_owned()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::PROJECT_ROLE, e))?;
        expect_one(res.rows_affected, error::PROJECT_ROLE.name)
    }

    async fn list_roles(&self, q: &RoleQuery) -> RepoResult<Listed<ProjectRole>> {
        use project_role::Column as C;
        let cond = q
            .filters
            .iter()
            .fold(Condition::all(), |c, f| c.add(role_condition(f)))
            .add(C::ProjectId.eq(*q.project.as_uuid()));
        let select = project_role::Entity::find().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            RoleSort::Key => select,
            RoleSort::CreatedAt => select.order_by(C::CreatedAt, order.clone()),
            RoleSort::ChangedAt => select.order_by(C::UpdatedAt, order.clone()),
        };
        let rows =
            select.order_by(C::RoleKey, order).offset(offset).limit(limit).all(self.conn).await.map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(role_to_domain).collect::<RepoResult<_>>()?, total })
    }
}
