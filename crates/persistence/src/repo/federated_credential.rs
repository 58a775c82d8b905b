//! [`FederatedCredentialRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};
use tessera_domain::federation::{Audience, ClaimCondition, FederatedCredential, Issuer, KeySource, Subject};
use tessera_domain::names::{Description, DisplayName};
use tessera_domain::repo::{
    FederatedCredentialRepository, FederatedCredentialWithOwner, FederatedForAuth, MAX_FEDERATED_CANDIDATES, RepoResult,
};
use tessera_domain::{FederatedCredentialId, OrgId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one, owner};
use crate::entity::{federated_credential as fc, organization, user};
use crate::error;

/// A credential row with its owner (organization and states).
#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    user_id: Uuid,
    name: String,
    description: String,
    issuer: String,
    key_source: String,
    key_source_value: Option<String>,
    subject: String,
    audience: String,
    conditions: String,
    created_at: Timestamp,
    updated_at: Timestamp,
    org_id: Uuid,
    user_state: String,
    user_kind: String,
    org_state: String,
}

fn corrupt(what: &'static str) -> impl FnOnce(tessera_domain::ValidationError) -> tessera_domain::repo::RepoError {
    move |e| error::corrupt(what, e)
}

/// The `conditions` column: `[{"claim": …, "pattern": …}, …]`.
fn conditions_of(text: &str) -> RepoResult<Vec<ClaimCondition>> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| error::corrupt("federated conditions", e))?;
    // A column that is not a list is corrupt, never "no conditions": reading
    // it as empty would widen what the credential accepts.
    value
        .as_array()
        .ok_or_else(|| error::corrupt("federated conditions", "not a list"))?
        .iter()
        .map(|c| {
            ClaimCondition::parse(c["claim"].as_str().unwrap_or_default(), c["pattern"].as_str().unwrap_or_default())
                .map_err(|e| error::corrupt("federated condition", e))
        })
        .collect()
}

