//! ZITADEL's administrator roles and the permissions each one grants, and the
//! evaluation of a caller's permissions against a target resource.
//!
//! The role → permission table is ZITADEL's default `InternalAuthZ`
//! `RolePermissionMappings` for the roles Tessera supports, so a client that knows
//! ZITADEL's roles gets the same answers here.

use std::fmt;
use std::sync::Arc;

use crate::token_scope::TokenScope;
use crate::{OrgId, ProjectId, ValidationError};

/// A permission string such as `user.write`.
pub type Permission = &'static str;

/// Well-known permissions checked by Tessera's handlers.
pub mod perm {
    use super::Permission;
    /// Read instance settings.
    pub const IAM_READ: Permission = "iam.read";
    /// Read instance administrators.
    pub const IAM_MEMBER_READ: Permission = "iam.member.read";
    /// Add or change instance administrators.
    pub const IAM_MEMBER_WRITE: Permission = "iam.member.write";
    /// Remove instance administrators.
    pub const IAM_MEMBER_DELETE: Permission = "iam.member.delete";
    /// Read organizations.
    pub const ORG_READ: Permission = "org.read";
    /// Create organizations.
    pub const ORG_CREATE: Permission = "org.create";
    /// Change organizations.
    pub const ORG_WRITE: Permission = "org.write";
    /// Delete organizations.
    pub const ORG_DELETE: Permission = "org.delete";
    /// Read organization administrators.
    pub const ORG_MEMBER_READ: Permission = "org.member.read";
    /// Add or change organization administrators.
    pub const ORG_MEMBER_WRITE: Permission = "org.member.write";
    /// Remove organization administrators.
    pub const ORG_MEMBER_DELETE: Permission = "org.member.delete";
    /// Read users.
    pub const USER_READ: Permission = "user.read";
    /// Create and change users.
    pub const USER_WRITE: Permission = "user.write";
    /// Delete users.
    pub const USER_DELETE: Permission = "user.delete";
    /// Manage users' credentials (tokens, keys, secrets).
    pub const USER_CREDENTIAL_WRITE: Permission = "user.credential.write";
    /// Read authorizations (user grants).
    pub const USER_GRANT_READ: Permission = "user.grant.read";
    /// Create and change authorizations.
    pub const USER_GRANT_WRITE: Permission = "user.grant.write";
    /// Delete authorizations.
    pub const USER_GRANT_DELETE: Permission = "user.grant.delete";
    /// Read policies.
    pub const POLICY_READ: Permission = "policy.read";
    /// Change policies.
    pub const POLICY_WRITE: Permission = "policy.write";
    /// Read projects.
    pub const PROJECT_READ: Permission = "project.read";
    /// Create projects.
    pub const PROJECT_CREATE: Permission = "project.create";
    /// Change projects.
    pub const PROJECT_WRITE: Permission = "project.write";
    /// Delete projects.
    pub const PROJECT_DELETE: Permission = "project.delete";
    /// Read project administrators.
    pub const PROJECT_MEMBER_READ: Permission = "project.member.read";
    /// Add or change project administrators.
    pub const PROJECT_MEMBER_WRITE: Permission = "project.member.write";
    /// Remove project administrators.
    pub const PROJECT_MEMBER_DELETE: Permission = "project.member.delete";
    /// Read project roles.
    pub const PROJECT_ROLE_READ: Permission = "project.role.read";
    /// Create and change project roles.
    pub const PROJECT_ROLE_WRITE: Permission = "project.role.write";
    /// Delete project roles.
    pub const PROJECT_ROLE_DELETE: Permission = "project.role.delete";
    /// Read applications.
    pub const PROJECT_APP_READ: Permission = "project.app.read";
    /// Create and change applications.
    pub const PROJECT_APP_WRITE: Permission = "project.app.write";
    /// Delete applications.
    pub const PROJECT_APP_DELETE: Permission = "project.app.delete";
    /// Read the audit trail.
    pub const EVENTS_READ: Permission = "events.read";
    /// Create and activate the instance's signing keys (WebKeyService).
    pub const IAM_WEB_KEY_WRITE: Permission = "iam.web_key.write";
    /// Delete the instance's signing keys.
    pub const IAM_WEB_KEY_DELETE: Permission = "iam.web_key.delete";
    /// List the instance's signing keys.
    pub const IAM_WEB_KEY_READ: Permission = "iam.web_key.read";

