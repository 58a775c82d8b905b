//! Application services: the use cases of Tessera, each checking the caller's
//! permission, validating input, changing state in one transaction with its audit
//! event, and returning domain objects. The Connect API and the console both call
//! these; neither contains business rules of its own.

pub mod admins;
pub mod applications;
pub mod authorizations;
pub mod keys;
pub mod metadata;
pub mod orgs;
pub mod pats;
pub mod policy;
pub mod projects;
pub mod secrets;
pub mod users;

use tessera_domain::Timestamp;
use tessera_domain::audit::AuditEvent;
use tessera_domain::permission::Target;
use tessera_domain::repo::Transaction;
use tessera_domain::user::User;
use tessera_domain::{OrgId, UserId};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ServiceError;

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Who is asking, and with what. Owns cheap clones (the state is a handful of
/// `Arc`s) so handlers need no lifetimes.
#[derive(Clone)]
pub struct Ctx {
    /// Shared state.
    pub state: AppState,
    /// The authenticated caller.
    pub caller: Caller,
}

impl Ctx {
    /// A context for `caller`.
    #[must_use]
    pub fn new(state: AppState, caller: Caller) -> Self {
        Self { state, caller }
    }

    /// The current time.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.state.clock.now()
    }

    /// Fails with `permission_denied` unless the caller holds `permission` on `target`.
    ///
    /// # Errors
    /// `permission_denied`.
    pub fn require(&self, permission: &'static str, target: Target) -> ServiceResult<()> {
        if self.caller.can(permission, target) {
            Ok(())
        } else {
            Err(ServiceError::denied(format!("missing permission {permission}")))
        }
    }

    /// Like [`Ctx::require`], but a user may always act on itself.
    ///
    /// # Errors
    /// `permission_denied`.
    pub fn require_on_user(&self, permission: &'static str, user: &User) -> ServiceResult<()> {
        if user.id == self.caller.user_id {
            return Ok(());
        }
        self.require(permission, Target::Org(user.org_id))
    }

    /// An audit event by the caller.
    #[must_use]
    pub fn event(&self, action: &str, target_type: &str, target_id: impl ToString, org: Option<OrgId>) -> AuditEvent {
        AuditEvent::new(self.now(), Some(self.caller.user_id), action, target_type, target_id, org)
    }

    /// Starts a transaction.
    ///
    /// # Errors
    /// When the database is unavailable.
    pub async fn begin(&self) -> ServiceResult<Box<dyn Transaction>> {
        Ok(self.state.store.begin().await?)
    }

    /// Loads a user or fails with `not_found`.
    ///
    /// # Errors
    /// `not_found`, or a database error.
    pub async fn user(&self, id: UserId) -> ServiceResult<User> {
        self.state.store.users().get(id).await?.ok_or_else(|| ServiceError::not_found("user not found"))
    }

    /// The user `id` for a read-only call, from the cache when it holds it
    /// (changes go through [`Ctx::user`], which always reads the database).
    ///
    /// # Errors
    /// `not_found`, database errors.
    pub async fn user_for_reading(&self, id: UserId) -> ServiceResult<User> {
        let load = || async { self.user(id).await.map(std::sync::Arc::new) };
        let user = self.state.caches.users.get_or_load(id, load).await?;
        Ok(User::clone(&user))
    }
}

/// Runs CPU-heavy work (argon2, RSA key generation) off the async runtime, in
/// the bounded slots it shares with password hashing (DESIGN.md §8).
///
/// # Errors
/// `unavailable` at once when the slots and their queue are full; `internal`
/// when the blocking task panicked.
pub(crate) async fn blocking<T: Send + 'static>(ctx: &Ctx, f: impl FnOnce() -> T + Send + 'static) -> ServiceResult<T> {
    Ok(ctx.state.hasher.slots().run(f).await?)
}
