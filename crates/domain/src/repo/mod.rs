//! Repository traits (ports). The persistence crate implements them for SQLite and
//! PostgreSQL; handlers only ever see these traits.
//!
//! Writes happen inside a [`Transaction`], which refuses to commit a change that
//! did not append an [`AuditEvent`] (DESIGN.md §5). Reads may run on the [`Store`]
//! directly, outside any transaction, which is what the hot paths do.
//!
//! One module per aggregate; everything is re-exported here, so callers name
//! `tessera_domain::repo::UserRepository` wherever it lives.

mod admin;
mod application;
mod authorization;
mod bookkeeping;
mod common;
mod credential;
mod federation;
mod org;
mod pat;
mod project;
mod user;
mod webhook;

pub use admin::*;
pub use application::*;
pub use authorization::*;
pub use bookkeeping::*;
pub use common::*;
pub use credential::*;
pub use federation::*;
pub use org::*;
pub use pat::*;
pub use project::*;
pub use user::*;
pub use webhook::*;

use std::sync::Arc;

use async_trait::async_trait;

use crate::cache::Epoch;

/// Access to every repository over one connection or transaction.
pub trait Repos: Send + Sync {
    /// The instance.
    fn instance(&self) -> Box<dyn InstanceRepository + '_>;
    /// Organizations.
    fn orgs(&self) -> Box<dyn OrgRepository + '_>;
    /// Users.
    fn users(&self) -> Box<dyn UserRepository + '_>;
    /// Administrator memberships.
    fn admins(&self) -> Box<dyn AdministratorRepository + '_>;
    /// Personal access tokens.
    fn pats(&self) -> Box<dyn PatRepository + '_>;
    /// User metadata.
    fn metadata(&self) -> Box<dyn MetadataRepository + '_>;
    /// Machine users' public keys.
    fn machine_keys(&self) -> Box<dyn MachineKeyRepository + '_>;
    /// Machine users' client secrets.
    fn machine_secrets(&self) -> Box<dyn MachineSecretRepository + '_>;
    /// Machine users' federated credentials.
    fn federated_credentials(&self) -> Box<dyn FederatedCredentialRepository + '_>;
    /// Instance signing keys.
    fn signing_keys(&self) -> Box<dyn SigningKeyRepository + '_>;
    /// Opaque access tokens.
    fn access_tokens(&self) -> Box<dyn AccessTokenRepository + '_>;
    /// Revoked JWT access tokens.
    fn revoked_jwts(&self) -> Box<dyn RevokedJwtRepository + '_>;
    /// Used assertion `jti`s.
    fn used_jtis(&self) -> Box<dyn UsedJtiRepository + '_>;
    /// Console login sessions.
    fn console_sessions(&self) -> Box<dyn ConsoleSessionRepository + '_>;
    /// The audit trail.
    fn audit(&self) -> Box<dyn AuditRepository + '_>;
    /// Projects and their roles.
    fn projects(&self) -> Box<dyn ProjectRepository + '_>;
    /// API applications and their keys.
    fn applications(&self) -> Box<dyn ApplicationRepository + '_>;
    /// Authorizations (user grants).
    fn authorizations(&self) -> Box<dyn AuthorizationRepository + '_>;
    /// Webhook targets and deliveries.
    fn webhooks(&self) -> Box<dyn WebhookRepository + '_>;
    /// Expiry notices.
    fn notices(&self) -> Box<dyn NoticeRepository + '_>;
}

/// A unit of work. Dropped without `commit`, it rolls back.
#[async_trait]
pub trait Transaction: Repos {
    /// Commits every change made through this transaction.
    ///
    /// # Errors
    /// [`RepoError::Unaudited`] (and a rollback) when something was written but
    /// no audit event appended; a database error otherwise.
    async fn commit(self: Box<Self>) -> RepoResult<()>;
}

/// The database.
#[async_trait]
pub trait Store: Repos {
    /// Starts a transaction.
    async fn begin(&self) -> RepoResult<Box<dyn Transaction>>;
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> RepoResult<()>;
    /// The engine in use.
    fn backend(&self) -> Backend;
    /// The epoch that every committed access-relevant change advances, on this
    /// node at once and on the other nodes of a shared PostgreSQL when the
    /// change's notification arrives ([`crate::cache`]).
    fn epoch(&self) -> &Arc<Epoch>;
}
