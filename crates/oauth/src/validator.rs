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

use std::sync::Arc;

use chrono::Duration;
use tessera_domain::repo::{CredentialOwner, RepoError, Repos};
use tessera_domain::{AccessTokenId, Clock, ConsoleSessionId, OrgId, PatId, Timestamp, UserId};

use crate::credential::{CredentialKind, ParsedCredential};
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
}

/// Everything known about a live bearer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedToken {
    /// Who it acts as.
    pub auth: Authenticated,
    /// The client it was issued to (the machine username for its grants; none
    /// for PATs).
    pub client_id: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The audience.
    pub audience: Vec<String>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
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
}

/// The scopes a PAT carries: it acts with all rights of its user on the API.
fn pat_scopes() -> Vec<String> {
    ["openid", "profile", "email", ZITADEL_API_AUDIENCE_SCOPE].map(str::to_owned).to_vec()
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
        Self { clock, usage, api_audience, jwt }
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
    /// [`AuthError::InvalidToken`] for anything but such a live credential of an
    /// active user in an active organization; [`AuthError::Store`] when the
    /// database fails.
    pub async fn validate(&self, repos: &dyn Repos, token: &str) -> Result<Authenticated, AuthError> {
        let resolved = self.resolve(repos, token).await?;
        if !resolved.has_audience(&self.api_audience) {
            return Err(AuthError::InvalidToken);
        }
        Ok(resolved.auth)
    }

    /// Resolves any live bearer credential, whatever its audience (userinfo,
    /// introspection).
    ///
    /// # Errors
    /// As [`Validator::validate`].
    pub async fn resolve(&self, repos: &dyn Repos, token: &str) -> Result<ResolvedToken, AuthError> {
        if token.bytes().filter(|b| *b == b'.').count() == 2 {
            return self.resolve_jwt(repos, token).await;
        }
        let parsed = ParsedCredential::parse(None, token).map_err(|_| AuthError::InvalidToken)?;
        let now = self.clock.now();
        match parsed.kind() {
            CredentialKind::Pat => {
                let id = PatId::from_uuid(parsed.id());
                let Some((pat, owner)) = repos.pats().find_for_auth(id).await? else {
                    return Err(AuthError::InvalidToken);
                };
                if !parsed.verify(&pat.digest) || pat.is_expired(now) {
                    return Err(AuthError::InvalidToken);
                }
                live(&owner)?;
                self.usage.record(id, now);
                Ok(ResolvedToken {
                    auth: Authenticated {
                        user_id: owner.user_id,
                        org_id: owner.org_id,
                        credential: CredentialRef::Pat(id),
                    },
                    client_id: None,
                    scopes: pat_scopes(),
                    audience: vec![self.api_audience.clone()],
                    issued_at: pat.created_at,
                    expires_at: pat.expires_at,
                })
            }
            CredentialKind::AccessToken => {
                let id = AccessTokenId::from_uuid(parsed.id());
                let Some((at, owner)) = repos.access_tokens().find_for_auth(id).await? else {
                    return Err(AuthError::InvalidToken);
                };
                if !parsed.verify(&at.digest) || at.is_expired(now) {
                    return Err(AuthError::InvalidToken);
                }
                live(&owner)?;
                Ok(ResolvedToken {
                    auth: Authenticated {
                        user_id: owner.user_id,
                        org_id: owner.org_id,
                        credential: CredentialRef::AccessToken(id),
                    },
                    client_id: Some(at.client_id),
                    scopes: at.scopes,
                    audience: at.audience,
                    issued_at: at.created_at,
                    expires_at: at.expires_at,
                })
            }
            CredentialKind::ClientSecret | CredentialKind::ConsoleSession => Err(AuthError::InvalidToken),
        }
    }

    async fn resolve_jwt(&self, repos: &dyn Repos, token: &str) -> Result<ResolvedToken, AuthError> {
        let Some(jwt) = &self.jwt else { return Err(AuthError::InvalidToken) };
        let now = self.clock.now();
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
        Ok(ResolvedToken {
            auth: Authenticated { user_id: owner.user_id, org_id: owner.org_id, credential: CredentialRef::Jwt(id) },
            client_id: Some(claims.client_id.clone()),
            scopes: claims.scopes().map(str::to_owned).collect(),
            audience: claims.aud,
            issued_at,
            expires_at,
        })
    }
}

fn timestamp(secs: i64) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp(secs, 0)
}
