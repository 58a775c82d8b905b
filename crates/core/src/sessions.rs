//! Console sessions: a human administrator logs in with a login name and a
//! password, gets a session credential (`tsr_sess_`, only its SHA-256 stored),
//! is recognised by it on every page, and logs out. The console's transport
//! (cookies, CSRF, the login throttle) lives in `tessera-http`; the rules live
//! here.

use chrono::Duration;
use secrecy::SecretString;
use serde_json::json;
use tessera_domain::audit::AuditEvent;
use tessera_domain::console_session::ConsoleSession;
use tessera_domain::permission::OrgFilter;
use tessera_domain::repo::{OrgQuery, OrgQueryFilter, OrgSort, Page, TextFilter, TextMethod};
use tessera_domain::user::User;
use tessera_domain::{ConsoleSessionId, OrgId};
use tessera_oauth::credential::{Credential, CredentialKind, IssuedCredential, ParsedCredential};
use tessera_oauth::validator::CredentialRef;

use crate::{Actor, Core, Ctx, ServiceResult, load_grants};

/// Longest login name looked up: a username and an organization name of 200
/// characters each and the `@`.
const MAX_LOGIN_NAME: usize = 401;

/// What a login attempt whose password was checked came to.
pub enum Login {
    /// A session was opened; its credential is returned here and never again.
    Opened {
        /// The `tsr_sess_` credential for the cookie.
        credential: IssuedCredential,
        /// The administrator.
        user: Box<User>,
    },
    /// Unknown name, wrong password, or a user who may not use the console
    /// (not an active human administrator of an active organization); the
    /// answer does not say which.
    Refused,
}

/// Finds the human user a console login name names (docs/console.md#login-names).
///
/// `username@organization` names the user in the organization of that name
/// (case-insensitive; the last `@` separates them, since usernames may contain
/// `@`). When no organization has that name, or there is no `@`, the whole
/// name is a username in the instance's default organization, where the
/// bootstrap admin lives. Each login name names at most one user by
/// construction (usernames are unique per organization), so a user created in
/// one organization never makes a login in another ambiguous.
///
/// # Errors
/// Database errors.
pub async fn resolve_login_name(core: &Core, login_name: &str) -> ServiceResult<Option<User>> {
    let login_name = login_name.trim();
    if login_name.is_empty() || login_name.chars().count() > MAX_LOGIN_NAME {
        return Ok(None);
    }
    let store = &core.store;
    if let Some((username, org_name)) = login_name.rsplit_once('@').filter(|(u, o)| !u.is_empty() && !o.is_empty()) {
        let org_key = org_name.to_lowercase();
        let orgs = store
            .orgs()
            .list(&OrgQuery {
                filters: vec![OrgQueryFilter::Name(TextFilter {
                    value: org_name.to_owned(),
                    method: TextMethod::EqualsIgnoreCase,
                })],
                visible: OrgFilter::All,
                sort: OrgSort::default(),
                page: Page { offset: 0, limit: 2, asc: true },
            })
            .await?;
        if let Some(org) = orgs.items.into_iter().find(|o| o.name.key() == org_key) {
            let user = store.users().find_by_username(org.id, username).await?;
            return Ok(user.filter(|u| !u.is_machine()));
        }
    }
    let Some(instance) = store.instance().get().await? else { return Ok(None) };
    let user = store.users().find_by_username(instance.default_org_id, login_name).await?;
    Ok(user.filter(|u| !u.is_machine()))
}