impl Row {
    fn credential(&self) -> RepoResult<FederatedCredential> {
        let key_source = match (self.key_source.as_str(), self.key_source_value.as_deref()) {
            ("discovery", _) => KeySource::Discovery,
            ("jwks_url", Some(url)) => KeySource::jwks_url(url).map_err(corrupt("federated JWKS URL"))?,
            ("inline", Some(jwks)) => KeySource::inline(jwks).map_err(corrupt("federated inline JWKS"))?,
            (kind, _) => return Err(error::corrupt("federated key source", format!("unknown kind {kind}"))),
        };
        Ok(FederatedCredential {
            id: FederatedCredentialId::from_uuid(self.id),
            user_id: UserId::from_uuid(self.user_id),
            name: DisplayName::parse("name", &self.name).map_err(corrupt("federated credential name"))?,
            description: Description::parse(&self.description).map_err(corrupt("federated credential description"))?,
            issuer: Issuer::parse(&self.issuer).map_err(corrupt("federated issuer"))?,
            key_source,
            subject: Subject::parse(&self.subject).map_err(corrupt("federated subject"))?,
            audience: Audience::parse(&self.audience).map_err(corrupt("federated audience"))?,
            conditions: conditions_of(&self.conditions)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The row's columns of a credential.
fn active(c: &FederatedCredential) -> fc::ActiveModel {
    let (kind, value) = match &c.key_source {
        KeySource::Discovery => ("discovery", None),
        KeySource::JwksUrl(url) => ("jwks_url", Some(url.clone())),
        KeySource::Inline(jwks) => ("inline", Some(jwks.clone())),
    };
    let conditions: Vec<serde_json::Value> =
        c.conditions.iter().map(|c| serde_json::json!({"claim": c.claim(), "pattern": c.pattern()})).collect();
    fc::ActiveModel {
        id: Set(*c.id.as_uuid()),
        user_id: Set(*c.user_id.as_uuid()),
        name: Set(c.name.as_str().to_owned()),
        description: Set(c.description.as_str().to_owned()),
        issuer: Set(c.issuer.as_str().to_owned()),
        key_source: Set(kind.to_owned()),
        key_source_value: Set(value),
        subject: Set(c.subject.as_str().to_owned()),
        audience: Set(c.audience.as_str().to_owned()),
        conditions: Set(serde_json::Value::Array(conditions).to_string()),
        created_at: Set(c.created_at),
        updated_at: Set(c.updated_at),
    }
}

/// `SELECT` of every credential column with the owner's organization and states.
fn select_with_owner() -> sea_orm::Select<fc::Entity> {
    fc::Entity::find()
        .select_only()
        .columns([
            fc::Column::Id,
            fc::Column::UserId,
            fc::Column::Name,
            fc::Column::Description,
            fc::Column::Issuer,
            fc::Column::KeySource,
            fc::Column::KeySourceValue,
            fc::Column::Subject,
            fc::Column::Audience,
            fc::Column::Conditions,
            fc::Column::CreatedAt,
            fc::Column::UpdatedAt,
        ])
        .column_as(user::Column::OrgId, "org_id")
        .column_as(user::Column::State, "user_state")
        .column_as(user::Column::Kind, "user_kind")
        .column_as(organization::Column::State, "org_state")
        .join(JoinType::InnerJoin, fc::Relation::User.def())
        .join(JoinType::InnerJoin, user::Relation::Organization.def())
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> FederatedCredentialRepository for Ctx<'_, C> {
    async fn insert(&self, c: &FederatedCredential) -> RepoResult<()> {
        fc::Entity::insert(active(c))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::FEDERATED_CREDENTIAL, e))?;
        Ok(())
    }

    async fn get(&self, id: FederatedCredentialId) -> RepoResult<Option<FederatedCredentialWithOwner>> {
        let row = select_with_owner()
            .filter(fc::Column::Id.eq(*id.as_uuid()))
            .into_model::<Row>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        row.map(|r| {
            Ok(FederatedCredentialWithOwner { credential: r.credential()?, org_id: OrgId::from_uuid(r.org_id) })
        })
        .transpose()
    }

    async fn update(&self, before: &FederatedCredential, after: &FederatedCredential) -> RepoResult<()> {
        self.write_changes(
            &active(before),
            active(after),
            sea_orm::Condition::all().add(fc::Column::Id.eq(*before.id.as_uuid())),
            error::FEDERATED_CREDENTIAL,
        )
        .await
    }

    async fn delete(&self, id: FederatedCredentialId) -> RepoResult<()> {
        let res = fc::Entity::delete_by_id(*id.as_uuid()).exec(self.write()?).await.map_err(error::db)?;
        expect_one(res.rows_affected, error::FEDERATED_CREDENTIAL.name)
    }

    async fn list_for_user(&self, user_id: UserId) -> RepoResult<Vec<FederatedCredential>> {
        select_with_owner()
            .filter(fc::Column::UserId.eq(*user_id.as_uuid()))
            .order_by_asc(fc::Column::CreatedAt)
            .order_by_asc(fc::Column::Id)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?
            .iter()
            .map(Row::credential)
            .collect()
    }

    async fn find_for_exchange(&self, issuer: &str, subject: &str) -> RepoResult<Vec<FederatedForAuth>> {
        select_with_owner()
            .filter(fc::Column::Issuer.eq(issuer))
            .filter(fc::Column::Subject.eq(subject))
            .order_by_asc(fc::Column::CreatedAt)
            .limit(MAX_FEDERATED_CANDIDATES)
            .into_model::<Row>()
            .all(self.conn)
            .await
            .map_err(error::db)?
            .iter()
            .map(|r| {
                Ok(FederatedForAuth {
                    credential: r.credential()?,
                    owner: owner(r.user_id, &r.user_state, &r.user_kind, r.org_id, &r.org_state)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A corrupt `conditions` column is an error, never "no conditions",
    /// which would widen what the credential accepts.
    #[test]
    fn corrupt_conditions_are_an_error_not_an_empty_list() {
        assert_eq!(conditions_of(r#"[{"claim":"ref","pattern":"refs/heads/*"}]"#).unwrap().len(), 1);
        assert!(conditions_of("[]").unwrap().is_empty());
        for corrupt in ["{}", "null", "\"ref\"", "not json", r#"[{"claim":"ref"}]"#] {
            assert!(conditions_of(corrupt).is_err(), "{corrupt}");
        }
    }
}