    /// Every permission Tessera checks somewhere: privilege containment compares
    /// these (ZITADEL's tables also list permissions no Tessera call checks).
    pub const ALL: &[Permission] = &[
        IAM_READ,
        IAM_MEMBER_READ,
        IAM_MEMBER_WRITE,
        IAM_MEMBER_DELETE,
        ORG_READ,
        ORG_CREATE,
        ORG_WRITE,
        ORG_DELETE,
        ORG_MEMBER_READ,
        ORG_MEMBER_WRITE,
        ORG_MEMBER_DELETE,
        USER_READ,
        USER_WRITE,
        USER_DELETE,
        USER_CREDENTIAL_WRITE,
        USER_GRANT_READ,
        USER_GRANT_WRITE,
        USER_GRANT_DELETE,
        POLICY_READ,
        POLICY_WRITE,
        PROJECT_READ,
        PROJECT_CREATE,
        PROJECT_WRITE,
        PROJECT_DELETE,
        PROJECT_MEMBER_READ,
        PROJECT_MEMBER_WRITE,
        PROJECT_MEMBER_DELETE,
        PROJECT_ROLE_READ,
        PROJECT_ROLE_WRITE,
        PROJECT_ROLE_DELETE,
        PROJECT_APP_READ,
        PROJECT_APP_WRITE,
        PROJECT_APP_DELETE,
        EVENTS_READ,
        IAM_WEB_KEY_WRITE,
        IAM_WEB_KEY_DELETE,
        IAM_WEB_KEY_READ,
    ];
}

/// Where an administrator role applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleLevel {
    /// The whole instance (`IAM_*`).
    Instance,
    /// One organization (`ORG_*`).
    Organization,
    /// One project (`PROJECT_*`).
    Project,
}

macro_rules! roles {
    ($($variant:ident = $name:literal, $level:ident, $table:ident;)*) => {
        /// An administrator role, spelled on the wire as in ZITADEL.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Role {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Role {
            /// Every supported role.
            pub const ALL: &'static [Role] = &[$(Role::$variant),*];

            /// ZITADEL's spelling, e.g. `ORG_USER_MANAGER`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// The kind of resource the role is granted on.
            #[must_use]
            pub const fn level(self) -> RoleLevel {
                match self { $(Self::$variant => RoleLevel::$level,)* }
            }

            /// The permissions the role grants.
            #[must_use]
            pub const fn permissions(self) -> &'static [&'static str] {
                match self { $(Self::$variant => $table,)* }
            }

            /// Parses ZITADEL's spelling.
            ///
            /// # Errors
            /// On a role Tessera does not support.
            pub fn parse(s: &str) -> Result<Self, ValidationError> {
                match s {
                    $($name => Ok(Self::$variant),)*
                    _ => Err(ValidationError::new("roles", "unknown or unsupported administrator role")),
                }
            }
        }
    };
}

roles! {
    IamOwner = "IAM_OWNER", Instance, IAM_OWNER;
    IamOwnerViewer = "IAM_OWNER_VIEWER", Instance, IAM_OWNER_VIEWER;
    IamOrgManager = "IAM_ORG_MANAGER", Instance, IAM_ORG_MANAGER;
    IamUserManager = "IAM_USER_MANAGER", Instance, IAM_USER_MANAGER;
    OrgOwner = "ORG_OWNER", Organization, ORG_OWNER;
    OrgOwnerViewer = "ORG_OWNER_VIEWER", Organization, ORG_OWNER_VIEWER;
    OrgUserManager = "ORG_USER_MANAGER", Organization, ORG_USER_MANAGER;
    OrgProjectCreator = "ORG_PROJECT_CREATOR", Organization, ORG_PROJECT_CREATOR;
    ProjectOwner = "PROJECT_OWNER", Project, PROJECT_OWNER;
    ProjectOwnerViewer = "PROJECT_OWNER_VIEWER", Project, PROJECT_OWNER_VIEWER;
}

