//! The one credential validator (DESIGN.md §4): every path that accepts a bearer
//! credential — the management API, userinfo, introspection — asks this, so a
//! removal, expiry or suspension is seen everywhere at once.
//!
//! Cost of a check: a parse with checksum (no I/O for garbage), one indexed point
//! read that also returns the owner's state, one SHA-256 and a constant-time
//! compare. No password KDF, no scan, no write (last use is batched).

use std::sync::Arc;

use tessera_domain::repo::{RepoError, Repos};
use tessera_domain::{Clock, OrgId, PatId, UserId};

use crate::credential::{CredentialKind, ParsedCredential};
use crate::usage::UsageRecorder;

/// Which credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialRef {
    /// A personal access token.
    Pat(PatId),
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

/// Why a credential was refused. Deliberately coarse: a caller learns that its
/// credential is not good, not which check failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Malformed, unknown, removed, expired, or its user or organization is not
    /// active.
    #[error("the credential is invalid, expired or revoked")]
    InvalidToken,
    /// The store could not answer.
    #[error("cannot check the credential")]
    Store(#[from] RepoError),
}

/// Checks bearer credentials.
pub struct Validator {
    clock: Arc<dyn Clock>,
    usage: Arc<UsageRecorder>,
}

impl Validator {
    /// A validator that reads time from `clock` and notes uses in `usage`.
    pub fn new(clock: Arc<dyn Clock>, usage: Arc<UsageRecorder>) -> Self {
        Self { clock, usage }
    }

    /// The last-use notes this validator writes.
    #[must_use]
    pub fn usage(&self) -> &Arc<UsageRecorder> {
        &self.usage
    }

    /// Checks a bearer credential.
    ///
    /// # Errors
    /// [`AuthError::InvalidToken`] for anything but a live credential of an active
    /// user in an active organization; [`AuthError::Store`] when the database fails.
    pub async fn validate(&self, repos: &dyn Repos, token: &str) -> Result<Authenticated, AuthError> {
        let parsed = ParsedCredential::parse(Some(CredentialKind::Pat), token).map_err(|_| AuthError::InvalidToken)?;
        let id = PatId::from_uuid(parsed.id());
        let Some((pat, owner)) = repos.pats().find_for_auth(id).await? else {
            return Err(AuthError::InvalidToken);
        };
        let now = self.clock.now();
        if !parsed.verify(&pat.digest) || pat.is_expired(now) || !owner.is_active() || !owner.is_machine {
            return Err(AuthError::InvalidToken);
        }
        self.usage.record(id, now);
        Ok(Authenticated { user_id: owner.user_id, org_id: owner.org_id, credential: CredentialRef::Pat(id) })
    }
}
