//! What the token, introspection and revocation endpoints keep between calls
//! (DESIGN.md §6), all following the store's epoch ([`tessera_domain::cache`]):
//! every entry is dropped by the next committed change and lives one second
//! at most. Entries are keyed by ids; what a client presents (a secret, an
//! assertion, a token) is still checked against the cached row on every call.

use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;

use tessera_domain::cache::{CachePolicy, EpochCache};
use tessera_domain::repo::{AppForAuth, AppKeyForAuth, KeysForAuth, RepoResult, SecretForAuth, Store};
use tessera_domain::user::User;
use tessera_domain::{AppKeyId, ProjectId, SecretId, UserId};
use uuid::Uuid;

/// The caches of the [`crate::grant::TokenService`].
pub(crate) struct Caches {
    /// API applications by client id.
    pub(crate) apps: EpochCache<String, Arc<AppForAuth>>,
    /// API application keys by id.
    pub(crate) app_keys: EpochCache<AppKeyId, Arc<AppKeyForAuth>>,
    /// Active introspection answers by token id and asking project; served
    /// only after the token itself checked out again.
    pub(crate) answers: EpochCache<(Uuid, ProjectId), Arc<str>>,
    /// Machine users' client secrets by secret id.
    pub(crate) secrets: EpochCache<SecretId, Arc<SecretForAuth>>,
    /// Machine users' registered keys by user.
    pub(crate) machine_keys: EpochCache<UserId, Arc<KeysForAuth>>,
    /// Users by id.
    pub(crate) users: EpochCache<UserId, Arc<User>>,
}

impl Caches {
    pub(crate) fn new(store: &dyn Store, policy: CachePolicy) -> Self {
        let epoch = store.epoch();
        Self {
            apps: EpochCache::new(epoch.clone(), policy),
            app_keys: EpochCache::new(epoch.clone(), policy),
            answers: EpochCache::new(epoch.clone(), policy),
            secrets: EpochCache::new(epoch.clone(), policy),
            machine_keys: EpochCache::new(epoch.clone(), policy),
            users: EpochCache::new(epoch.clone(), policy),
        }
    }
}

/// `load()`'s row for `key`, through `cache` when there is one.
pub(crate) async fn through<K, V, F, Fut>(
    cache: Option<&EpochCache<K, Arc<V>>>,
    key: K,
    load: F,
) -> RepoResult<Option<Arc<V>>>
where
    K: Hash + Eq,
    F: FnOnce() -> Fut,
    Fut: Future<Output = RepoResult<Option<V>>>,
{
    let find = || async { Ok(load().await?.map(Arc::new)) };
    match cache {
        Some(cache) => cache.get_or_find(key, find).await,
        None => find().await,
    }
}
