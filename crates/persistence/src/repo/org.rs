//! [`OrgRepository`] on sea-orm.

use async_trait::async_trait;
use chrono::Duration;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tessera_domain::OrgId;
use tessera_domain::names::OrgName;
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::permission::OrgFilter;
use tessera_domain::repo::{Listed, OrgQuery, OrgQueryFilter, OrgRepository, OrgSort, RepoResult};

use super::{Ctx, expect_one};
use crate::entity::organization::{self, Column};
use crate::entity::{administrator, project};
use crate::{error, query};

fn to_domain(r: organization::Model) -> RepoResult<Organization> {
    Ok(Organization {
        id: OrgId::from_uuid(r.id),
        name: OrgName::parse(&r.name).map_err(|e| error::corrupt("organization name", e))?,
        state: OrgState::parse(&r.state).map_err(|e| error::corrupt("organization state", e))?,
        pat_max_lifetime: r.pat_max_lifetime_secs.map(Duration::seconds),
        pat_require_scope: r.pat_require_scope,
        pat_inactivity_days: r.pat_inactivity_days.and_then(|d| u32::try_from(d).ok()),
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn to_model(o: &Organization) -> organization::ActiveModel {
    organization::ActiveModel {
        id: Set(*o.id.as_uuid()),
        name: Set(o.name.as_str().to_owned()),
        name_key: Set(o.name.key()),
        state: Set(o.state.as_str().to_owned()),
        pat_max_lifetime_secs: Set(o.pat_max_lifetime.map(|d| d.num_seconds())),
        pat_require_scope: Set(o.pat_require_scope),
        pat_inactivity_days: Set(o.pat_inactivity_days.map(i32::try_from).transpose().unwrap_or(Some(i32::MAX))),
        created_at: Set(o.created_at),
        updated_at: Set(o.updated_at),
    }
}

fn condition(f: &OrgQueryFilter) -> Condition {
    match f {
        OrgQueryFilter::Name(t) => query::text(Column::Name, Some(Column::NameKey), t),
        OrgQueryFilter::State(s) => Condition::all().add(Column::State.eq(s.as_str())),
        OrgQueryFilter::Ids(ids) => {
            Condition::all().add(Column::Id.is_in(ids.iter().map(|i| *i.as_uuid()).collect::<Vec<_>>()))
        }
        OrgQueryFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        OrgQueryFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        OrgQueryFilter::Not(f) => condition(f).not(),
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> OrgRepository for Ctx<'_, C> {
    async fn insert(&self, org: &Organization) -> RepoResult<()> {
        let mut model = to_model(org);
        // A column at its default is left to the database, so that inserts of
        // this release also fit the previous release's schema (the upgrade
        // test seeds that schema with this code).
        if !org.pat_require_scope {
            model.pat_require_scope = sea_orm::ActiveValue::NotSet;
        }
        if org.pat_inactivity_days.is_none() {
            model.pat_inactivity_days = sea_orm::ActiveValue::NotSet;
        }
        organization::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::ORG, e))?;
        Ok(())
    }

    async fn get(&self, id: OrgId) -> RepoResult<Option<Organization>> {
        organization::Entity::find_by_id(*id.as_uuid())
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(to_domain)
            .transpose()
    }

    async fn lock(&self, id: OrgId) -> RepoResult<Option<Organization>> {
        self.lock_row::<organization::Entity>(*id.as_uuid()).await?.map(to_domain).transpose()
    }

    async fn update(&self, before: &Organization, after: &Organization) -> RepoResult<()> {
        let this = Condition::all().add(Column::Id.eq(*after.id.as_uuid()));
        self.write_changes(&to_model(before), to_model(after), this, error::ORG).await
    }

    async fn delete(&self, id: OrgId) -> RepoResult<()> {
        let conn = self.write()?;
        // Memberships on the organization's projects have no foreign key (their
        // scope id may name any kind of resource); the projects themselves go by
        // cascade.
        administrator::Entity::delete_many()
            .filter(administrator::Column::ScopeKind.eq("project"))
            .filter(
                administrator::Column::ScopeId.in_subquery(
                    Query::select()
                        .column(project::Column::Id)
                        .from(project::Entity)
                        .and_where(project::Column::OrgId.eq(*id.as_uuid()))
                        .to_owned(),
                ),
            )
            .exec(conn)
            .await
            .map_err(|e| error::map(error::ADMIN, e))?;
        let res = organization::Entity::delete_by_id(*id.as_uuid())
            .exec(conn)
            .await
            .map_err(|e| error::map(error::ORG, e))?;
        expect_one(res.rows_affected, error::ORG.name)
    }

    async fn list(&self, q: &OrgQuery) -> RepoResult<Listed<Organization>> {
        let mut cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f)));
        if let OrgFilter::Only(orgs) = &q.visible {
            cond = if orgs.is_empty() {
                query::never()
            } else {
                cond.add(Column::Id.is_in(orgs.iter().map(|o| *o.as_uuid()).collect::<Vec<_>>()))
            };
        }
        let select = organization::Entity::find().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            OrgSort::CreatedAt => select.order_by(Column::CreatedAt, order.clone()),
            OrgSort::Name => select.order_by(Column::NameKey, order.clone()),
        };
        let rows =
            select.order_by(Column::Id, order).offset(offset).limit(limit).all(self.conn).await.map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(to_domain).collect::<RepoResult<_>>()?, total })
    }
}
