//! `tessera.federation.v1.FederationService`: a machine user's federated
//! credentials (docs/federation.md), on every transport like the rest of the
//! API; no REST paths. The messages are the generated ones of
//! `proto/tessera/federation/v1`.
//!
//! - `AddFederatedCredential {userId, name, description, issuer, discovery |
//!   jwksUrl | jwks, subject, audience, conditions}` → `{id, creationDate,
//!   audience}`; an empty `audience` is Tessera's issuer URL
//! - `ListFederatedCredentials {userId}` → `{result}`
//! - `UpdateFederatedCredential {userId, id, …}` → `{changeDate}`: the fields
//!   given replace the stored ones
//! - `RemoveFederatedCredential {userId, id}` → `{deletionDate}`

use actix_web::web;
use tessera_core::Ctx;
use tessera_core::federation::{self, FederatedChange, NewFederated};
use tessera_domain::federation::{Audience, ClaimCondition, FederatedCredential, Issuer, KeySource, Subject};
use tessera_domain::names::{Description, DisplayName};
use tessera_domain::{FederatedCredentialId, UserId};
use tessera_proto::tessera::federation::v1 as pb;

use super::call::{Answer, Call};
use super::v2::{required_id, ts};
use crate::AppState;
use crate::error::{ApiError, ServiceError};

/// A key source named by one of the three oneof members every message has.
enum Keys<'a> {
    Discovery,
    Url(&'a str),
    Inline(&'a str),
}

fn key_source(keys: Keys<'_>) -> Result<KeySource, ServiceError> {
    Ok(match keys {
        Keys::Discovery => KeySource::Discovery,
        Keys::Url(url) => KeySource::jwks_url(url)?,
        Keys::Inline(jwks) => KeySource::inline(jwks)?,
    })
}

fn conditions(list: &[pb::ClaimCondition]) -> Result<Vec<ClaimCondition>, ServiceError> {
    list.iter().map(|c| ClaimCondition::parse(&c.claim, &c.pattern).map_err(Into::into)).collect()
}

fn wire(c: &FederatedCredential) -> pb::FederatedCredential {
    use pb::federated_credential::Keys as K;
    pb::FederatedCredential {
        id: c.id.to_string(),
        user_id: c.user_id.to_string(),
        name: c.name.as_str().to_owned(),
        description: c.description.as_str().to_owned(),
        issuer: c.issuer.as_str().to_owned(),
        keys: Some(match &c.key_source {
            KeySource::Discovery => K::Discovery(pb::Discovery {}),
            KeySource::JwksUrl(url) => K::JwksUrl(url.clone()),
            KeySource::Inline(jwks) => K::Jwks(jwks.clone()),
        }),
        subject: c.subject.as_str().to_owned(),
        audience: c.audience.as_str().to_owned(),
        conditions: c
            .conditions
            .iter()
            .map(|c| pb::ClaimCondition { claim: c.claim().to_owned(), pattern: c.pattern().to_owned() })
            .collect(),
        creation_date: ts(c.created_at),
        change_date: ts(c.updated_at),
    }
}

fn user_id(v: &str) -> Result<UserId, ServiceError> {
    required_id("userId", v, UserId::parse)
}

fn credential_id(v: &str) -> Result<FederatedCredentialId, ServiceError> {
    required_id("id", v, FederatedCredentialId::parse)
}

async fn add(
    ctx: Ctx,
    req: pb::AddFederatedCredentialRequest,
    own_issuer: String,
) -> Result<pb::AddFederatedCredentialResponse, ApiError> {
    use pb::add_federated_credential_request::Keys as K;
    let user = user_id(&req.user_id)?;
    let keys = match &req.keys {
        None | Some(K::Discovery(_)) => Keys::Discovery,
        Some(K::JwksUrl(url)) => Keys::Url(url),
        Some(K::Jwks(jwks)) => Keys::Inline(jwks),
    };
    let audience = if req.audience.is_empty() { own_issuer } else { req.audience };
    let new = NewFederated {
        name: DisplayName::parse("name", &req.name)?,
        description: Description::parse(&req.description)?,
        issuer: Issuer::parse(&req.issuer)?,
        key_source: key_source(keys)?,
        subject: Subject::parse(&req.subject)?,
        audience: Audience::parse(&audience)?,
        conditions: conditions(&req.conditions)?,
    };
    let added = federation::add(&ctx, user, new).await?;
    Ok(pb::AddFederatedCredentialResponse {
        id: added.id.to_string(),
        creation_date: ts(added.created_at),
        audience: added.audience.as_str().to_owned(),
    })
}

async fn list(
    ctx: Ctx,
    req: pb::ListFederatedCredentialsRequest,
) -> Result<pb::ListFederatedCredentialsResponse, ApiError> {
    let listed = federation::list(&ctx, user_id(&req.user_id)?).await?;
    Ok(pb::ListFederatedCredentialsResponse { result: listed.iter().map(wire).collect() })
}

async fn update(
    ctx: Ctx,
    req: pb::UpdateFederatedCredentialRequest,
) -> Result<pb::UpdateFederatedCredentialResponse, ApiError> {
    use pb::update_federated_credential_request::Keys as K;
    let (user, id) = (user_id(&req.user_id)?, credential_id(&req.id)?);
    let keys = match &req.keys {
        None => None,
        Some(K::Discovery(_)) => Some(Keys::Discovery),
        Some(K::JwksUrl(url)) => Some(Keys::Url(url)),
        Some(K::Jwks(jwks)) => Some(Keys::Inline(jwks)),
    };
    let change = FederatedChange {
        name: req.name.as_deref().map(|n| DisplayName::parse("name", n)).transpose()?,
        description: req.description.as_deref().map(Description::parse).transpose()?,
        issuer: req.issuer.as_deref().map(Issuer::parse).transpose()?,
        key_source: keys.map(key_source).transpose()?,
        subject: req.subject.as_deref().map(Subject::parse).transpose()?,
        audience: req.audience.as_deref().map(Audience::parse).transpose()?,
        conditions: req.conditions.as_ref().map(|c| conditions(&c.conditions)).transpose()?,
    };
    let updated = federation::update(&ctx, user, id, change).await?;
    Ok(pb::UpdateFederatedCredentialResponse { change_date: ts(updated.updated_at) })
}

async fn remove(
    ctx: Ctx,
    req: pb::RemoveFederatedCredentialRequest,
) -> Result<pb::RemoveFederatedCredentialResponse, ApiError> {
    federation::remove(&ctx, user_id(&req.user_id)?, credential_id(&req.id)?).await?;
    Ok(pb::RemoveFederatedCredentialResponse { deletion_date: ts(ctx.now()) })
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "AddFederatedCredential" => {
            // The default audience: this server's issuer URL.
            let issuer = call
                .request()
                .app_data::<web::Data<AppState>>()
                .map(|s| s.tokens.config().issuer.clone())
                .unwrap_or_default();
            call.run(move |ctx, req| add(ctx, req, issuer)).await
        }
        "ListFederatedCredentials" => call.run(list).await,
        "UpdateFederatedCredential" => call.run(update).await,
        "RemoveFederatedCredential" => call.run(remove).await,
        _ => return None,
    })
}
