//! Federated credentials of machine users (`crate::federation`).

use async_trait::async_trait;

use crate::federation::FederatedCredential;
use crate::{FederatedCredentialId, OrgId, UserId};

#[allow(clippy::wildcard_imports, reason = "the sibling modules' types, re-exported by the parent")]
use super::*;

/// Most credentials an exchange considers for one issuer and subject: more
/// than one matching is refused anyway (`Ambiguous`), so a few suffice to
/// tell, and the read stays bounded whatever the table holds.
pub const MAX_FEDERATED_CANDIDATES: u64 = 50;

/// A federated credential with its owner's organization.
#[derive(Debug, Clone)]
pub struct FederatedCredentialWithOwner {
    /// The credential.
    pub credential: FederatedCredential,
    /// The organization of its user.
    pub org_id: OrgId,
}

/// A federated credential with its owner's state, read together for an
/// exchange: a deactivated or locked user, or a deactivated organization,
/// is refused at once.
#[derive(Debug, Clone)]
pub struct FederatedForAuth {
    /// The credential.
    pub credential: FederatedCredential,
    /// Its user and organization, with their states.
    pub owner: CredentialOwner,
}

/// Federated credentials.
#[async_trait]
pub trait FederatedCredentialRepository: Send + Sync {
    /// Stores a new credential (in a transaction).
    async fn insert(&self, credential: &FederatedCredential) -> RepoResult<()>;
    /// One credential with its owner's organization.
    async fn get(&self, id: FederatedCredentialId) -> RepoResult<Option<FederatedCredentialWithOwner>>;
    /// Writes the parts of `after` that differ from `before` (in a transaction).
    async fn update(&self, before: &FederatedCredential, after: &FederatedCredential) -> RepoResult<()>;
    /// Removes a credential (in a transaction).
    async fn delete(&self, id: FederatedCredentialId) -> RepoResult<()>;
    /// The credentials of a user, oldest first.
    async fn list_for_user(&self, user: UserId) -> RepoResult<Vec<FederatedCredential>>;
    /// The credentials trusting `issuer` for `subject`, with their owners, at
    /// most [`MAX_FEDERATED_CANDIDATES`].
    async fn find_for_exchange(&self, issuer: &str, subject: &str) -> RepoResult<Vec<FederatedForAuth>>;
}
