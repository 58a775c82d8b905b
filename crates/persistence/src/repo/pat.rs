//! [`PatRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::org::OrgState;
use tessera_domain::pat::{PersonalAccessToken, SecretDigest};
use tessera_domain::repo::{
    CredentialOwner, Listed, PatFilter, PatQuery, PatRepository, PatSort, PatWithOwner, RepoResult,
};
use tessera_domain::token_scope::TokenScope;
use tessera_domain::user::UserState;
use tessera_domain::{OrgId, PatId, ProjectId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one};
use crate::entity::{organization, pat, user};
use crate::{error, query};

/// A token row joined with its owner.
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    digest: Vec<u8>,
    expires_at: Timestamp,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    scope: Option<String>,
    org_id: Uuid,
}

/// A token row joined with everything the credential check needs.
#[derive(Debug, FromQueryResult)]
struct AuthRow {
    id: Uuid,
    user_id: Uuid,
    digest: Vec<u8>,
    expires_at: Timestamp,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    scope: Option<String>,
    org_id: Uuid,
    user_state: String,
    user_kind: String,
    org_state: String,
}

/// The stored form of a scope: `{"orgs": […], "projects": […], "permissions": […]}`.
fn scope_text(scope: &TokenScope) -> String {
    serde_json::json!({
        "orgs": scope.orgs(),
        "projects": scope.projects(),
        "permissions": scope.permissions(),
    })
    .to_string()
}

/// A stored scope, checked as when it was set: a scope that does not parse,
/// or names an unknown permission, is corrupt (read as "no scope" it would
/// grant more than was configured).
fn parse_scope(text: &str) -> RepoResult<TokenScope> {
    let corrupt = |why: String| error::corrupt("token scope", why);
    let stored: serde_json::Value = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let strings = |member: &str| -> RepoResult<Vec<String>> {
        let list = stored.get(member).and_then(serde_json::Value::as_array);
        let list = list.ok_or_else(|| corrupt(format!("{member} is not a list")))?;
        list.iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| corrupt(format!("{member} holds a non-string"))))
            .collect()
    };
    let uuids = |member: &str| -> RepoResult<Vec<Uuid>> {
        strings(member)?.iter().map(|s| Uuid::try_parse(s).map_err(|e| corrupt(format!("{member}: {e}")))).collect()
    };
    let orgs = uuids("orgs")?.into_iter().map(OrgId::from_uuid).collect();
    let projects = uuids("projects")?.into_iter().map(ProjectId::from_uuid).collect();
    TokenScope::new(orgs, projects, &strings("permissions")?)
        .map_err(|e| corrupt(e.to_string()))?
        .ok_or_else(|| corrupt("an empty scope".to_owned()))
}

fn token(
    id: Uuid,
    user_id: Uuid,
    digest: &[u8],
    expires_at: Timestamp,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    scope: Option<&str>,
) -> RepoResult<PersonalAccessToken> {
    Ok(PersonalAccessToken {
        id: PatId::from_uuid(id),
        user_id: UserId::from_uuid(user_id),
        digest: SecretDigest::from_slice(digest).ok_or_else(|| error::corrupt("token digest", "wrong length"))?,
        expires_at,
        created_at,
        last_used_at,
        scope: scope.map(parse_scope).transpose()?,
    })
}

fn with_owner(r: Row) -> RepoResult<PatWithOwner> {
    Ok(PatWithOwner {
        pat: token(r.id, r.user_id, &r.digest, r.expires_at, r.created_at, r.last_used_at, r.scope.as_deref())?,
        org_id: OrgId::from_uuid(r.org_id),
    })
}

fn condition(f: &PatFilter) -> Condition {
    match f {
        PatFilter::User(u) => Condition::all().add(pat::Column::UserId.eq(*u.as_uuid())),
        PatFilter::Token(t) => Condition::all().add(pat::Column::Id.eq(*t.as_uuid())),
        PatFilter::Org(o) => Condition::all().add(user::Column::OrgId.eq(*o.as_uuid())),
        PatFilter::CreatedAt(t) => query::time(pat::Column::CreatedAt, t),
        PatFilter::ExpiresAt(t) => query::time(pat::Column::ExpiresAt, t),
        PatFilter::And(fs) => fs.iter().fold(Condition::all(), |c, f| c.add(condition(f))),
        PatFilter::Or(fs) => fs.iter().fold(Condition::any(), |c, f| c.add(condition(f))),
        PatFilter::Not(f) => condition(f).not(),
    }
}

