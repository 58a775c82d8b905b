//! Authorizations (ZITADEL's user grants): the roles a user holds on a project.
//! They end up in tokens and introspection responses as
//! `urn:zitadel:iam:org:project:roles` claims.

use std::collections::BTreeSet;

use crate::project::RoleKey;
use crate::user::TransitionError;
use crate::{AuthorizationId, OrgId, ProjectId, Timestamp, UserId, ValidationError};

/// Whether an authorization's roles are in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorizationState {
    /// The roles appear in tokens.
    Active,
    /// Suspended: the roles appear nowhere until it is activated again.
    Inactive,
}

impl AuthorizationState {
    /// Storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Parses the storage spelling.
    ///
    /// # Errors
    /// On an unknown spelling (a corrupted row).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            _ => Err(ValidationError::new("state", "unknown authorization state")),
        }
    }
}

/// A user's roles on a project, granted in an organization (always the project's
/// own organization: Tessera has no project grants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Stable id.
    pub id: AuthorizationId,
    /// The user holding the roles.
    pub user_id: UserId,
    /// The project whose roles they are.
    pub project_id: ProjectId,
    /// The organization the authorization was granted in.
    pub org_id: OrgId,
    /// The roles (each a key of the project's roles; may be empty, as in ZITADEL).
    pub roles: BTreeSet<RoleKey>,
    /// Active or suspended.
    pub state: AuthorizationState,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Authorization {
    /// A new, active authorization.
    #[must_use]
    pub fn new(
        user_id: UserId,
        project_id: ProjectId,
        org_id: OrgId,
        roles: BTreeSet<RoleKey>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: AuthorizationId::new(),
            user_id,
            project_id,
            org_id,
            roles,
            state: AuthorizationState::Active,
            created_at: now,
            updated_at: now,
        }
    }

    /// Suspends the authorization.
    ///
    /// # Errors
    /// When it is already inactive; it is left unchanged.
    pub fn deactivate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == AuthorizationState::Inactive {
            return Err(TransitionError("the authorization is already inactive"));
        }
        self.state = AuthorizationState::Inactive;
        self.updated_at = now;
        Ok(())
    }

    /// Ends a suspension.
    ///
    /// # Errors
    /// When it is already active; it is left unchanged.
    pub fn activate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == AuthorizationState::Active {
            return Err(TransitionError("the authorization is already active"));
        }
        self.state = AuthorizationState::Active;
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn state_transitions_refuse_no_ops() {
        let now = Utc::now();
        let mut a = Authorization::new(UserId::new(), ProjectId::new(), OrgId::new(), BTreeSet::new(), now);
        assert!(a.activate(now).is_err());
        a.deactivate(now).unwrap();
        assert_eq!(a.state, AuthorizationState::Inactive);
        assert!(a.deactivate(now).is_err());
        a.activate(now).unwrap();
    }
}
