//! The one credential validator (DESIGN.md §4): every path that accepts a bearer
//! credential — the management API, userinfo, introspection — asks this, so a
//! removal, expiry, revocation or suspension is seen everywhere at once.
//!
//! Three kinds of bearer credential:
//! - personal access tokens (`tsr_pat_…`): one point read by the embedded id that
//!   also returns the owner's state, one SHA-256, a constant-time compare;
//! - opaque access tokens (`tsr_at_…`): the same, from the access token table;
//! - JWT access tokens: signature and expiry against the instance keys in
//!   memory, then one read of the revocation ledger and one of the owner's
//!   state — a JWT is never trusted on its signature alone.
//!
//! Garbage is refused before any I/O (checksum, length, structure). No password
//! KDF, no scan, no write (last use of PATs is batched).
//!
//! What checked out is kept for a moment in a cache of verified credentials
//! ([`tessera_domain::cache`]): keyed by the token's id, holding the digest of
//! the whole token (compared in constant time on every hit, so only the very
//! token that was verified matches), never answering past the token's expiry,
//! and dropped at once by any committed change on this node (and on the other
//! nodes of a shared PostgreSQL when its notification arrives, one second at
//! most otherwise).

use std::sync::Arc;

use chrono::Duration;
use tessera_domain::cache::{CachePolicy, EpochCache, ReadTicket};
use tessera_domain::pat::SecretDigest;
use tessera_domain::repo::{CredentialOwner, RepoError, Store};
use tessera_domain::token_scope::TokenScope;
use tessera_domain::{AccessTokenId, Clock, ConsoleSessionId, OrgId, PatId, Timestamp, UserId};
use uuid::Uuid;

use crate::credential::{self, CredentialKind, ParsedCredential};
use crate::jwt_access_token;
use crate::keyring::KeyRing;
use crate::scope::ZITADEL_API_AUDIENCE_SCOPE;
use crate::usage::UsageRecorder;

/// Which credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialRef {
    /// A personal access token.
    Pat(PatId),
    /// An opaque access token.
    AccessToken(AccessTokenId),
    /// A JWT access token (its `jti`).
    Jwt(AccessTokenId),
    /// A console login session (cookie), never a bearer credential.
    ConsoleSession(ConsoleSessionId),
}

/// A caller whose credential checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user the credential acts as.
    pub user_id: UserId,
    /// The user's organization.
    pub org_id: OrgId,
    /// The credential used.
    pub credential: CredentialRef,
    /// The scope a fine-grained PAT is limited to (docs/pat-hygiene.md); `None`
    /// for every other credential.
    pub scope: Option<Arc<TokenScope>>,
}

/// Everything known about a live bearer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedToken {
    /// Who it acts as.
    pub auth: Authenticated,
    /// The client it was issued to: the machine user's id for the JWT Profile
    /// grant, its username for client credentials (stored with an opaque token,
    /// the `client_id` claim of a JWT); none for PATs.
    pub client_id: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The audience.
    pub audience: Vec<String>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// The federated credential it was exchanged for, if any.
    pub federated_credential: Option<String>,
}

impl ResolvedToken {
    /// Whether the audience contains `aud`.
    #[must_use]
    pub fn has_audience(&self, aud: &str) -> bool {
        self.audience.iter().any(|a| a == aud)
    }
}

/// Why a credential was refused. Deliberately coarse: a caller learns that its
/// credential is not good, not which check failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed, unknown, removed, revoked, expired, for another audience, or
    /// its user or organization is not active.
    #[error("the credential is invalid, expired or revoked")]
    InvalidToken,
    /// A live access token whose audience does not include the management API
    /// ([`Validator::validate`] only). Telling its holder so leaks nothing: the
    /// token is good, only meant for another resource.
    #[error("the access token's audience does not include the API")]
    NotForApi,
    /// The store could not answer.
    #[error("cannot check the credential")]
    Store(#[from] RepoError),
}

/// What the validator checks JWTs against.
#[derive(Clone)]
pub struct JwtSettings {
    /// The signing keys.
    pub keys: Arc<KeyRing>,
    /// The expected `iss`.
    pub issuer: String,
    /// Allowed clock difference on `exp` and `nbf`.
    pub skew: Duration,
}

/// Checks bearer credentials.
pub struct Validator {
    clock: Arc<dyn Clock>,
    usage: Arc<UsageRecorder>,
    api_audience: String,
    jwt: Option<JwtSettings>,
    verified: Option<EpochCache<CacheKey, Verified>>,
}

/// A verified credential's cache key: its kind and id, never the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CacheKey {
    Pat(Uuid),
    AccessToken(Uuid),
    Jwt(Uuid),
}

