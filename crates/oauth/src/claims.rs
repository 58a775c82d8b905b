//! Claims about a user, by scope (ZITADEL's reserved scopes): what userinfo,
//! ID tokens, JWT access tokens and introspection add beside the registered
//! claims. The loading reads only what the scopes ask for.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tessera_domain::repo::{Page, RepoResult, Repos};
use tessera_domain::user::{User, UserKind};
use tessera_domain::{OrgId, ProjectId, UserId};

use crate::roles;
use crate::scope::{self, Scopes};

/// Claim names ZITADEL uses.
pub mod names {
    /// The organization named by an `urn:zitadel:iam:org:id:{id}` scope.
    pub const ORG_ID: &str = "urn:zitadel:iam:org:id";
    /// The user's organization id.
    pub const RESOURCEOWNER_ID: &str = "urn:zitadel:iam:user:resourceowner:id";
    /// The user's organization name.
    pub const RESOURCEOWNER_NAME: &str = "urn:zitadel:iam:user:resourceowner:name";
    /// The user's organization's primary domain (Tessera has none: the name).
    pub const RESOURCEOWNER_PRIMARY_DOMAIN: &str = "urn:zitadel:iam:user:resourceowner:primary_domain";
}

/// The user-describing claims `scopes` ask for (without `sub`), read from the
/// store: profile and e-mail claims, resource-owner claims, metadata, and the
/// project role claims (when `urn:zitadel:iam:org:projects:roles` or a role
/// scope was granted: for the projects in the audience, or every project the
/// user has roles on when no project was asked for).
///
/// # Errors
/// Database errors.
pub async fn user_claims(repos: &dyn Repos, user: &User, scopes: &Scopes) -> RepoResult<Map<String, Value>> {
    let mut claims = Map::new();
    if scopes.profile {
        let name = match &user.kind {
            UserKind::Machine(m) => m.name.to_string(),
            UserKind::Human(h) => h.display_name.to_string(),
        };
        claims.insert("name".into(), json!(name));
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("updated_at".into(), json!(user.updated_at.timestamp()));
        if let UserKind::Human(h) = &user.kind {
            claims.insert("given_name".into(), json!(h.given_name));
            claims.insert("family_name".into(), json!(h.family_name));
        }
    }
    if scopes.email
        && let UserKind::Human(h) = &user.kind
    {
        claims.insert("email".into(), json!(h.email));
        claims.insert("email_verified".into(), json!(h.email_verified));
    }
    if scopes.resourceowner || scopes.org.is_some() {
        resource_owner(repos, user.org_id, &mut claims).await?;
        if let Some(org) = scopes.org {
            claims.insert(names::ORG_ID.into(), json!(org));
        }
    }
    if scopes.metadata {
        metadata(repos, user.id, &mut claims).await?;
    }
    if scopes.projects_roles || !scopes.roles.is_empty() {
        let grants = repos.authorizations().user_roles(user.id).await?;
        let mut projects: Vec<ProjectId> = scopes.projects.iter().filter_map(|p| ProjectId::parse(p).ok()).collect();
        if projects.is_empty() {
            for g in &grants {
                if !projects.contains(&g.project_id) {
                    projects.push(g.project_id);
                }
            }
        }
        roles::insert_role_claims(&mut claims, &grants, &projects, &scopes.roles);
    }
    Ok(claims)
}

/// The `urn:zitadel:iam:user:resourceowner:*` claims of organization `org_id`
/// (tokens, userinfo and introspection share them).
pub(crate) async fn resource_owner(
    repos: &dyn Repos,
    org_id: OrgId,
    claims: &mut Map<String, Value>,
) -> RepoResult<()> {
    if let Some(org) = repos.orgs().get(org_id).await? {
        claims.insert(names::RESOURCEOWNER_ID.into(), json!(org.id));
        claims.insert(names::RESOURCEOWNER_NAME.into(), json!(org.name));
        claims.insert(names::RESOURCEOWNER_PRIMARY_DOMAIN.into(), json!(org.name.key()));
    }
    Ok(())
}

async fn metadata(repos: &dyn Repos, user: UserId, claims: &mut Map<String, Value>) -> RepoResult<()> {
    let page = Page { offset: 0, limit: Page::MAX_LIMIT, asc: true };
    let entries = repos.metadata().list(user, None, page).await?;
    if !entries.items.is_empty() {
        let map: Map<String, Value> =
            entries.items.into_iter().map(|e| (e.key, json!(URL_SAFE_NO_PAD.encode(e.value)))).collect();
        claims.insert(scope::METADATA.into(), Value::Object(map));
    }
    Ok(())
}
