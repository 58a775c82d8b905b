//! [`AccessTokenRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    RelationTrait,
};
use tessera_domain::access_token::AccessToken;
use tessera_domain::pat::SecretDigest;
use tessera_domain::repo::{AccessTokenRepository, CredentialOwner, RepoResult};
use tessera_domain::{AccessTokenId, Timestamp, UserId};
use uuid::Uuid;

use super::{Ctx, expect_one, owner};
use crate::entity::{access_token, organization, user};
use crate::error;

/// A token row joined with everything the credential check needs.
#[derive(Debug, FromQueryResult)]
struct AuthRow {
    id: Uuid,
    user_id: Uuid,
    client_id: String,
    scopes: String,
    audience: String,
    digest: Vec<u8>,
    created_at: Timestamp,
    expires_at: Timestamp,
    federated_credential_id: Option<Uuid>,
    user_state: String,
    user_kind: String,
    org_id: Uuid,
    org_state: String,
}

/// Scopes are stored space-separated: RFC 6749 §3.3 scope tokens hold no spaces.
fn join_scopes(scopes: &[String]) -> RepoResult<String> {
    if scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
        return Err(error::corrupt("access token scopes", "a scope is empty or contains a space"));
    }
    Ok(scopes.join(" "))
}

fn split_scopes(s: &str) -> Vec<String> {
    s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn model(t: &AccessToken) -> RepoResult<access_token::ActiveModel> {
    let audience = serde_json::to_string(&t.audience).map_err(|e| error::corrupt("access token audience", e))?;
    Ok(access_token::ActiveModel {
        id: Set(*t.id.as_uuid()),
        user_id: Set(*t.user_id.as_uuid()),
        client_id: Set(t.client_id.clone()),
        scopes: Set(join_scopes(&t.scopes)?),
        audience: Set(audience),
        digest: Set(t.digest.as_bytes().to_vec()),
        created_at: Set(t.created_at),
        expires_at: Set(t.expires_at),
        federated_credential_id: Set(t.federated_credential.map(|c| *c.as_uuid())),
    })
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> AccessTokenRepository for Ctx<'_, C> {
    async fn insert(&self, t: &AccessToken) -> RepoResult<()> {
        self.insert_many(std::slice::from_ref(t)).await
    }

    async fn insert_many(&self, tokens: &[AccessToken]) -> RepoResult<()> {
        if tokens.is_empty() {
            return Ok(());
        }
        let models = tokens.iter().map(model).collect::<RepoResult<Vec<_>>>()?;
        access_token::Entity::insert_many(models)
            .exec_without_returning(self.write_addition()?)
            .await
            .map_err(|e| error::map(error::ACCESS_TOKEN, e))?;
        Ok(())
    }

    async fn find_for_auth(&self, id: AccessTokenId) -> RepoResult<Option<(AccessToken, CredentialOwner)>> {
        let row = access_token::Entity::find()
            .select_only()
            .columns([
                access_token::Column::Id,
                access_token::Column::UserId,
                access_token::Column::ClientId,
                access_token::Column::Scopes,
                access_token::Column::Audience,
                access_token::Column::Digest,
                access_token::Column::CreatedAt,
                access_token::Column::ExpiresAt,
                access_token::Column::FederatedCredentialId,
            ])
            .column_as(user::Column::State, "user_state")
            .column_as(user::Column::Kind, "user_kind")
            .column_as(user::Column::OrgId, "org_id")
            .column_as(organization::Column::State, "org_state")
            .join(JoinType::InnerJoin, access_token::Relation::User.def())
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .filter(access_token::Column::Id.eq(*id.as_uuid()))
            .into_model::<AuthRow>()
            .one(self.conn)
            .await
            .map_err(error::db)?;
        let Some(r) = row else { return Ok(None) };
        let token = AccessToken {
            id: AccessTokenId::from_uuid(r.id),
            user_id: UserId::from_uuid(r.user_id),
            client_id: r.client_id,
            scopes: split_scopes(&r.scopes),
            audience: serde_json::from_str(&r.audience).map_err(|e| error::corrupt("access token audience", e))?,
            digest: SecretDigest::from_slice(&r.digest)
                .ok_or_else(|| error::corrupt("access token digest", "wrong length"))?,
            created_at: r.created_at,
            expires_at: r.expires_at,
            federated_credential: r.federated_credential_id.map(tessera_domain::FederatedCredentialId::from_uuid),
        };
        Ok(Some((token, owner(r.user_id, &r.user_state, &r.user_kind, r.org_id, &r.org_state)?)))
    }

    async fn delete(&self, id: AccessTokenId) -> RepoResult<()> {
        let res = access_token::Entity::delete_by_id(*id.as_uuid())
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::ACCESS_TOKEN, e))?;
        expect_one(res.rows_affected, error::ACCESS_TOKEN.name)
    }

    async fn purge_expired(&self, before: Timestamp) -> RepoResult<u64> {
        let res = access_token::Entity::delete_many()
            .filter(access_token::Column::ExpiresAt.lt(before))
            .exec(self.write_unaudited()?)
            .await
            .map_err(|e| error::map(error::ACCESS_TOKEN, e))?;
        Ok(res.rows_affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_spaces_are_refused() {
        let scopes = vec!["openid".to_owned(), "urn:zitadel:iam:org:project:id:zitadel:aud".to_owned()];
        assert_eq!(split_scopes(&join_scopes(&scopes).unwrap()), scopes);
        assert!(split_scopes("").is_empty());
        assert!(join_scopes(&["a b".to_owned()]).is_err());
    }
}