/// What the cache remembers of a verified credential: the digest of the whole
/// token and what it resolved to.
#[derive(Clone)]
struct Verified {
    digest: SecretDigest,
    resolved: Arc<ResolvedToken>,
}

/// Each permission of a fine-grained PAT is listed in its `scope` as this
/// prefix and the permission's name (docs/pat-hygiene.md).
pub const PERMISSION_SCOPE_PREFIX: &str = "urn:tessera:permission:";

/// The scopes a PAT carries: it acts on the API with all rights of its user,
/// or those its scope lets through, each named.
fn pat_scopes(scope: Option<&TokenScope>) -> Vec<String> {
    let mut scopes: Vec<String> =
        ["openid", "profile", "email", ZITADEL_API_AUDIENCE_SCOPE].map(str::to_owned).to_vec();
    if let Some(scope) = scope {
        scopes.extend(scope.permissions().iter().map(|p| format!("{PERMISSION_SCOPE_PREFIX}{p}")));
    }
    scopes
}

fn live(owner: &CredentialOwner) -> Result<(), AuthError> {
    if owner.is_active() && owner.is_machine { Ok(()) } else { Err(AuthError::InvalidToken) }
}

impl Validator {
    /// A validator that reads time from `clock`, notes PAT uses in `usage`, and
    /// accepts access tokens for the API when their audience holds
    /// `api_audience`. Without `jwt`, JWT access tokens are refused.
    pub fn new(
        clock: Arc<dyn Clock>,
        usage: Arc<UsageRecorder>,
        api_audience: String,
        jwt: Option<JwtSettings>,
    ) -> Self {
        Self { clock, usage, api_audience, jwt, verified: None }
    }

    /// Keeps verified credentials in a cache following `store`'s epoch.
    #[must_use]
    pub fn with_cache(mut self, store: &dyn Store, policy: CachePolicy) -> Self {
        self.verified = Some(EpochCache::new(store.epoch().clone(), policy));
        self
    }

    /// A cached verification of `token` under `key`, if any is still good.
    fn cached(&self, key: CacheKey, token: &str, now: Timestamp) -> Option<ResolvedToken> {
        let hit = self.verified.as_ref()?.get(&key)?;
        (credential::matches_digest(token, &hit.digest) && now < hit.resolved.expires_at)
            .then(|| ResolvedToken::clone(&hit.resolved))
    }

    /// Caches `resolved` for the token whose digest is `digest` (already
    /// compared with the presented token).
    fn remember(&self, key: CacheKey, digest: SecretDigest, resolved: &ResolvedToken, ticket: Option<ReadTicket>) {
        if let (Some(cache), Some(ticket)) = (&self.verified, ticket) {
            cache.insert(key, Verified { digest, resolved: Arc::new(resolved.clone()) }, ticket);
        }
    }

    fn ticket(&self) -> Option<ReadTicket> {
        self.verified.as_ref().map(EpochCache::ticket)
    }

    /// The last-use notes this validator writes.
    #[must_use]
    pub fn usage(&self) -> &Arc<UsageRecorder> {
        &self.usage
    }

    /// The audience an access token needs to call the management API.
    #[must_use]
    pub fn api_audience(&self) -> &str {
        &self.api_audience
    }

    /// Checks a credential for the management API: a PAT, or an access token
    /// whose audience includes the API (`urn:zitadel:iam:org:project:id:zitadel:aud`).
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for anything but a live credential of an
    /// active user in an active organization, [`AuthError::NotForApi`] for one
    /// whose audience lacks the API; [`AuthError::Store`] when the
    /// database fails.
    pub async fn validate(&self, repos: &dyn Store, token: &str) -> Result<Authenticated, AuthError> {
        let resolved = self.resolve(repos, token).await?;
        if !resolved.has_audience(&self.api_audience) {
            return Err(AuthError::NotForApi);
        }
        Ok(resolved.auth)
    }

