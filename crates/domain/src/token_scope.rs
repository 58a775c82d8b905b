//! Fine-grained personal access tokens (docs/pat-hygiene.md): the scope a PAT
//! may be limited to when it is created — the organizations and projects it
//! reaches and the permissions it carries.
//!
//! A scope only ever takes away: a request made with a scoped PAT may do what
//! its user's *current* roles allow **and** what the scope allows
//! ([`crate::permission::Grants::limited`]). Removing a role from the user
//! narrows the PAT at once, and no scope gives a right the user lacks.

use crate::permission::{Permission, perm};
use crate::{OrgId, ProjectId, ValidationError};

/// At most this many organizations in one scope.
pub const MAX_ORGS: usize = 20;
/// At most this many projects in one scope.
pub const MAX_PROJECTS: usize = 50;

/// A named set of permissions offered when a PAT is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Every permission Tessera checks that only reads (`*.read`).
    ReadOnly,
    /// Users, their credentials and authorizations.
    UserManager,
    /// Projects with their roles, applications, members and authorizations.
    ProjectManager,
}

const USER_MANAGER: &[Permission] = &[
    perm::ORG_READ,
    perm::USER_READ,
    perm::USER_WRITE,
    perm::USER_DELETE,
    perm::USER_CREDENTIAL_WRITE,
    perm::USER_GRANT_READ,
    perm::USER_GRANT_WRITE,
    perm::USER_GRANT_DELETE,
];

const PROJECT_MANAGER: &[Permission] = &[
    perm::ORG_READ,
    perm::USER_READ,
    perm::USER_GRANT_READ,
    perm::USER_GRANT_WRITE,
    perm::USER_GRANT_DELETE,
    perm::PROJECT_READ,
    perm::PROJECT_CREATE,
    perm::PROJECT_WRITE,
    perm::PROJECT_DELETE,
    perm::PROJECT_MEMBER_READ,
    perm::PROJECT_MEMBER_WRITE,
    perm::PROJECT_MEMBER_DELETE,
    perm::PROJECT_ROLE_READ,
    perm::PROJECT_ROLE_WRITE,
    perm::PROJECT_ROLE_DELETE,
    perm::PROJECT_APP_READ,
    perm::PROJECT_APP_WRITE,
    perm::PROJECT_APP_DELETE,
];

impl Preset {
    /// Every preset.
    pub const ALL: &'static [Self] = &[Self::ReadOnly, Self::UserManager, Self::ProjectManager];

    /// The wire spelling: `read-only`, `user-manager`, `project-manager`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::UserManager => "user-manager",
            Self::ProjectManager => "project-manager",
        }
    }

    /// Parses the wire spelling.
    ///
    /// # Errors
    /// For an unknown preset.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.iter().copied().find(|p| p.as_str() == s).ok_or_else(|| {
            ValidationError::new("scope.presets", "unknown preset: use read-only, user-manager or project-manager")
        })
    }

    /// The permissions of the preset.
    #[must_use]
    pub fn permissions(self) -> Vec<Permission> {
        match self {
            Self::ReadOnly => perm::ALL.iter().copied().filter(|p| p.ends_with(".read")).collect(),
            Self::UserManager => USER_MANAGER.to_vec(),
            Self::ProjectManager => PROJECT_MANAGER.to_vec(),
        }
    }
}

/// A permission Tessera checks, by name.
///
/// # Errors
/// For a name that is not in [`perm::ALL`].
pub fn permission(name: &str) -> Result<Permission, ValidationError> {
    perm::ALL.iter().copied().find(|k| *k == name).ok_or_else(|| {
        ValidationError::new(
            "scope.permissions",
            "unknown permission: use the names of the role table, e.g. user.read (docs/pat-hygiene.md)",
        )
    })
}

/// The scope of a fine-grained PAT. Each part left empty does not limit:
/// without organizations and projects the token reaches everything its user
/// reaches; without permissions it carries all of its user's. A scope with
/// every part empty is no scope ([`TokenScope::new`] answers `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenScope {
    orgs: Vec<OrgId>,
    projects: Vec<ProjectId>,
    permissions: Vec<Permission>,
}