/// `SELECT` of the token columns joined with the owning user.
fn select_with_owner() -> sea_orm::Select<pat::Entity> {
    pat::Entity::find()
        .select_only()
        .columns([
            pat::Column::Id,
            pat::Column::UserId,
            pat::Column::Digest,
            pat::Column::ExpiresAt,
            pat::Column::CreatedAt,
            pat::Column::LastUsedAt,
            pat::Column::Scope,
        ])
        .column_as(user::Column::OrgId, "org_id")
        .join(JoinType::InnerJoin, pat::Relation::User.def())
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> PatRepository for Ctx<'_, C> {
    async fn insert(&self, p: &PersonalAccessToken) -> RepoResult<()> {
        let model = pat::ActiveModel {
            id: Set(*p.id.as_uuid()),
            user_id: Set(*p.user_id.as_uuid()),
            digest: Set(p.digest.as_bytes().to_vec()),
            expires_at: Set(p.expires_at),
            created_at: Set(p.created_at),
            last_used_at: Set(p.last_used_at),
            // NULL by default: left out when there is none, so that inserts of
            // this release also fit the previous release's schema.
            scope: p.scope.as_ref().map_or(sea_orm::ActiveValue::NotSet, |s| Set(Some(scope_text(s)))),
        };
        pat::Entity::insert(model)
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::PAT, e))?;
        Ok(())
    }

    async fn get(&self, id: PatId) -> RepoResult<Option<PatWithOwner>> {
        select_with_owner()
            .filter(pat::Column::Id.eq(*id.as_uuid()))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(with_owner)
            .transpose()
    }

    async fn find_for_auth(&self, id: PatId) -> RepoResult<Option<(PersonalAccessToken, CredentialOwner)>> {
        let row = select_with_owner()
            .column_as(user::Column::State, "user_state")
            .column_as(user::Column::Kind, "user_kind")
            .column_as(organization::Column::State, "org_state")
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .filter(pat::Column::Id.eq(*id.as_uuid()))
            .into_model::<AuthRow>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(r) = row else { return Ok(None) };
        let owner = CredentialOwner {
            user_id: UserId::from_uuid(r.user_id),
            user_state: UserState::parse(&r.user_state).map_err(|e| error::corrupt("user state", e))?,
            is_machine: r.user_kind == "machine",
            org_id: OrgId::from_uuid(r.org_id),
            org_state: OrgState::parse(&r.org_state).map_err(|e| error::corrupt("organization state", e))?,
        };
        Ok(Some((
            token(r.id, r.user_id, &r.digest, r.expires_at, r.created_at, r.last_used_at, r.scope.as_deref())?,
            owner,
        )))
    }

    async fn delete(&self, id: PatId) -> RepoResult<()> {
        let res = pat::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::PAT, e))?;
        expect_one(res.rows_affected, error::PAT.name)
    }

    async fn expire(&self, id: PatId, at: Timestamp) -> RepoResult<bool> {
        let res = pat::Entity::update_many()
            .col_expr(pat::Column::ExpiresAt, Expr::value(at))
            .filter(pat::Column::Id.eq(*id.as_uuid()))
            .filter(pat::Column::ExpiresAt.gt(at))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::PAT, e))?;
        Ok(res.rows_affected == 1)
    }

    async fn list(&self, q: &PatQuery) -> RepoResult<Listed<PatWithOwner>> {
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
            PatSort::CreatedAt => select.order_by(pat::Column::CreatedAt, order.clone()),
            PatSort::ExpiresAt => select.order_by(pat::Column::ExpiresAt, order.clone()),
            PatSort::Id => select,
            PatSort::User => select.order_by(pat::Column::UserId, order.clone()),
            PatSort::Org => select.order_by(user::Column::OrgId, order.clone()),
        };
        let rows = select
            .order_by(pat::Column::Id, order)
            .offset(offset)
            .limit(limit)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(Listed { items: rows.into_iter().map(with_owner).collect::<RepoResult<_>>()?, total })
    }

    async fn record_last_used(&self, uses: &[(PatId, Timestamp)]) -> RepoResult<()> {
        if uses.is_empty() {
            return Ok(());
        }
        // One UPDATE … SET last_used_at = CASE id WHEN … END WHERE id IN (…) per batch.
        let mut case = CaseStatement::new();
        for (id, at) in uses {
            case = case.case(pat::Column::Id.eq(*id.as_uuid()), Expr::val(*at));
        }
        let ids: Vec<Uuid> = uses.iter().map(|(id, _)| *id.as_uuid()).collect();
        pat::Entity::update_many()
            .col_expr(pat::Column::LastUsedAt, case.into())
            .filter(pat::Column::Id.is_in(ids))
            .exec(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::PAT, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored scope reads back as written; a corrupt one is an error, never
    /// "no scope", which would give the token all rights of its user.
    #[test]
    fn scopes_round_trip_and_corrupt_ones_are_errors() {
        let org = OrgId::from_uuid(Uuid::from_u128(1));
        let project = ProjectId::from_uuid(Uuid::from_u128(2));
        let scope = TokenScope::new(vec![org], vec![project], &["user.read"]).unwrap().unwrap();
        assert_eq!(parse_scope(&scope_text(&scope)).unwrap(), scope);
        for corrupt in [
            "{}",
            "null",
            "not json",
            r#"{"orgs": [], "projects": [], "permissions": []}"#,
            r#"{"orgs": ["x"], "projects": [], "permissions": []}"#,
            r#"{"orgs": [], "projects": [], "permissions": ["user.reed"]}"#,
            r#"{"orgs": [], "projects": [], "permissions": "user.read"}"#,
        ] {
            assert!(parse_scope(corrupt).is_err(), "{corrupt}");
        }
    }
}