impl Role {
    /// Whether the role grants `permission`.
    #[must_use]
    pub fn grants(self, permission: &str) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The resource a permission is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Instance-wide resources (organizations list, instance administrators).
    Instance,
    /// A resource owned by an organization (its users, its settings).
    Org(OrgId),
    /// A project, owned by an organization.
    Project {
        /// The owning organization.
        org: OrgId,
        /// The project.
        project: ProjectId,
    },
}

/// The resource an administrator membership is granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// The whole instance.
    Instance,
    /// One organization.
    Org(OrgId),
    /// One project.
    Project(ProjectId),
}

impl Scope {
    /// The role level that fits this scope.
    #[must_use]
    pub const fn level(self) -> RoleLevel {
        match self {
            Self::Instance => RoleLevel::Instance,
            Self::Org(_) => RoleLevel::Organization,
            Self::Project(_) => RoleLevel::Project,
        }
    }

    /// Whether a role granted on this scope covers `target`.
    #[must_use]
    pub fn covers(self, target: Target) -> bool {
        match (self, target) {
            (Self::Instance, _) => true,
            (Self::Org(o), Target::Org(t) | Target::Project { org: t, .. }) => o == t,
            (Self::Project(p), Target::Project { project, .. }) => p == project,
            _ => false,
        }
    }
}

/// Which organizations a caller may see for a permission: the answer a list
/// method filters by (ZITADEL's `permitted_orgs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgFilter {
    /// Every organization (an instance-level role grants the permission).
    All,
    /// Only these organizations (possibly none).
    Only(Vec<OrgId>),
}

impl OrgFilter {
    /// Whether `org` passes the filter.
    #[must_use]
    pub fn allows(&self, org: OrgId) -> bool {
        match self {
            Self::All => true,
            Self::Only(orgs) => orgs.contains(&org),
        }
    }
}

/// The permissions of `role` that Tessera checks ([`perm::ALL`]).
fn checked(role: Role) -> impl Iterator<Item = &'static str> {
    role.permissions().iter().copied().filter(|p| perm::ALL.contains(p))
}

/// Everything a caller may do: its roles with the scope each was granted on,
/// narrowed by the scope of the token it called with, if that token has one
/// ([`TokenScope`]: what the roles allow **and** what the scope allows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pairs: Vec<(Scope, Role)>,
    limit: Option<Arc<TokenScope>>,
}

impl Grants {
    /// Grants from (scope, role) pairs.
    #[must_use]
    pub fn new(grants: Vec<(Scope, Role)>) -> Self {
        Self { pairs: grants, limit: None }
    }

    /// No rights at all.
    #[must_use]
    pub fn none() -> Self {
        Self::new(Vec::new())
    }

    /// These grants narrowed to `limit` (none: unchanged).
    #[must_use]
    pub fn limited(mut self, limit: Option<Arc<TokenScope>>) -> Self {
        self.limit = limit;
        self
    }

    /// The token scope these grants are narrowed to, if any.
    #[must_use]
    pub fn limit(&self) -> Option<&TokenScope> {
        self.limit.as_deref()
    }

    /// The (scope, role) pairs, before any limit.
    #[must_use]
    pub fn pairs(&self) -> &[(Scope, Role)] {
        &self.pairs
    }

    /// Whether the limit, if any, lets `permission` on `target` through.
    fn within_limit(&self, permission: &str, target: Target) -> bool {
        self.limit.as_ref().is_none_or(|l| l.allows(permission, target))
    }

    /// Whether some role grants `permission` on a scope that covers `target`,
    /// and the limit lets it through.
    #[must_use]
    pub fn allows(&self, permission: &str, target: Target) -> bool {
        self.within_limit(permission, target)
            && self.pairs.iter().any(|(scope, role)| role.grants(permission) && scope.covers(target))
    }