impl TokenScope {
    /// A scope of these parts, deduplicated and sorted; `None` when all are
    /// empty. Permissions are the names of the role table that Tessera checks
    /// (`user.read`, `project.write`, … — [`perm::ALL`]).
    ///
    /// # Errors
    /// For an unknown permission, or more than [`MAX_ORGS`] organizations or
    /// [`MAX_PROJECTS`] projects.
    pub fn new<S: AsRef<str>>(
        mut orgs: Vec<OrgId>,
        mut projects: Vec<ProjectId>,
        permissions: &[S],
    ) -> Result<Option<Self>, ValidationError> {
        orgs.sort_unstable();
        orgs.dedup();
        projects.sort_unstable();
        projects.dedup();
        if orgs.len() > MAX_ORGS {
            return Err(ValidationError::new("scope.organizationIds", "at most 20 organizations"));
        }
        if projects.len() > MAX_PROJECTS {
            return Err(ValidationError::new("scope.projectIds", "at most 50 projects"));
        }
        let mut checked = permissions.iter().map(|p| permission(p.as_ref())).collect::<Result<Vec<_>, _>>()?;
        checked.sort_unstable();
        checked.dedup();
        if orgs.is_empty() && projects.is_empty() && checked.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self { orgs, projects, permissions: checked }))
    }

    /// The organizations it reaches (empty: not limited by resource, unless
    /// projects are named).
    #[must_use]
    pub fn orgs(&self) -> &[OrgId] {
        &self.orgs
    }

    /// The projects it reaches besides those of its organizations.
    #[must_use]
    pub fn projects(&self) -> &[ProjectId] {
        &self.projects
    }

    /// The permissions it carries (empty: all of its user's).
    #[must_use]
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The scope as introspection and the audit trail show it:
    /// `{"organizationIds", "projectIds", "permissions"}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"organizationIds": self.orgs, "projectIds": self.projects, "permissions": self.permissions})
    }

    /// Whether the scope names resources (organizations or projects).
    #[must_use]
    pub fn limits_resources(&self) -> bool {
        !self.orgs.is_empty() || !self.projects.is_empty()
    }

    /// Whether the scope lets `permission` through.
    #[must_use]
    pub fn carries(&self, permission: &str) -> bool {
        self.permissions.is_empty() || self.permissions.contains(&permission)
    }

    /// Whether the scope reaches `target`: instance-wide resources only
    /// without named resources; an organization when it is named; a project
    /// when it or its organization is named.
    #[must_use]
    pub fn reaches(&self, target: crate::permission::Target) -> bool {
        use crate::permission::Target;
        if !self.limits_resources() {
            return true;
        }
        match target {
            Target::Instance => false,
            Target::Org(org) => self.orgs.contains(&org),
            Target::Project { org, project } => self.orgs.contains(&org) || self.projects.contains(&project),
        }
    }

    /// Whether the scope lets `permission` on `target` through.
    #[must_use]
    pub fn allows(&self, permission: &str, target: crate::permission::Target) -> bool {
        self.carries(permission) && self.reaches(target)
    }

    /// Whether `inner` lets nothing through that this scope withholds: a
    /// scoped token may only create tokens inside its own scope.
    #[must_use]
    pub fn contains(&self, inner: &Self) -> bool {
        let perms_ok = self.permissions.is_empty()
            || (!inner.permissions.is_empty() && inner.permissions.iter().all(|p| self.permissions.contains(p)));
        let resources_ok = !self.limits_resources()
            || (inner.limits_resources()
                && inner.orgs.iter().all(|o| self.orgs.contains(o))
                && inner.projects.iter().all(|p| self.projects.contains(p)));
        perms_ok && resources_ok
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]
    use super::*;
    use crate::permission::Target;

    fn org(n: u128) -> OrgId {
        OrgId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn project(n: u128) -> ProjectId {
        ProjectId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn an_empty_scope_is_no_scope_and_unknown_permissions_are_refused() {
        assert_eq!(TokenScope::new::<&str>(vec![], vec![], &[]).unwrap(), None);
        let err = TokenScope::new(vec![], vec![], &["user.reed"]).unwrap_err();
        assert_eq!(err.field, "scope.permissions");
        let too_many = (0..21).map(org).collect();
        assert!(TokenScope::new::<&str>(too_many, vec![], &[]).is_err());
    }

    #[test]
    fn a_scope_reaches_its_organizations_and_projects_only() {
        let s = TokenScope::new(vec![org(1)], vec![project(9)], &["user.read"]).unwrap().unwrap();
        assert!(s.allows("user.read", Target::Org(org(1))));
        assert!(!s.allows("user.write", Target::Org(org(1))), "a permission it does not carry");
        assert!(!s.allows("user.read", Target::Org(org(2))), "another organization");
        assert!(!s.allows("user.read", Target::Instance), "instance-wide resources");
        assert!(s.reaches(Target::Project { org: org(2), project: project(9) }), "a named project elsewhere");
        assert!(s.reaches(Target::Project { org: org(1), project: project(3) }), "a project of a named org");
        assert!(!s.reaches(Target::Project { org: org(2), project: project(3) }));
        let perms_only = TokenScope::new(vec![], vec![], &["user.read"]).unwrap().unwrap();
        assert!(perms_only.allows("user.read", Target::Instance) && !perms_only.carries("user.write"));
    }

    #[test]
    fn containment_of_scopes() {
        let outer = TokenScope::new(vec![org(1), org(2)], vec![], &["user.read", "user.write"]).unwrap().unwrap();
        let inner = TokenScope::new(vec![org(1)], vec![], &["user.read"]).unwrap().unwrap();
        assert!(outer.contains(&inner) && !inner.contains(&outer));
        let all_perms = TokenScope::new(vec![org(1)], vec![], &[] as &[&str]).unwrap().unwrap();
        assert!(!outer.contains(&all_perms), "no permission list means all of them");
        let everywhere = TokenScope::new(vec![], vec![], &["user.read"]).unwrap().unwrap();
        assert!(!outer.contains(&everywhere), "no resources means every resource");
        assert!(everywhere.contains(&inner));
    }

    #[test]
    fn presets_name_checked_permissions() {
        for preset in Preset::ALL {
            assert_eq!(Preset::parse(preset.as_str()).unwrap(), *preset);
            assert!(preset.permissions().iter().all(|p| perm::ALL.contains(p)));
        }
        let read_only = Preset::ReadOnly.permissions();
        assert!(read_only.contains(&perm::USER_READ) && !read_only.contains(&perm::USER_WRITE));
        assert!(Preset::parse("admin").is_err());
    }
}
