//! Administrator memberships: a user holding a set of ZITADEL administrator roles
//! on the instance, one organization or one project.

use std::collections::BTreeSet;

use crate::permission::{Role, Scope};
use crate::{AdministratorId, Timestamp, UserId, ValidationError};

/// A non-empty set of roles that all fit one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSet(BTreeSet<Role>);

impl RoleSet {
    /// Checks that `roles` is non-empty and every role fits `scope`.
    ///
    /// # Errors
    /// On an empty set or a role of another level (e.g. `IAM_OWNER` on an
    /// organization).
    pub fn for_scope(scope: Scope, roles: impl IntoIterator<Item = Role>) -> Result<Self, ValidationError> {
        let roles: BTreeSet<Role> = roles.into_iter().collect();
        if roles.is_empty() {
            return Err(ValidationError::new("roles", "at least one role is required"));
        }
        if let Some(bad) = roles.iter().find(|r| r.level() != scope.level()) {
            return Err(ValidationError::new("roles", format!("{bad} cannot be granted on this kind of resource")));
        }
        Ok(Self(roles))
    }

    /// Parses role names as stored or sent on the wire.
    ///
    /// # Errors
    /// On an unknown role name, an empty set or a role of another level.
    pub fn parse<'a>(scope: Scope, names: impl IntoIterator<Item = &'a str>) -> Result<Self, ValidationError> {
        let roles = names.into_iter().map(Role::parse).collect::<Result<Vec<_>, _>>()?;
        Self::for_scope(scope, roles)
    }

    /// The roles, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// Whether the set holds `role`.
    #[must_use]
    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
}

/// One user's roles on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrator {
    /// Stable id.
    pub id: AdministratorId,
    /// The user holding the roles.
    pub user_id: UserId,
    /// Where the roles apply.
    pub scope: Scope,
    /// The roles.
    pub roles: RoleSet,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Administrator {
    /// A new membership.
    #[must_use]
    pub fn new(user_id: UserId, scope: Scope, roles: RoleSet, now: Timestamp) -> Self {
        Self { id: AdministratorId::new(), user_id, scope, roles, created_at: now, updated_at: now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrgId;

    #[test]
    fn roles_must_fit_the_scope() {
        let org = Scope::Org(OrgId::new());
        assert!(RoleSet::parse(org, ["ORG_OWNER", "ORG_USER_MANAGER"]).is_ok());
        assert!(RoleSet::parse(org, ["IAM_OWNER"]).is_err());
        assert!(RoleSet::parse(Scope::Instance, ["ORG_OWNER"]).is_err());
        assert!(RoleSet::parse(Scope::Instance, Vec::<&str>::new()).is_err());
        assert!(RoleSet::parse(Scope::Instance, ["NOPE"]).is_err());
    }
}
