//! Projects and their roles. A project belongs to one organization and groups the
//! API applications of a resource server with the roles that server checks;
//! authorizations give users those roles.

use std::fmt;

use crate::names::{MAX_NAME_LEN, single_line};
use crate::user::TransitionError;
use crate::{OrgId, ProjectId, Timestamp, ValidationError};

/// A project's name: 1–200 characters, trimmed, no control characters; unique
/// (case-insensitively) within its organization.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ProjectName(String);

impl ProjectName {
    /// Parses a project name.
    ///
    /// # Errors
    /// When the trimmed text is empty, too long or contains control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        single_line("name", s, MAX_NAME_LEN).map(Self)
    }

    /// The validated text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness: lower case.
    #[must_use]
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The key of a project role, as it appears in tokens: 1–200 characters without
/// whitespace or control characters, unique within its project (case-sensitive,
/// as in ZITADEL).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct RoleKey(String);

impl RoleKey {
    /// Parses a role key.
    ///
    /// # Errors
    /// When the text is empty, too long, or contains whitespace or control
    /// characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "roleKey";
        if s.is_empty() {
            return Err(ValidationError::new(FIELD, "must not be empty"));
        }
        if s.chars().count() > MAX_NAME_LEN {
            return Err(ValidationError::new(FIELD, "must be at most 200 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValidationError::new(FIELD, "must not contain whitespace or control characters"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The validated text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Whether a project's applications and roles are in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProjectState {
    /// Normal operation.
    Active,
    /// Suspended: its applications cannot authenticate and its roles appear in no
    /// token until it is activated again.
    Inactive,
}

impl ProjectState {
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
            _ => Err(ValidationError::new("state", "unknown project state")),
        }
    }
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Stable id.
    pub id: ProjectId,
    /// The owning organization.
    pub org_id: OrgId,
    /// Name, unique in the organization.
    pub name: ProjectName,
    /// Active or suspended.
    pub state: ProjectState,
    /// ZITADEL's `projectRoleAssertion`: put the user's roles into tokens even
    /// when the client did not ask for them with a scope.
    pub role_assertion: bool,
    /// ZITADEL's `authorizationRequired` (`projectRoleCheck`): only users with an
    /// authorization on the project may get tokens for it.
    pub authorization_required: bool,
    /// ZITADEL's `projectAccessRequired` (`hasProjectCheck`): only users whose
    /// organization has access to the project may get tokens for it.
    pub project_access_required: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Project {
    /// A new, active project with every check off (ZITADEL's defaults).
    #[must_use]
    pub fn new(org_id: OrgId, name: ProjectName, now: Timestamp) -> Self {
        Self {
            id: ProjectId::new(),
            org_id,
            name,
            state: ProjectState::Active,
            role_assertion: false,
            authorization_required: false,
            project_access_required: false,
            created_at: now,
            updated_at: now,
        }
    }

    /// Suspends the project.
    ///
    /// # Errors
    /// When it is already inactive; the project is left unchanged.
    pub fn deactivate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == ProjectState::Inactive {
            return Err(TransitionError("the project is already inactive"));
        }
        self.state = ProjectState::Inactive;
        self.updated_at = now;
        Ok(())
    }

    /// Ends a suspension.
    ///
    /// # Errors
    /// When it is already active; the project is left unchanged.
    pub fn activate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == ProjectState::Active {
            return Err(TransitionError("the project is already active"));
        }
        self.state = ProjectState::Active;
        self.updated_at = now;
        Ok(())
    }
}

/// Longest role group (ZITADEL's limit).
pub const MAX_GROUP_LEN: usize = 200;

/// A role of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRole {
    /// The project.
    pub project_id: ProjectId,
    /// The key, unique in the project.
    pub key: RoleKey,
    /// What people see.
    pub display_name: crate::names::DisplayName,
    /// An optional group, for display only (empty when none).
    pub group: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// Parses a role group: trimmed, at most 200 characters, no control characters;
/// may be empty.
///
/// # Errors
/// When it is too long or contains control characters.
pub fn parse_group(s: &str) -> Result<String, ValidationError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    single_line("group", s, MAX_GROUP_LEN)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn role_keys_refuse_whitespace_and_empty() {
        assert!(RoleKey::parse("reader").is_ok());
        assert!(RoleKey::parse("read:all").is_ok());
        assert!(RoleKey::parse("").is_err());
        assert!(RoleKey::parse("two words").is_err());
        assert!(RoleKey::parse(&"k".repeat(201)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_compared_without_case() {
        let n = ProjectName::parse("  Billing API ").unwrap();
        assert_eq!(n.as_str(), "Billing API");
        assert_eq!(n.key(), "billing api");
        assert!(ProjectName::parse(" ").is_err());
    }

    #[test]
    fn state_transitions_refuse_no_ops() {
        let now = Utc::now();
        let mut p = Project::new(OrgId::new(), ProjectName::parse("p").unwrap(), now);
        assert!(p.activate(now).is_err());
        p.deactivate(now).unwrap();
        assert_eq!(p.state, ProjectState::Inactive);
        assert!(p.deactivate(now).is_err());
        p.activate(now).unwrap();
        assert_eq!(p.state, ProjectState::Active);
    }

    #[test]
    fn groups_may_be_empty() {
        assert_eq!(parse_group("  ").unwrap(), "");
        assert_eq!(parse_group(" ops ").unwrap(), "ops");
        assert!(parse_group(&"g".repeat(201)).is_err());
    }
}
