//! Tessera's use cases: every command and query, each taking the [`Actor`] who
//! asks and the injected ports (store, clock, randomness), checking the actor's
//! permission, validating input, changing state in one transaction with its
//! audit event, and returning domain objects. The Connect API, the console, the
//! bootstrap and the operator commands all call these; none of them holds a rule
//! of its own, and nothing here knows about HTTP or SQL (docs/architecture.md).
//!
//! **The concurrency rule.** A mutation does its slow work (argon2, RSA key
//! generation) first, then opens its transaction, reads the row it changes
//! *inside* it with [`tessera_domain::repo`]'s `lock` (`SELECT … FOR UPDATE` on
//! PostgreSQL; the single writer connection on SQLite), checks the permission
//! and the preconditions again on what it read, and writes only the columns it
//! changes. So a state change (deactivate, lock, delete, rotate, remove) can
//! never be undone by a concurrent change to something else.

pub mod admins;
pub mod applications;
pub mod authorizations;
mod caches;
mod containment;
mod error;
pub mod federation;
pub mod keys;
pub mod metadata;
pub mod orgs;
pub mod pats;
pub mod policy;
pub mod projects;
mod random;
pub mod secrets;
pub mod sessions;
pub mod users;
pub mod web_keys;
pub mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use tessera_domain::audit::AuditEvent;
use tessera_domain::permission::{Grants, Target};
use tessera_domain::repo::{Store, Transaction};
use tessera_domain::user::User;
use tessera_domain::{Clock, OrgId, Rng, Timestamp, UserId};
use tessera_oauth::password::PasswordHasher;
use tessera_oauth::validator::CredentialRef;

pub use caches::{ApiCaches, grants_of, load_grants};
pub use error::{RETRY_AFTER_SECS, ServiceError};
pub use random::{OsRandom, RngRef, SeededRandom};

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Who is asking: the user a credential acts as, through which credential, with
/// which administrator roles. The API's and the console's authentication build
/// it; the bootstrap and the operator commands use [`Actor::system`].
#[derive(Debug, Clone)]
pub struct Actor {
    /// The user the credential acts as.
    pub user_id: UserId,
    /// The user's organization.
    pub org_id: OrgId,
    /// The credential used; `None` for the server itself (bootstrap, operator
    /// commands run on the server's database).
    pub credential: Option<CredentialRef>,
    /// The actor's administrator roles (a PAT acts with all rights of its user).
    pub grants: Grants,
}

impl Actor {
    /// Whether the actor holds `permission` on `target`.
    #[must_use]
    pub fn can(&self, permission: &str, target: Target) -> bool {
        self.grants.allows(permission, target)
    }

    /// The actor's own user, for the lists that always show a caller itself
    /// (`own_user` of a visibility) under `permission`: `None` when the token's
    /// scope withholds `permission` on the actor's organization.
    #[must_use]
    pub fn own_user(&self, permission: &str) -> Option<UserId> {
        let limit = self.grants.limit();
        limit.is_none_or(|l| l.allows(permission, Target::Org(self.org_id))).then_some(self.user_id)
    }

    /// The server acting for `user` of `org` with `grants`, without a
    /// credential: the bootstrap and the operator commands.
    #[must_use]
    pub fn system(user_id: UserId, org_id: OrgId, grants: Grants) -> Self {
        Self { user_id, org_id, credential: None, grants }
    }
}

/// Pause points for concurrency tests (CONVENTIONS.md §14): a test installs
/// [`Hooks`] that hold one use case at a point while its rival runs, so the bad
/// interleaving happens every time instead of by chance. Production has none.
#[async_trait]
pub trait Hooks: Send + Sync {
    /// `use_case` (e.g. `user.update`) has done its reads and slow work outside
    /// any transaction and is about to open the one that writes.
    async fn before_transaction(&self, use_case: &'static str, target: uuid::Uuid);
}

/// The ports every use case runs on. Cheap to clone (a handful of `Arc`s).
#[derive(Clone)]
pub struct Core {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// Where ids and generated credentials get their randomness.
    pub rng: Arc<dyn Rng>,
    /// argon2id for human passwords.
    pub hasher: PasswordHasher,
    /// What API calls read again and again ([`tessera_domain::cache`]).
    pub caches: Arc<ApiCaches>,
    /// Test pause points; `None` in production.
    pub hooks: Option<Arc<dyn Hooks>>,
    /// Event webhooks' sealer and sender; `None`: webhooks are unavailable.
    pub webhooks: Option<Arc<webhooks::Webhooks>>,
    /// The instance's signing keys, for the WebKeyService; `None` until the
    /// server has loaded them.
    pub signing_keys: Option<Arc<tessera_oauth::keyring::KeyRing>>,
}

impl Core {
    /// The use cases over `store`, with caching off.
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, rng: Arc<dyn Rng>, hasher: PasswordHasher) -> Self {
        let caches = Arc::new(ApiCaches::new(store.as_ref(), tessera_domain::cache::CachePolicy::OFF));
        Self { store, clock, rng, hasher, caches, hooks: None, webhooks: None, signing_keys: None }
    }