/// Checks a login name and password and, when they are right and the user may
/// use the console, opens a session of `lifetime`.
///
/// argon2id runs in the hasher's bounded slots; an unknown name is verified
/// against a dummy hash so that the answer takes as long (DESIGN.md §4). Only
/// active human users of active organizations with at least one administrator
/// role get in.
///
/// # Errors
/// Only when the password was *not* checked: database errors, or the hashing
/// slots are full (`unavailable`). A throttle counts [`Login::Refused`] as a
/// failed guess and gives an error's attempt back.
pub async fn login(core: &Core, login_name: &str, password: SecretString, lifetime: Duration) -> ServiceResult<Login> {
    let user = resolve_login_name(core, login_name).await?;
    let hash = user.as_ref().and_then(|u| u.human()).and_then(|h| h.password_hash.clone());
    let matches = core.hasher.verify_async(password, hash).await?;
    let Some(user) = user.filter(|_| matches) else { return Ok(Login::Refused) };
    let owner = core.store.users().owner(user.id).await?;
    let is_admin = !core.store.admins().list_for_user(user.id).await?.is_empty();
    if !owner.is_some_and(|o| o.is_active()) || !is_admin {
        return Ok(Login::Refused);
    }

    let now = core.clock.now();
    let ctx = core.ctx(Actor::system(user.id, user.org_id, tessera_domain::permission::Grants::none()));
    let id = ConsoleSessionId::from_uuid(ctx.new_uuid());
    let (credential, digest) = Credential::generate(CredentialKind::ConsoleSession, *id.as_uuid(), &mut ctx.rng());
    let session = ConsoleSession { id, user_id: user.id, digest, created_at: now, expires_at: now + lifetime };
    let tx = ctx.begin().await?;
    // Housekeeping on the way: sessions past their lifetime are useless rows.
    tx.console_sessions().purge_expired(now).await?;
    tx.console_sessions().insert(&session).await?;
    let mut event = AuditEvent::new(now, Some(user.id), "console.login", "console_session", id, Some(user.org_id))
        .with_details(json!({"expiresAt": session.expires_at}));
    event.id = tessera_domain::AuditEventId::from_uuid(ctx.new_uuid());
    tx.audit().append(&event).await?;
    tx.commit().await?;
    Ok(Login::Opened { credential, user: Box::new(user) })
}

/// A current console session: who it acts as.
pub struct Session {
    /// The session.
    pub id: ConsoleSessionId,
    /// The administrator, as the use cases see it.
    pub actor: Actor,
    /// The administrator.
    pub user: User,
}

/// The session a `tsr_sess_` credential names, when it is current: known,
/// unexpired, of an active human user of an active organization. Each call
/// reads the session, the user and its roles, so a removed role, a locked user
/// or a logout takes effect on the next click.
///
/// # Errors
/// Database errors only; anything wrong with the credential is `None`.
pub async fn authenticate(core: &Core, credential: &str) -> ServiceResult<Option<Session>> {
    let Ok(parsed) = ParsedCredential::parse(Some(CredentialKind::ConsoleSession), credential) else {
        return Ok(None);
    };
    let id = ConsoleSessionId::from_uuid(parsed.id());
    let store = core.store.as_ref();
    let Some(session) = store.console_sessions().get(id).await? else { return Ok(None) };
    if !parsed.verify(&session.digest) || session.is_expired(core.clock.now()) {
        return Ok(None);
    }
    let Some(user) = store.users().get(session.user_id).await? else { return Ok(None) };
    let Some(owner) = store.users().owner(user.id).await? else { return Ok(None) };
    if !owner.is_active() || user.is_machine() {
        return Ok(None);
    }
    let grants = load_grants(store, user.id).await?;
    let actor =
        Actor { user_id: user.id, org_id: user.org_id, credential: Some(CredentialRef::ConsoleSession(id)), grants };
    Ok(Some(Session { id, actor, user }))
}

/// Ends `session` of the actor, whose organization is `org` (for the audit
/// trail). Ending a session that is already gone succeeds.
///
/// # Errors
/// Database errors.
pub async fn logout(ctx: &Ctx, session: ConsoleSessionId, org: OrgId) -> ServiceResult<()> {
    let tx = ctx.begin().await?;
    match tx.console_sessions().delete(session).await {
        Ok(()) | Err(tessera_domain::repo::RepoError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    tx.audit().append(&ctx.event("console.logout", "console_session", session, Some(org))).await?;
    tx.commit().await?;
    Ok(())
}
