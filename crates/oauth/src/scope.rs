//! OAuth scopes with ZITADEL's semantics, validated strictly: a scope the
//! client may not have is `invalid_scope`, never silently dropped or granted
//! (RFC 6749 §3.3; ZITADEL drops unknown scopes, Tessera refuses them so a typo
//! cannot go unnoticed).
//!
//! | scope | effect |
//! |---|---|
//! | `openid` | an ID token is issued |
//! | `profile` | name, preferred username, update time in ID token and userinfo |
//! | `email` | e-mail claims for human users |
//! | `urn:zitadel:iam:org:project:id:zitadel:aud` | the management API's audience (the instance id) is added: the token can call the API |
//! | `urn:zitadel:iam:org:project:id:{projectId}:aud` | the project is added to the audience (the project must exist) |
//! | `urn:zitadel:iam:org:projects:roles` | role claims for every project in the audience |
//! | `urn:zitadel:iam:org:project:role:{key}` | role claims limited to the named roles |
//! | `urn:zitadel:iam:org:id:{orgId}` | must be the user's organization; adds the organization claims |
//! | `urn:zitadel:iam:user:resourceowner` | the `urn:zitadel:iam:user:resourceowner:*` claims |
//! | `urn:zitadel:iam:user:metadata` | the user's metadata (values base64url without padding, as ZITADEL) |

use tessera_domain::OrgId;

/// The scope that grants the management API's audience.
pub const ZITADEL_API_AUDIENCE_SCOPE: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";
const PROJECT_AUD_PREFIX: &str = "urn:zitadel:iam:org:project:id:";
const AUD_SUFFIX: &str = ":aud";
const ROLE_PREFIX: &str = "urn:zitadel:iam:org:project:role:";
const ORG_ID_PREFIX: &str = "urn:zitadel:iam:org:id:";
/// Role claims for the projects in the audience.
pub const PROJECTS_ROLES: &str = "urn:zitadel:iam:org:projects:roles";
/// Resource-owner claims.
pub const RESOURCEOWNER: &str = "urn:zitadel:iam:user:resourceowner";
/// Metadata claim.
pub const METADATA: &str = "urn:zitadel:iam:user:metadata";
/// Most scopes accepted in one request.
pub const MAX_SCOPES: usize = 64;

/// A refused scope; `scope` is safe to show (scopes are not secrets), cut to a
/// sane length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// No scope at all.
    #[error("scope is required")]
    Missing,
    /// More than [`MAX_SCOPES`] scopes.
    #[error("too many scopes")]
    TooMany,
    /// A scope Tessera does not know or the client may not have.
    #[error("scope {0} is not allowed")]
    NotAllowed(String),
}

fn shown(s: &str) -> String {
    s.chars().take(120).collect()
}

/// A validated scope request: what the grant gives and which claims it asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    /// The granted scopes, in request order, without duplicates.
    pub granted: Vec<String>,
    /// `openid`.
    pub openid: bool,
    /// `profile`.
    pub profile: bool,
    /// `email`.
    pub email: bool,
    /// The management API audience was requested.
    pub api_audience: bool,
    /// Project ids requested as audiences (besides the API).
    pub projects: Vec<String>,
    /// `urn:zitadel:iam:org:projects:roles`.
    pub projects_roles: bool,
    /// Role keys requested with `urn:zitadel:iam:org:project:role:{key}`.
    pub roles: Vec<String>,
    /// The organization named by `urn:zitadel:iam:org:id:{orgId}`.
    pub org: Option<OrgId>,
    /// `urn:zitadel:iam:user:resourceowner`.
    pub resourceowner: bool,
    /// `urn:zitadel:iam:user:metadata`.
    pub metadata: bool,
}

impl Scopes {
    /// Parses a space-delimited scope string (RFC 6749 §3.3) for a user of
    /// organization `user_org`. Project existence and role keys are the
    /// caller's to check ([`Scopes::projects`], [`Scopes::roles`]).
    ///
    /// # Errors
    /// [`ScopeError`] for an empty request, too many scopes, or a scope that is
    /// unknown or not allowed (an organization other than the user's).
    pub fn parse(raw: &str, user_org: OrgId) -> Result<Self, ScopeError> {
        let mut s = Self::default();
        for scope in raw.split(' ').filter(|x| !x.is_empty()) {
            if s.granted.iter().any(|g| g == scope) {
                continue;
            }
            if s.granted.len() >= MAX_SCOPES {
                return Err(ScopeError::TooMany);
            }
            match scope {
                "openid" => s.openid = true,
                "profile" => s.profile = true,
                "email" => s.email = true,
                ZITADEL_API_AUDIENCE_SCOPE => s.api_audience = true,
                PROJECTS_ROLES => s.projects_roles = true,
                RESOURCEOWNER => s.resourceowner = true,
                METADATA => s.metadata = true,
                other => {
                    if let Some(project) =
                        other.strip_prefix(PROJECT_AUD_PREFIX).and_then(|r| r.strip_suffix(AUD_SUFFIX))
                    {
                        if project.is_empty() || project.contains(':') {
                            return Err(ScopeError::NotAllowed(shown(other)));
                        }
                        s.projects.push(project.to_owned());
                    } else if let Some(role) = other.strip_prefix(ROLE_PREFIX) {
                        if role.is_empty() {
                            return Err(ScopeError::NotAllowed(shown(other)));
                        }
                        s.roles.push(role.to_owned());
                    } else if let Some(org) = other.strip_prefix(ORG_ID_PREFIX) {
                        // RFC 6749 §3.3: the organization must be the user's own.
                        match OrgId::parse(org) {
                            Ok(o) if o == user_org => s.org = Some(o),
                            _ => return Err(ScopeError::NotAllowed(shown(other))),
                        }
                    } else {
                        return Err(ScopeError::NotAllowed(shown(other)));
                    }
                }
            }
            s.granted.push(scope.to_owned());
        }
        if s.granted.is_empty() {
            return Err(ScopeError::Missing);
        }
        Ok(s)
    }