    /// The same, caching what every API call reads under `policy`.
    #[must_use]
    pub fn with_cache(mut self, policy: tessera_domain::cache::CachePolicy) -> Self {
        self.caches = Arc::new(ApiCaches::new(self.store.as_ref(), policy));
        self
    }

    /// Enables event webhooks.
    #[must_use]
    pub fn with_webhooks(mut self, webhooks: Arc<webhooks::Webhooks>) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// Enables the WebKeyService on the loaded signing keys.
    #[must_use]
    pub fn with_signing_keys(mut self, keys: Arc<tessera_oauth::keyring::KeyRing>) -> Self {
        self.signing_keys = Some(keys);
        self
    }

    /// The same with test pause points.
    #[must_use]
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// A context for `actor`.
    #[must_use]
    pub fn ctx(&self, actor: Actor) -> Ctx {
        Ctx { core: self.clone(), actor }
    }
}

/// One use case's view: the ports and the actor. Owns cheap clones so callers
/// need no lifetimes.
#[derive(Clone)]
pub struct Ctx {
    /// The ports.
    pub core: Core,
    /// Who is asking.
    pub actor: Actor,
}

impl Ctx {
    /// The current time.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.core.clock.now()
    }

    /// A fresh UUIDv7 from the injected clock and randomness.
    #[must_use]
    pub fn new_uuid(&self) -> uuid::Uuid {
        tessera_domain::rng::uuid_v7(self.now(), self.core.rng.as_ref())
    }

    /// The injected randomness as a `rand` generator.
    #[must_use]
    pub fn rng(&self) -> RngRef<'_> {
        RngRef::new(self.core.rng.as_ref())
    }

    /// Fails with `permission_denied` unless the actor holds `permission` on `target`.
    ///
    /// # Errors
    /// `permission_denied`.
    pub fn require(&self, permission: &'static str, target: Target) -> ServiceResult<()> {
        if self.actor.can(permission, target) {
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
        // A scoped token acts on its own user only as far as its scope reaches
        // (docs/pat-hygiene.md).
        if user.id == self.actor.user_id && self.actor.own_user(permission).is_some() {
            return Ok(());
        }
        self.require(permission, Target::Org(user.org_id))
    }

    /// An audit event by the actor.
    #[must_use]
    pub fn event(&self, action: &str, target_type: &str, target_id: impl ToString, org: Option<OrgId>) -> AuditEvent {
        let mut event = AuditEvent::new(self.now(), Some(self.actor.user_id), action, target_type, target_id, org);
        event.id = tessera_domain::AuditEventId::from_uuid(self.new_uuid());
        event
    }

    /// Starts a transaction.
    ///
    /// # Errors
    /// When the database is unavailable.
    pub async fn begin(&self) -> ServiceResult<Box<dyn Transaction>> {
        Ok(self.core.store.begin().await?)
    }

    /// Lets a test hold this use case before its writing transaction.
    pub async fn checkpoint(&self, use_case: &'static str, target: uuid::Uuid) {
        if let Some(hooks) = &self.core.hooks {
            hooks.before_transaction(use_case, target).await;
        }
    }

    /// Loads a user or fails with `not_found`.
    ///
    /// # Errors
    /// `not_found`, or a database error.
    pub async fn user(&self, id: UserId) -> ServiceResult<User> {
        self.core.store.users().get(id).await?.ok_or_else(|| ServiceError::not_found("user not found"))
    }

    /// The user `id` for a read-only call, from the cache when it holds it
    /// (changes read again inside their transaction).
    ///
    /// # Errors
    /// `not_found`, database errors.
    pub async fn user_for_reading(&self, id: UserId) -> ServiceResult<User> {
        let load = || async { self.user(id).await.map(Arc::new) };
        let user = self.core.caches.users.get_or_load(id, load).await?;
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
    Ok(ctx.core.hasher.slots().run(f).await?)
}
