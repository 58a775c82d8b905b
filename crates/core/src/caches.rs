//! What API calls read again and again, cached under the store's epoch
//! ([`tessera_domain::cache`]): every committed change drops it all.

use std::sync::Arc;

use tessera_domain::UserId;
use tessera_domain::cache::{CachePolicy, EpochCache};
use tessera_domain::permission::{Grants, Scope};
use tessera_domain::repo::{RepoResult, Store};
use tessera_domain::user::User;

use crate::Core;

/// The caches of the use cases and of the callers' roles.
pub struct ApiCaches {
    /// Callers' administrator roles by user.
    pub grants: EpochCache<UserId, Grants>,
    /// Users by id (for the read-only calls).
    pub users: EpochCache<UserId, Arc<User>>,
    /// Whether a machine user has a client secret.
    pub has_secret: EpochCache<UserId, bool>,
}

impl ApiCaches {
    /// Empty caches following `store`'s epoch under `policy`.
    #[must_use]
    pub fn new(store: &dyn Store, policy: CachePolicy) -> Self {
        let epoch = store.epoch();
        Self {
            grants: EpochCache::new(epoch.clone(), policy),
            users: EpochCache::new(epoch.clone(), policy),
            has_secret: EpochCache::new(epoch.clone(), policy),
        }
    }
}

/// A user's administrator roles, from the cache when it holds them (the API's
/// and the console's actors).
///
/// # Errors
/// Database errors.
pub async fn grants_of(core: &Core, user: UserId) -> RepoResult<Grants> {
    core.caches.grants.get_or_load(user, || load_grants(core.store.as_ref(), user)).await
}

/// Loads a user's administrator roles from the database.
///
/// # Errors
/// Database errors.
pub async fn load_grants(store: &dyn tessera_domain::repo::Repos, user: UserId) -> RepoResult<Grants> {
    let admins = store.admins().list_for_user(user).await?;
    Ok(Grants::new(
        admins
            .into_iter()
            .flat_map(|a| a.roles.iter().map(move |r| (a.scope, r)).collect::<Vec<_>>())
            .collect::<Vec<(Scope, _)>>(),
    ))
}