    /// Re-reads the scopes stored with a token (already validated when it was
    /// issued); unknown entries are ignored.
    #[must_use]
    pub fn stored(scopes: &[String], user_org: OrgId) -> Self {
        let mut s = Self::default();
        for scope in scopes {
            if let Ok(one) = Self::parse(scope, user_org) {
                s.openid |= one.openid;
                s.profile |= one.profile;
                s.email |= one.email;
                s.api_audience |= one.api_audience;
                s.projects.extend(one.projects);
                s.projects_roles |= one.projects_roles;
                s.roles.extend(one.roles);
                s.org = s.org.or(one.org);
                s.resourceowner |= one.resourceowner;
                s.metadata |= one.metadata;
                s.granted.push(scope.clone());
            }
        }
        s
    }

    /// The token audience: the management API (when requested) and the
    /// requested projects, in request order.
    #[must_use]
    pub fn audience(&self, api_audience: &str) -> Vec<String> {
        let mut aud = Vec::new();
        if self.api_audience {
            aud.push(api_audience.to_owned());
        }
        for p in &self.projects {
            if !aud.contains(p) {
                aud.push(p.clone());
            }
        }
        aud
    }

    /// The space-delimited granted scopes.
    #[must_use]
    pub fn joined(&self) -> String {
        self.granted.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scopes_are_granted_in_order_without_duplicates() {
        let org = OrgId::new();
        let s = Scopes::parse(&format!("openid  {ZITADEL_API_AUDIENCE_SCOPE} openid profile"), org).unwrap();
        assert_eq!(s.granted, ["openid", ZITADEL_API_AUDIENCE_SCOPE, "profile"]);
        assert!(s.openid && s.profile && s.api_audience && !s.email);
        assert_eq!(s.audience("inst"), ["inst"]);
    }

    #[test]
    fn order_does_not_matter() {
        let org = OrgId::new();
        let a = Scopes::parse(&format!("openid {ZITADEL_API_AUDIENCE_SCOPE}"), org).unwrap();
        let b = Scopes::parse(&format!("{ZITADEL_API_AUDIENCE_SCOPE} openid"), org).unwrap();
        assert_eq!((a.openid, a.api_audience), (b.openid, b.api_audience));
    }

    #[test]
    fn projects_roles_and_org_are_collected() {
        let org = OrgId::new();
        let raw = format!(
            "urn:zitadel:iam:org:project:id:p1:aud urn:zitadel:iam:org:project:role:admin urn:zitadel:iam:org:id:{org} {RESOURCEOWNER} {METADATA} {PROJECTS_ROLES}"
        );
        let s = Scopes::parse(&raw, org).unwrap();
        assert_eq!(s.projects, ["p1"]);
        assert_eq!(s.roles, ["admin"]);
        assert_eq!(s.org, Some(org));
        assert!(s.resourceowner && s.metadata && s.projects_roles);
        assert_eq!(s.audience("inst"), ["p1"]);
    }

    /// RFC 6749 §3.3: a scope the client may not have is `invalid_scope`.
    #[test]
    fn unknown_and_foreign_scopes_are_refused() {
        let org = OrgId::new();
        for bad in [
            "admin".to_owned(),
            "offline_access".to_owned(),
            format!("urn:zitadel:iam:org:id:{}", OrgId::new()),
            "urn:zitadel:iam:org:id:not-an-id".to_owned(),
            "urn:zitadel:iam:org:project:id::aud".to_owned(),
            "urn:zitadel:iam:org:project:role:".to_owned(),
        ] {
            assert!(matches!(Scopes::parse(&bad, org), Err(ScopeError::NotAllowed(_))), "{bad}");
        }
        assert_eq!(Scopes::parse("   ", org), Err(ScopeError::Missing));
        let many: String = (0..=MAX_SCOPES).map(|i| format!("urn:zitadel:iam:org:project:role:r{i} ")).collect();
        assert_eq!(Scopes::parse(&many, org), Err(ScopeError::TooMany));
    }

    #[test]
    fn stored_scopes_round_trip() {
        let org = OrgId::new();
        let s = Scopes::parse(&format!("openid {METADATA}"), org).unwrap();
        assert_eq!(Scopes::stored(&s.granted, org), s);
    }
}
