//! [`ApplicationRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::application::{ApiAuthMethod, AppKey, AppName, AppState, Application};
use tessera_domain::machine_key::PublicKeyType;
use tessera_domain::org::OrgState;
use tessera_domain::pat::SecretDigest;
use tessera_domain::project::ProjectState;
use tessera_domain::repo::{
    AppFilter, AppForAuth, AppKeyFilter, AppKeyForAuth, AppKeyQuery, AppKeySort, AppKeyWithOwner, AppQuery, AppSort,
    AppWithOwner, ApplicationRepository, Listed, RepoResult,
};
use tessera_domain::{AppKeyId, ApplicationId, OrgId, ProjectId, Timestamp};
use uuid::Uuid;

use super::project::visibility;
use super::{Ctx, expect_one};
use crate::entity::{application, application_key, organization, project};
use crate::{error, query};

/// An application row joined with its project's organization (and states).
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    name: String,
    state: String,
    auth_method: String,
    client_id: String,
    secret_digest: Option<Vec<u8>>,
    created_at: Timestamp,
    updated_at: Timestamp,
    org_id: Uuid,
    project_state: String,
    org_state: String,
}

impl Row {
    fn app(&self) -> RepoResult<Application> {
        Ok(Application {
            id: ApplicationId::from_uuid(self.id),
            project_id: ProjectId::from_uuid(self.project_id),
            name: AppName::parse(&self.name).map_err(|e| error::corrupt("application name", e))?,
            state: AppState::parse(&self.state).map_err(|e| error::corrupt("application state", e))?,
            auth_method: ApiAuthMethod::parse(&self.auth_method).map_err(|e| error::corrupt("auth method", e))?,
            client_id: self.client_id.clone(),
            secret_digest: self
                .secret_digest
                .as_deref()
                .map(|d| SecretDigest::from_slice(d).ok_or_else(|| error::corrupt("secret digest", "wrong length")))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    fn with_owner(&self) -> RepoResult<AppWithOwner> {
        Ok(AppWithOwner { app: self.app()?, org_id: OrgId::from_uuid(self.org_id) })
    }

    fn for_auth(&self) -> RepoResult<AppForAuth> {
        Ok(AppForAuth {
            app: self.app()?,
            project_state: ProjectState::parse(&self.project_state).map_err(|e| error::corrupt("project state", e))?,
            org_id: OrgId::from_uuid(self.org_id),
            org_state: OrgState::parse(&self.org_state).map_err(|e| error::corrupt("organization state", e))?,
        })
    }
}

/// A key row joined with its owners.
#[derive(Debug, FromQueryResult)]
struct KeyRow {
    id: Uuid,
    app_id: Uuid,
    key_type: String,
    public_key: String,
    expires_at: Timestamp,
    created_at: Timestamp,
    project_id: Uuid,
    org_id: Uuid,
}

fn key(
    id: Uuid,
    app_id: Uuid,
    key_type: &str,
    public_key: String,
    expires_at: Timestamp,
    created_at: Timestamp,
) -> RepoResult<AppKey> {
    Ok(AppKey {
        id: AppKeyId::from_uuid(id),
        app_id: ApplicationId::from_uuid(app_id),
        key_type: PublicKeyType::parse(key_type).map_err(|e| error::corrupt("key type", e))?,
        public_key_pem: public_key,
        expires_at,
        created_at,
    })
}

impl KeyRow {
    fn with_owner(self) -> RepoResult<AppKeyWithOwner> {
        Ok(AppKeyWithOwner {
            key: key(self.id, self.app_id, &self.key_type, self.public_key, self.expires_at, self.created_at)?,
            project_id: ProjectId::from_uuid(self.project_id),
            org_id: OrgId::from_uuid(self.org_id),
        })
    }
}

/// A key row joined with everything `private_key_jwt` needs.
#[derive(Debug, FromQueryResult)]
struct KeyAuthRow {
    key_id: Uuid,
    key_type: String,
    public_key: String,
    expires_at: Timestamp,
    key_created_at: Timestamp,
    id: Uuid,
    project_id: Uuid,
    name: String,
    state: String,
    auth_method: String,
    client_id: String,
    secret_digest: Option<Vec<u8>>,
    created_at: Timestamp,
    updated_at: Timestamp,
    org_id: Uuid,
    project_state: String,
    org_state: String,
}

impl KeyAuthRow {
    fn into_parts(self) -> (AppKeyParts, Row) {
        let parts = AppKeyParts {
            key_id: self.key_id,
            key_type: self.key_type,
            public_key: self.public_key,
            expires_at: self.expires_at,
            created_at: self.key_created_at,
        };
        let row = Row {
            id: self.id,
            project_id: self.project_id,
            name: self.name,
            state: self.state,
            auth_method: self.auth_method,
            client_id: self.client_id,
            secret_digest: self.secret_digest,
            created_at: self.created_at,
            updated_at: self.updated_at,
            org_id: self.org_id,
            project_state: self.project_state,
            org_state: self.org_state,
        };
        (parts, row)
    }
}

/// The key half of a [`KeyAuthRow`].
struct AppKeyParts {
    key_id: Uuid,
    key_type: String,
    public_key: String,
    expires_at: Timestamp,
    created_at: Timestamp,
}

fn to_model(a: &Application) -> application::ActiveModel {
    application::ActiveModel {
        id: Set(*a.id.as_uuid()),
        project_id: Set(*a.project_id.as_uuid()),
        name: Set(a.name.as_str().to_owned()),
        name_key: Set(a.name.key()),
        state: Set(a.state.as_str().to_owned()),
        auth_method: Set(a.auth_method.as_str().to_owned()),
        client_id: Set(a.client_id.clone()),
        secret_digest: Set(a.secret_digest.as_ref().map(|d| d.as_bytes().to_vec())),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
    }
}

/// `SELECT` of the application columns joined with project and organization.
fn select_app() -> sea_orm::Select<application::Entity> {
    application::Entity::find()
        .select_only()
        .columns([
            application::Column::Id,
            application::Column::ProjectId,
            application::Column::Name,
            application::Column::State,
            application::Column::AuthMethod,
            application::Column::ClientId,
            application::Column::SecretDigest,
            application::Column::CreatedAt,
            application::Column::UpdatedAt,
        ])
        .column_as(project::Column::OrgId, "org_id")
        .column_as(project::Column::State, "project_state")
        .column_as(organization::Column::State, "org_state")
        .join(JoinType::InnerJoin, application::Relation::Project.def())
        .join(JoinType::InnerJoin, project::Relation::Organization.def())
}

/// `SELECT` of the key columns joined with application and project.
fn select_key() -> sea_orm::Select<application_key::Entity> {
    application_key::Entity::find()
        .select_only()
        .columns([
            application_key::Column::Id,
            application_key::Column::AppId,
            application_key::Column::KeyType,
            application_key::Column::PublicKey,
            application_key::Column::ExpiresAt,
            application_key::Column::CreatedAt,
        ])
        .column_as(application::Column::ProjectId, "project_id")
        .column_as(project::Column::OrgId, "org_id")
        .join(JoinType::InnerJoin, application_key::Relation::Application.def())
        .join(JoinType::InnerJoin, application::Relation::Project.def())
}

fn condition(f: &AppFilter) -> Condition {
    use application::Column as C;
    match f {
        AppFilter::Project(p) => Condition::all().add(C::ProjectId.eq(*p.as_uuid())),
        AppFilter::Name(t) => query::text(C::Name, Some(C::NameKey), t),
        AppFilter::ClientId(id) => Condition::all().add(C::ClientId.eq(id.as_str())),
        AppFilter::State(s) => Condition::all().add(C::State.eq(s.as_str())),
        AppFilter::Nothing => query::never(),
    }
}

fn key_condition(f: &AppKeyFilter) -> Condition {
    match f {
        AppKeyFilter::App(a) => Condition::all().add(application_key::Column::AppId.eq(*a.as_uuid())),
        AppKeyFilter::Project(p) => Condition::all().add(application::Column::ProjectId.eq(*p.as_uuid())),
        AppKeyFilter::Org(o) => Condition::all().add(project::Column::OrgId.eq(*o.as_uuid())),
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> ApplicationRepository for Ctx<'_, C> {
    async fn insert(&self, a: &Application) -> RepoResult<()> {
        application::Entity::insert(to_model(a))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::APPLICATION, e))?;
        Ok(())
    }

    async fn get(&self, id: ApplicationId) -> RepoResult<Option<AppWithOwner>> {
        select_app()
            .filter(application::Column::Id.eq(*id.as_uuid()))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(|r| r.with_owner())
            .transpose()
    }

    async fn lock(&self, id: ApplicationId) -> RepoResult<Option<AppWithOwner>> {
        // Lock the application's row alone, then read it with its owner.
        if self.lock_row::<application::Entity>(*id.as_uuid()).await?.is_none() {
            return Ok(None);
        }
        self.get(id).await
    }

    async fn update(&self, before: &Application, after: &Application) -> RepoResult<()> {
        let this = Condition::all().add(application::Column::Id.eq(*after.id.as_uuid()));
        self.write_changes(&to_model(before), to_model(after), this, error::APPLICATION).await
    }

    async fn delete(&self, id: ApplicationId) -> RepoResult<()> {
        let res = application::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::APPLICATION, e))?;
        expect_one(res.rows_affected, error::APPLICATION.name)
    }