    /// The organizations in which `permission` is granted organization-wide
    /// (and that the limit reaches).
    #[must_use]
    pub fn orgs_with(&self, permission: &str) -> OrgFilter {
        let mut orgs = Vec::new();
        let mut everywhere = false;
        for (scope, role) in &self.pairs {
            if !role.grants(permission) {
                continue;
            }
            match scope {
                Scope::Instance => everywhere = true,
                Scope::Org(o) if !orgs.contains(o) => orgs.push(*o),
                _ => {}
            }
        }
        match self.limit.as_deref() {
            None if everywhere => OrgFilter::All,
            None => OrgFilter::Only(orgs),
            Some(l) if !l.carries(permission) => OrgFilter::Only(Vec::new()),
            Some(l) if !l.limits_resources() => {
                if everywhere {
                    OrgFilter::All
                } else {
                    OrgFilter::Only(orgs)
                }
            }
            Some(l) if everywhere => OrgFilter::Only(l.orgs().to_vec()),
            Some(l) => OrgFilter::Only(orgs.into_iter().filter(|o| l.orgs().contains(o)).collect()),
        }
    }

    /// The first of `other`'s roles that grants a permission these grants lack
    /// on the same resource, or `None` when these grants hold everything
    /// `other` may do (DESIGN.md §7, privilege containment: an administrator
    /// may change only users who can do no more than itself). `project_org`
    /// names the organization of a project `other` holds a role on; an unknown
    /// project is checked as a project alone.
    #[must_use]
    pub fn first_uncovered(&self, other: &Self, project_org: impl Fn(ProjectId) -> Option<OrgId>) -> Option<Role> {
        other.pairs.iter().find_map(|(scope, role)| {
            let target = match *scope {
                Scope::Instance => Target::Instance,
                Scope::Org(org) => Target::Org(org),
                Scope::Project(project) => match project_org(project) {
                    Some(org) => Target::Project { org, project },
                    None => {
                        let held = |p: &str| {
                            let reached = self.limit.as_ref().is_none_or(|l| {
                                l.carries(p) && (!l.limits_resources() || l.projects().contains(&project))
                            });
                            reached
                                && self.pairs.iter().any(|(s, r)| {
                                    r.grants(p) && (*s == Scope::Instance || *s == Scope::Project(project))
                                })
                        };
                        return (!checked(*role).all(held)).then_some(*role);
                    }
                },
            };
            (!checked(*role).all(|p| self.allows(p, target))).then_some(*role)
        })
    }

    /// The projects on which `permission` is granted through a project role.
    ///
    /// A limit that names resources keeps only the projects it names: the
    /// organization of a project is not known here, so a project reached only
    /// through a named organization is left out (the caller sees less, never
    /// more).
    #[must_use]
    pub fn projects_with(&self, permission: &str) -> Vec<ProjectId> {
        if self.limit.as_ref().is_some_and(|l| !l.carries(permission)) {
            return Vec::new();
        }
        self.pairs
            .iter()
            .filter_map(|(scope, role)| match scope {
                Scope::Project(p) if role.grants(permission) => Some(*p),
                _ => None,
            })
            .filter(|p| self.limit.as_ref().is_none_or(|l| !l.limits_resources() || l.projects().contains(p)))
            .collect()
    }
}

