//! [`UserRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::names::{Description, DisplayName, Email, Username};
use tessera_domain::org::OrgState;
use tessera_domain::repo::{
    CredentialOwner, Listed, RepoResult, UserFilter, UserQuery, UserRepository, UserSort, UserType,
};
use tessera_domain::user::{AccessTokenType, Human, Machine, PasswordHash, User, UserKind, UserState};
use tessera_domain::{OrgId, UserId};

use super::{Ctx, expect_one};
use crate::entity::organization;
use crate::entity::user::{self, Column};
use crate::{error, query};

const MACHINE: &str = "machine";
const HUMAN: &str = "human";

pub(crate) fn to_domain(r: user::Model) -> RepoResult<User> {
    let bad = |what: &str, e: tessera_domain::ValidationError| error::corrupt(what, e);
    let kind = match r.kind.as_str() {
        MACHINE => UserKind::Machine(Machine {
            name: DisplayName::parse("name", &r.name).map_err(|e| bad("machine name", e))?,
            description: Description::parse(r.description.as_deref().unwrap_or_default())
                .map_err(|e| bad("machine description", e))?,
            access_token_type: AccessTokenType::parse(r.access_token_type.as_deref().unwrap_or("bearer"))
                .map_err(|e| bad("access token type", e))?,
        }),
        HUMAN => UserKind::Human(Human {
            given_name: DisplayName::parse("givenName", r.given_name.as_deref().unwrap_or_default())
                .map_err(|e| bad("given name", e))?,
            family_name: DisplayName::parse("familyName", r.family_name.as_deref().unwrap_or_default())
                .map_err(|e| bad("family name", e))?,
            display_name: DisplayName::parse("displayName", &r.name).map_err(|e| bad("display name", e))?,
            email: Email::parse(r.email.as_deref().unwrap_or_default()).map_err(|e| bad("email", e))?,
            email_verified: r.email_verified,
            password_hash: r.password_hash.map(PasswordHash::from_phc),
        }),
        other => return Err(error::corrupt("user kind", other)),
    };
    Ok(User {
        id: UserId::from_uuid(r.id),
        org_id: OrgId::from_uuid(r.org_id),
        username: Username::parse(&r.username).map_err(|e| bad("username", e))?,
        state: UserState::parse(&r.state).map_err(|e| bad("user state", e))?,
        kind,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn to_model(u: &User) -> user::ActiveModel {
    let mut m = user::ActiveModel {
        id: Set(*u.id.as_uuid()),
        org_id: Set(*u.org_id.as_uuid()),
        username: Set(u.username.as_str().to_owned()),
        username_key: Set(u.username.key()),
        state: Set(u.state.as_str().to_owned()),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
        kind: Set(String::new()),
        name: Set(String::new()),
        description: Set(None),
        access_token_type: Set(None),
        given_name: Set(None),
        family_name: Set(None),
        email: Set(None),
        email_verified: Set(false),
        password_hash: Set(None),
    };
    match &u.kind {
        UserKind::Machine(machine) => {
            m.kind = Set(MACHINE.to_owned());
            m.name = Set(machine.name.as_str().to_owned());
            m.description = Set(Some(machine.description.as_str().to_owned()));
            m.access_token_type = Set(Some(machine.access_token_type.as_str().to_owned()));
        }
        UserKind::Human(human) => {
            m.kind = Set(HUMAN.to_owned());
            m.name = Set(human.display_name.as_str().to_owned());
            m.given_name = Set(Some(human.given_name.as_str().to_owned()));
            m.family_name = Set(Some(human.family_name.as_str().to_owned()));
            m.email = Set(Some(human.email.as_str().to_owned()));
            m.email_verified = Set(human.email_verified);
            m.password_hash = Set(human.password_hash.as_ref().map(|h| h.as_phc().to_owned()));
        }
    }
    m
}

fn condition(f: &UserFilter) -> Condition {
    match f {
        UserFilter::Username(t) => query::text(Column::Username, Some(Column::UsernameKey), t),
        UserFilter::DisplayName(t) => query::text(Column::Name, None, t),
        UserFilter::GivenName(t) => query::text(Column::GivenName, None, t),
        UserFilter::FamilyName(t) => query::text(Column::FamilyName, None, t),
        UserFilter::Email(t) => query::text(Column::Email, None, t),
        UserFilter::Type(UserType::Machine) => Condition::all().add(Column::Kind.eq(MACHINE)),
        UserFilter::Type(UserType::Human) => Condition::all().add(Column::Kind.eq(HUMAN)),
        UserFilter::State(s) => Condition::all().add(Column::State.eq(s.as_str())),
        UserFilter::Org(o) => Condition::all().add(Column::OrgId.eq(*o.as_uuid())),
        UserFilter::Ids(ids) => {
            Condition::all().add(Column::Id.is_in(ids.iter().map(|i| *i.as_uuid()).collect::<Vec<_>>()))
        }
        UserFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        UserFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        UserFilter::Not(f) => condition(f).not(),
    }
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> UserRepository for Ctx<'_, C> {
    async fn insert(&self, u: &User) -> RepoResult<()> {
        user::Entity::insert(to_model(u))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::USER, e))?;
        Ok(())
    }

    async fn get(&self, id: UserId) -> RepoResult<Option<User>> {
        user::Entity::find_by_id(*id.as_uuid()).one(self.conn).await.map_err(error::db)?.map(to_domain).transpose()
    }

    async fn find_by_username(&self, org: OrgId, username: &str) -> RepoResult<Option<User>> {
        user::Entity::find()
            .filter(Column::OrgId.eq(*org.as_uuid()))
            .filter(Column::UsernameKey.eq(username.to_lowercase()))
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_username_anywhere(&self, username: &str) -> RepoResult<Vec<User>> {
        user::Entity::find()
            .filter(Column::UsernameKey.eq(username.to_lowercase()))
            .order_by_asc(Column::CreatedAt)
            .limit(16)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    async fn owner(&self, id: UserId) -> RepoResult<Option<CredentialOwner>> {
        #[derive(Debug, FromQueryResult)]
        struct Row {
            state: String,
            kind: String,
            org_id: uuid::Uuid,
            org_state: String,
        }
        let row = user::Entity::find_by_id(*id.as_uuid())
            .select_only()
            .columns([Column::State, Column::Kind, Column::OrgId])
            .column_as(organization::Column::State, "org_state")
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(CredentialOwner {
            user_id: id,
            user_state: UserState::parse(&r.state).map_err(|e| error::corrupt("user state", e))?,
            is_machine: r.kind == MACHINE,
            org_id: OrgId::from_uuid(r.org_id),
            org_state: OrgState::parse(&r.org_state).map_err(|e| error::corrupt("organization state", e))?,
        }))
    }

    async fn lock(&self, id: UserId) -> RepoResult<Option<User>> {
        self.lock_row::<user::Entity>(*id.as_uuid()).await?.map(to_domain).transpose()
    }

    async fn update(&self, before: &User, after: &User) -> RepoResult<()> {
        let this = Condition::all().add(Column::Id.eq(*after.id.as_uuid()));
        self.write_changes(&to_model(before), to_model(after), this, error::USER).await
    }

    async fn delete(&self, id: UserId) -> RepoResult<()> {
        let res = user::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::USER, e))?;
        expect_one(res.rows_affected, error::USER.name)
    }

    async fn list(&self, q: &UserQuery) -> RepoResult<Listed<User>> {
        let cond = q.filters.iter().fold(Condition::all(), |c, f| c.add(condition(f))).add(query::visibility(
            Column::OrgId,
            Column::Id,
            &q.visibility,
        ));
        let select = user::Entity::find().filter(cond);
        let total = select.clone().count(self.conn).await.map_err(error::db)?;
        let order = if q.page.asc { sea_orm::Order::Asc } else { sea_orm::Order::Desc };
        let sort_col = match q.sort {
            UserSort::CreatedAt => Column::CreatedAt,
            UserSort::Username => Column::UsernameKey,
            UserSort::DisplayName => Column::Name,
            UserSort::GivenName => Column::GivenName,
            UserSort::FamilyName => Column::FamilyName,
            UserSort::Email => Column::Email,
            UserSort::State => Column::State,
            UserSort::Type => Column::Kind,
        };
        let (offset, limit) = query::window(&q.page);
        let rows = select
            .order_by(sort_col, order.clone())
            .order_by(Column::Id, order)
            .offset(offset)
            .limit(limit)
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(to_domain).collect::<RepoResult<_>>()?, total })
    }
}
