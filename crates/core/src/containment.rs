//! Privilege containment (DESIGN.md §7): no administrator changes the
//! credentials, state or profile of a user who holds a permission the
//! administrator lacks. ZITADEL's role table would let an `ORG_USER_MANAGER`
//! set the password of an `IAM_OWNER` in its organization and then act as that
//! owner; Tessera refuses (docs/security/model.md).

use std::collections::HashMap;

use tessera_domain::permission::Scope;
use tessera_domain::repo::Repos;
use tessera_domain::user::User;

use crate::{Ctx, ServiceError, ServiceResult, load_grants};

/// Fails with `permission_denied` unless the actor is `target` itself or holds
/// every permission `target` holds, on the same resources. Reads through
/// `repos`: the transaction that makes the change, so a role granted to the
/// target meanwhile is seen.
///
/// # Errors
/// `permission_denied`, database errors.
pub(crate) async fn require_contains(ctx: &Ctx, repos: &dyn Repos, target: &User) -> ServiceResult<()> {
    let own = target.id == ctx.actor.user_id;
    // A user may change itself, except through a scoped token: that token
    // must not give its user a credential or a change beyond its scope
    // (docs/pat-hygiene.md), so it is checked like another administrator.
    if own && ctx.actor.grants.limit().is_none() {
        return Ok(());
    }
    let theirs = load_grants(repos, target.id).await?;
    if theirs.pairs().is_empty() {
        return Ok(());
    }
    let mut project_orgs = HashMap::new();
    for (scope, _) in theirs.pairs() {
        if let Scope::Project(p) = *scope
            && let Some(project) = repos.projects().get(p).await?
        {
            project_orgs.insert(p, project.org_id);
        }
    }
    match ctx.actor.grants.first_uncovered(&theirs, |p| project_orgs.get(&p).copied()) {
        None => Ok(()),
        Some(role) if own => Err(ServiceError::denied(format!(
            "this token's scope withholds rights of its user's role {role}: a scoped token cannot change its own user beyond its scope"
        ))),
        Some(role) => Err(ServiceError::denied(format!(
            "the user holds {role}, which you lack: only an administrator with at least the same rights may change it"
        ))),
    }
}