const IAM_OWNER: &[&str] = &[
    "iam.read",
    "iam.write",
    "iam.policy.read",
    "iam.policy.write",
    "iam.policy.delete",
    "iam.member.read",
    "iam.member.write",
    "iam.member.delete",
    "iam.idp.read",
    "iam.idp.write",
    "iam.idp.delete",
    "iam.action.read",
    "iam.action.write",
    "iam.action.delete",
    "iam.flow.read",
    "iam.flow.write",
    "iam.flow.delete",
    "iam.feature.read",
    "iam.feature.write",
    "iam.feature.delete",
    "iam.restrictions.read",
    "iam.restrictions.write",
    "iam.web_key.write",
    "iam.web_key.delete",
    "iam.web_key.read",
    "iam.debug.write",
    "iam.debug.read",
    "org.read",
    "org.global.read",
    "org.create",
    "org.write",
    "org.delete",
    "org.member.read",
    "org.member.write",
    "org.member.delete",
    "org.idp.read",
    "org.idp.write",
    "org.idp.delete",
    "org.action.read",
    "org.action.write",
    "org.action.delete",
    "org.flow.read",
    "org.flow.write",
    "org.flow.delete",
    "org.feature.read",
    "org.feature.write",
    "org.feature.delete",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.credential.write",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "policy.read",
    "policy.write",
    "policy.delete",
    "project.read",
    "project.create",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.app.delete",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
    "events.read",
    "milestones.read",
    "session.read",
    "session.write",
    "session.delete",
    "action.target.read",
    "action.target.write",
    "action.target.delete",
    "action.execution.read",
    "action.execution.write",
    "userschema.read",
    "userschema.write",
    "userschema.delete",
];
const IAM_OWNER_VIEWER: &[&str] = &[
    "iam.read",
    "iam.policy.read",
    "iam.member.read",
    "iam.idp.read",
    "iam.action.read",
    "iam.flow.read",
    "iam.restrictions.read",
    "iam.feature.read",
    "iam.web_key.read",
    "iam.debug.read",
    "org.read",
    "org.member.read",
    "org.idp.read",
    "org.action.read",
    "org.flow.read",
    "org.feature.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
    "user.feature.read",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "events.read",
    "milestones.read",
    "action.target.read",
    "action.execution.read",
    "userschema.read",
    "session.read",
];
const IAM_ORG_MANAGER: &[&str] = &[
    "org.read",
    "org.global.read",
    "org.create",
    "org.write",
    "org.delete",
    "org.member.read",
    "org.member.write",
    "org.member.delete",
    "org.idp.read",
    "org.idp.write",
    "org.idp.delete",
    "org.action.read",
    "org.action.write",
    "org.action.delete",
    "org.flow.read",
    "org.flow.write",
    "org.flow.delete",
    "org.feature.read",
    "org.feature.write",
    "org.feature.delete",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.credential.write",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "policy.read",
    "policy.write",
    "policy.delete",
    "project.read",
    "project.create",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.app.delete",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
    "session.read",
    "session.delete",
];
const IAM_USER_MANAGER: &[&str] = &[
    "org.read",
    "org.global.read",
    "org.member.read",
    "org.member.delete",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "session.read",
    "session.delete",
];
const ORG_OWNER: &[&str] = &[
    "org.read",
    "org.global.read",
    "org.write",
    "org.delete",
    "org.member.read",
    "org.member.write",
    "org.member.delete",
    "org.idp.read",
    "org.idp.write",
    "org.idp.delete",
    "org.action.read",
    "org.action.write",
    "org.action.delete",
    "org.flow.read",
    "org.flow.write",
    "org.flow.delete",
    "org.feature.read",
    "org.feature.write",
    "org.feature.delete",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.credential.write",
    "user.passkey.write",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "policy.read",
    "policy.write",
    "policy.delete",
    "project.read",
    "project.create",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
    "session.read",
    "session.delete",
];
const ORG_OWNER_VIEWER: &[&str] = &[
    "org.read",
    "org.member.read",
    "org.idp.read",
    "org.action.read",
    "org.flow.read",
    "org.feature.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
    "user.feature.read",
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "project.grant.user.grant.read",
];
const ORG_USER_MANAGER: &[&str] = &[
    "org.read",
    "user.read",
    "user.global.read",
    "user.write",
    "user.delete",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
    "user.feature.read",
    "user.feature.write",
    "user.feature.delete",
    "policy.read",
    "project.read",
    "project.role.read",
    "session.read",
    "session.delete",
];
const ORG_PROJECT_CREATOR: &[&str] = &["user.global.read", "policy.read", "project.read:self", "project.create"];
const PROJECT_OWNER: &[&str] = &[
    "org.global.read",
    "policy.read",
    "project.read",
    "project.write",
    "project.delete",
    "project.member.read",
    "project.member.write",
    "project.member.delete",
    "project.role.read",
    "project.role.write",
    "project.role.delete",
    "project.app.read",
    "project.app.write",
    "project.app.delete",
    "project.grant.read",
    "project.grant.write",
    "project.grant.delete",
    "project.grant.member.read",
    "project.grant.member.write",
    "project.grant.member.delete",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.grant.write",
    "user.grant.delete",
    "user.membership.read",
];
const PROJECT_OWNER_VIEWER: &[&str] = &[
    "policy.read",
    "project.read",
    "project.member.read",
    "project.role.read",
    "project.app.read",
    "project.grant.read",
    "project.grant.member.read",
    "user.read",
    "user.global.read",
    "user.grant.read",
    "user.membership.read",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]
    use super::*;

    /// A token scope only ever takes away: every answer of limited grants is
    /// the roles' answer and the scope's.
    #[test]
    fn a_limit_narrows_every_answer() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let (p, q) = (ProjectId::new(), ProjectId::new());
        let roles = vec![(Scope::Instance, Role::IamOwner), (Scope::Project(p), Role::ProjectOwner)];
        let scope = TokenScope::new(vec![a], vec![p], &["user.read", "project.read"]).unwrap().map(Arc::new);
        let limited = Grants::new(roles.clone()).limited(scope);
        assert!(limited.allows(perm::USER_READ, Target::Org(a)));
        assert!(!limited.allows(perm::USER_WRITE, Target::Org(a)), "a permission the scope lacks");
        assert!(!limited.allows(perm::USER_READ, Target::Org(b)), "an organization the scope lacks");
        assert!(!limited.allows(perm::IAM_READ, Target::Instance));
        assert!(limited.allows(perm::PROJECT_READ, Target::Project { org: b, project: p }));
        assert!(!limited.allows(perm::PROJECT_READ, Target::Project { org: b, project: q }));
        assert_eq!(limited.orgs_with(perm::USER_READ), OrgFilter::Only(vec![a]), "instance role, one org");
        assert_eq!(limited.orgs_with(perm::USER_WRITE), OrgFilter::Only(vec![]));
        assert_eq!(limited.projects_with(perm::PROJECT_READ), vec![p]);
        assert!(limited.projects_with(perm::PROJECT_WRITE).is_empty());
        // Containment: the limited grants no longer cover an owner of `b`.
        let owner_b = Grants::new(vec![(Scope::Org(b), Role::OrgOwner)]);
        assert!(Grants::new(roles.clone()).first_uncovered(&owner_b, |_| None).is_none());
        assert!(limited.first_uncovered(&owner_b, |_| None).is_some());
        // A limit without resources keeps every resource of the roles.
        let perms_only = TokenScope::new(vec![], vec![], &["user.read"]).unwrap().map(Arc::new);
        let everywhere = Grants::new(roles).limited(perms_only);
        assert_eq!(everywhere.orgs_with(perm::USER_READ), OrgFilter::All);
        assert!(
            everywhere.allows(perm::USER_READ, Target::Org(b)) && !everywhere.allows(perm::USER_WRITE, Target::Org(b))
        );
    }

    #[test]
    fn containment_compares_permissions_on_the_same_resource() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let project = ProjectId::new();
        let grants = |pairs: &[(Scope, Role)]| Grants::new(pairs.to_vec());
        let in_a = |_| Some(a);
        let iam_owner = grants(&[(Scope::Instance, Role::IamOwner)]);
        let owner_a = grants(&[(Scope::Org(a), Role::OrgOwner)]);
        let manager_a = grants(&[(Scope::Org(a), Role::OrgUserManager)]);
        let project_owner = grants(&[(Scope::Project(project), Role::ProjectOwner)]);
        // A user manager cannot touch an instance owner, nor an owner of its own org.
        assert_eq!(manager_a.first_uncovered(&iam_owner, in_a), Some(Role::IamOwner));
        assert_eq!(manager_a.first_uncovered(&owner_a, in_a), Some(Role::OrgOwner));
        // The instance owner covers everyone; equals cover each other.
        assert_eq!(iam_owner.first_uncovered(&owner_a, in_a), None);
        assert_eq!(owner_a.first_uncovered(&owner_a, in_a), None);
        assert_eq!(owner_a.first_uncovered(&manager_a, in_a), None);
        // Project roles are compared on the project's organization: an org-wide
        // grant there counts, one in another organization does not. (ZITADEL's
        // ORG_OWNER lacks PROJECT_OWNER's `project.app.delete`, so it does not
        // cover a project owner; an org-wide user manager covers a project
        // viewer of its org for the permissions they share.)
        let viewer = grants(&[(Scope::Project(project), Role::ProjectOwnerViewer)]);
        let reader_a = grants(&[(Scope::Org(a), Role::OrgOwnerViewer)]);
        assert_eq!(reader_a.first_uncovered(&viewer, in_a), None);
        assert_eq!(reader_a.first_uncovered(&viewer, |_| Some(b)), Some(Role::ProjectOwnerViewer));
        assert_eq!(reader_a.first_uncovered(&viewer, |_| None), Some(Role::ProjectOwnerViewer));
        assert_eq!(owner_a.first_uncovered(&project_owner, in_a), Some(Role::ProjectOwner));
        assert_eq!(iam_owner.first_uncovered(&project_owner, |_| None), None);
        // Permissions no Tessera call checks do not count: ZITADEL's IAM_OWNER
        // lacks ORG_OWNER_VIEWER's `project.grant.user.grant.read`.
        let viewer_a = grants(&[(Scope::Org(a), Role::OrgOwnerViewer)]);
        assert_eq!(iam_owner.first_uncovered(&viewer_a, in_a), None);
        // Roles in another organization are not covered.
        assert_eq!(
            grants(&[(Scope::Org(b), Role::OrgOwner)]).first_uncovered(&manager_a, in_a),
            Some(Role::OrgUserManager)
        );
        // Nobody lacks what a user without roles holds.
        assert_eq!(Grants::none().first_uncovered(&Grants::none(), in_a), None);
    }

    #[test]
    fn every_role_round_trips_through_its_spelling() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(*role));
        }
        assert!(Role::parse("SUPER_ADMIN").is_err());
    }

    #[test]
    fn table_matches_zitadel_on_the_telling_cases() {
        assert!(Role::OrgUserManager.grants(perm::USER_WRITE));
        assert!(!Role::OrgUserManager.grants(perm::ORG_CREATE));
        assert!(!Role::OrgOwner.grants(perm::ORG_CREATE));
        assert!(!Role::OrgOwner.grants(perm::PROJECT_APP_DELETE));
        assert!(Role::IamOrgManager.grants(perm::PROJECT_APP_DELETE));
        assert!(!Role::IamOwnerViewer.grants(perm::USER_WRITE));
        assert!(Role::IamOwner.grants(perm::IAM_MEMBER_WRITE));
        assert!(!Role::IamUserManager.grants(perm::IAM_MEMBER_WRITE));
        assert_eq!(Role::IamOwner.permissions().len(), 95);
    }

    #[test]
    fn org_roles_apply_to_their_org_only() {
        let (a, b) = (OrgId::new(), OrgId::new());
        let grants = Grants::new(vec![(Scope::Org(a), Role::OrgUserManager)]);
        assert!(grants.allows(perm::USER_WRITE, Target::Org(a)));
        assert!(!grants.allows(perm::USER_WRITE, Target::Org(b)));
        assert!(!grants.allows(perm::USER_WRITE, Target::Instance));
        assert_eq!(grants.orgs_with(perm::USER_READ), OrgFilter::Only(vec![a]));
    }

    #[test]
    fn instance_roles_apply_everywhere() {
        let grants = Grants::new(vec![(Scope::Instance, Role::IamOwner)]);
        let org = OrgId::new();
        assert!(grants.allows(perm::ORG_CREATE, Target::Instance));
        assert!(grants.allows(perm::USER_WRITE, Target::Org(org)));
        assert_eq!(grants.orgs_with(perm::USER_READ), OrgFilter::All);
    }

    #[test]
    fn project_roles_apply_to_their_project_only() {
        let org = OrgId::new();
        let (p, q) = (ProjectId::new(), ProjectId::new());
        let grants = Grants::new(vec![(Scope::Project(p), Role::ProjectOwner)]);
        assert!(grants.allows(perm::PROJECT_WRITE, Target::Project { org, project: p }));
        assert!(!grants.allows(perm::PROJECT_WRITE, Target::Project { org, project: q }));
        assert!(!grants.allows(perm::PROJECT_WRITE, Target::Org(org)));
        assert_eq!(grants.projects_with(perm::PROJECT_WRITE), vec![p]);
    }

    #[test]
    fn no_grants_allow_nothing() {
        assert!(!Grants::none().allows(perm::USER_READ, Target::Instance));
        assert_eq!(Grants::none().orgs_with(perm::USER_READ), OrgFilter::Only(vec![]));
    }
}