    /// Resolves any live bearer credential, whatever its audience (userinfo,
    /// introspection).
    ///
    /// # Errors
    /// As [`Validator::validate`].
    pub async fn resolve(&self, repos: &dyn Store, token: &str) -> Result<ResolvedToken, AuthError> {
        if token.bytes().filter(|b| *b == b'.').count() == 2 {
            return self.resolve_jwt(repos, token).await;
        }
        let parsed = ParsedCredential::parse(None, token).map_err(|_| AuthError::InvalidToken)?;
        let now = self.clock.now();
        match parsed.kind() {
            CredentialKind::Pat => {
                let id = PatId::from_uuid(parsed.id());
                let key = CacheKey::Pat(parsed.id());
                if let Some(hit) = self.cached(key, token, now) {
                    self.usage.record(id, now);
                    return Ok(hit);
                }
                let ticket = self.ticket();
                let Some((pat, owner)) = repos.pats().find_for_auth(id).await? else {
                    return Err(AuthError::InvalidToken);
                };
                if !parsed.verify(&pat.digest) || pat.is_expired(now) {
                    return Err(AuthError::InvalidToken);
                }
                live(&owner)?;
                self.usage.record(id, now);
                let resolved = ResolvedToken {
                    auth: Authenticated {
                        user_id: owner.user_id,
                        org_id: owner.org_id,
                        credential: CredentialRef::Pat(id),
                        scope: pat.scope.clone().map(Arc::new),
                    },
                    client_id: None,
                    scopes: pat_scopes(pat.scope.as_ref()),
                    audience: vec![self.api_audience.clone()],
                    issued_at: pat.created_at,
                    expires_at: pat.expires_at,
                    federated_credential: None,
                };
                self.remember(key, pat.digest, &resolved, ticket);
                Ok(resolved)
            }
            CredentialKind::AccessToken => {
                let id = AccessTokenId::from_uuid(parsed.id());
                let key = CacheKey::AccessToken(parsed.id());
                if let Some(hit) = self.cached(key, token, now) {
                    return Ok(hit);
                }
                let ticket = self.ticket();
                let Some((at, owner)) = repos.access_tokens().find_for_auth(id).await? else {
                    return Err(AuthError::InvalidToken);
                };
                if !parsed.verify(&at.digest) || at.is_expired(now) {
                    return Err(AuthError::InvalidToken);
                }
                live(&owner)?;
                let digest = at.digest.clone();
                let resolved = ResolvedToken {
                    auth: Authenticated {
                        user_id: owner.user_id,
                        org_id: owner.org_id,
                        credential: CredentialRef::AccessToken(id),
                        scope: None,
                    },
                    client_id: Some(at.client_id),
                    scopes: at.scopes,
                    audience: at.audience,
                    issued_at: at.created_at,
                    expires_at: at.expires_at,
                    federated_credential: at.federated_credential.map(|c| c.to_string()),
                };
                self.remember(key, digest, &resolved, ticket);
                Ok(resolved)
            }
            CredentialKind::ClientSecret | CredentialKind::ConsoleSession => Err(AuthError::InvalidToken),
        }
    }

    async fn resolve_jwt(&self, repos: &dyn Store, token: &str) -> Result<ResolvedToken, AuthError> {
        let Some(jwt) = &self.jwt else { return Err(AuthError::InvalidToken) };
        let now = self.clock.now();
        // The id read unverified only finds the entry; the entry matches only
        // the very token that was verified.
        let key = jwt_access_token::unverified_id(token).and_then(|jti| Uuid::parse_str(&jti).ok()).map(CacheKey::Jwt);
        if let Some(hit) = key.and_then(|key| self.cached(key, token, now)) {
            return Ok(hit);
        }
        let ticket = self.ticket();
        let claims = jwt_access_token::verify(token, &jwt.keys.keys(), &jwt.issuer, now, jwt.skew)
            .map_err(|_| AuthError::InvalidToken)?;
        let id = AccessTokenId::parse(&claims.jti).map_err(|_| AuthError::InvalidToken)?;
        let user = UserId::parse(&claims.sub).map_err(|_| AuthError::InvalidToken)?;
        if repos.revoked_jwts().is_revoked(&claims.jti).await? {
            return Err(AuthError::InvalidToken);
        }
        let owner = repos.users().owner(user).await?.ok_or(AuthError::InvalidToken)?;
        live(&owner)?;
        let (issued_at, expires_at) = match (timestamp(claims.iat), claims.expires_at()) {
            (Some(i), Some(e)) => (i, e),
            _ => return Err(AuthError::InvalidToken),
        };
        let resolved = ResolvedToken {
            auth: Authenticated {
                user_id: owner.user_id,
                org_id: owner.org_id,
                credential: CredentialRef::Jwt(id),
                scope: None,
            },
            client_id: Some(claims.client_id.clone()),
            scopes: claims.scopes().map(str::to_owned).collect(),
            federated_credential: claims
                .extra
                .get(crate::grant::FEDERATED_CREDENTIAL_CLAIM)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            audience: claims.aud,
            issued_at,
            expires_at,
        };
        if let Some(key) = key {
            self.remember(key, credential::digest_secret(token), &resolved, ticket);
        }
        Ok(resolved)
    }
}

fn timestamp(secs: i64) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(secs, 0)
}