    async fn list(&self, q: &AppQuery) -> RepoResult<Listed<AppWithOwner>> {
        use application::Column as C;
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(visibility(
            project::Column::OrgId,
            project::Column::Id,
            &q.visibility,
        ));
        let select = select_app().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            AppSort::CreatedAt => select.order_by(C::CreatedAt, order.clone()),
            AppSort::ChangedAt => select.order_by(C::UpdatedAt, order.clone()),
            AppSort::Name => select.order_by(C::NameKey, order.clone()),
            AppSort::State => select.order_by(C::State, order.clone()),
            AppSort::Id => select,
        };
        let rows = select
            .order_by(C::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.iter().map(Row::with_owner).collect::<RepoResult<_>>()?, total })
    }

    async fn find_for_auth(&self, client_id: &str) -> RepoResult<Option<AppForAuth>> {
        select_app()
            .filter(application::Column::ClientId.eq(client_id))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(|r| r.for_auth())
            .transpose()
    }

    async fn insert_key(&self, k: &AppKey) -> RepoResult<()> {
        let model = application_key::ActiveModel {
            id: Set(*k.id.as_uuid()),
            app_id: Set(*k.app_id.as_uuid()),
            key_type: Set(k.key_type.as_str().to_owned()),
            public_key: Set(k.public_key_pem.clone()),
            expires_at: Set(k.expires_at),
            created_at: Set(k.created_at),
        };
        application_key::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::APP_KEY, e))?;
        Ok(())
    }

    async fn get_key(&self, id: AppKeyId) -> RepoResult<Option<AppKeyWithOwner>> {
        select_key()
            .filter(application_key::Column::Id.eq(*id.as_uuid()))
            .into_model::<KeyRow>()
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(KeyRow::with_owner)
            .transpose()
    }

    async fn delete_key(&self, id: AppKeyId) -> RepoResult<()> {
        let res = application_key::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::APP_KEY, e))?;
        expect_one(res.rows_affected, error::APP_KEY.name)
    }

    async fn list_keys(&self, q: &AppKeyQuery) -> RepoResult<Listed<AppKeyWithOwner>> {
        use application_key::Column as C;
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(key_condition(f))).add(visibility(
            project::Column::OrgId,
            application::Column::ProjectId,
            &q.visibility,
        ));
        let select = select_key().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let (offset, limit) = query::window(&q.page);
        let select = match q.sort {
            AppKeySort::CreatedAt => select.order_by(C::CreatedAt, order.clone()),
            AppKeySort::Id => select,
            AppKeySort::App => select.order_by(C::AppId, order.clone()),
            AppKeySort::Project => select.order_by(application::Column::ProjectId, order.clone()),
            AppKeySort::Org => select.order_by(project::Column::OrgId, order.clone()),
            AppKeySort::ExpiresAt => select.order_by(C::ExpiresAt, order.clone()),
        };
        let rows = select
            .order_by(C::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<KeyRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(KeyRow::with_owner).collect::<RepoResult<_>>()?, total })
    }

    async fn find_key_for_auth(&self, id: AppKeyId) -> RepoResult<Option<AppKeyForAuth>> {
        let row = select_app()
            .column_as(application_key::Column::Id, "key_id")
            .column_as(application_key::Column::KeyType, "key_type")
            .column_as(application_key::Column::PublicKey, "public_key")
            .column_as(application_key::Column::ExpiresAt, "expires_at")
            .column_as(application_key::Column::CreatedAt, "key_created_at")
            .join(JoinType::InnerJoin, application_key::Relation::Application.def().rev())
            .filter(application_key::Column::Id.eq(*id.as_uuid()))
            .into_model::<KeyAuthRow>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(r) = row else { return Ok(None) };
        let (k, app) = r.into_parts();
        Ok(Some(AppKeyForAuth {
            key: key(k.key_id, app.id, &k.key_type, k.public_key, k.expires_at, k.created_at)?,
            app: app.for_auth()?,
        }))
    }
}
