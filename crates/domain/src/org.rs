//! Organizations: the unit that owns users, projects and policies.

use chrono::Duration;

use crate::names::OrgName;
use crate::user::TransitionError;
use crate::{OrgId, Timestamp, ValidationError};

/// Whether an organization's members may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgState {
    /// Normal operation.
    Active,
    /// Suspended: every credential of every user in it is rejected until the
    /// organization is activated again.
    Inactive,
}

impl OrgState {
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
            _ => Err(ValidationError::new("state", "unknown organization state")),
        }
    }
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Stable id.
    pub id: OrgId,
    /// Unique name.
    pub name: OrgName,
    /// Active or suspended.
    pub state: OrgState,
    /// Tessera extension: the longest lifetime a personal access token issued in
    /// this organization may have. `None` means no limit (ZITADEL's behaviour).
    pub pat_max_lifetime: Option<Duration>,
    /// Tessera extension: personal access tokens issued in this organization
    /// must be fine-grained (name a scope, docs/pat-hygiene.md).
    pub pat_require_scope: bool,
    /// Tessera extension: personal access tokens of this organization unused
    /// for this many days are disabled (docs/pat-hygiene.md); `None`: never.
    pub pat_inactivity_days: Option<u32>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Organization {
    /// A new, active organization without a PAT lifetime limit.
    #[must_use]
    pub fn new(name: OrgName, now: Timestamp) -> Self {
        Self {
            id: OrgId::new(),
            name,
            state: OrgState::Active,
            pat_max_lifetime: None,
            pat_require_scope: false,
            pat_inactivity_days: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Suspends the organization: every credential of every user in it stops
    /// working until it is activated again.
    ///
    /// # Errors
    /// When it is already inactive (ZITADEL's `Errors.Org.AlreadyDeactivated`);
    /// the organization is left unchanged.
    pub fn deactivate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == OrgState::Inactive {
            return Err(TransitionError("the organization is already inactive"));
        }
        self.state = OrgState::Inactive;
        self.updated_at = now;
        Ok(())
    }

    /// Ends a suspension.
    ///
    /// # Errors
    /// When it is already active (ZITADEL's `Errors.Org.AlreadyActive`); the
    /// organization is left unchanged.
    pub fn activate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == OrgState::Active {
            return Err(TransitionError("the organization is already active"));
        }
        self.state = OrgState::Active;
        self.updated_at = now;
        Ok(())
    }

    /// Renames the organization.
    ///
    /// # Errors
    /// When `name` is the current name (ZITADEL's `Errors.Org.NotChanged`); a
    /// change of case only is a change.
    pub fn rename(&mut self, name: OrgName, now: Timestamp) -> Result<(), TransitionError> {
        if self.name == name {
            return Err(TransitionError("the organization's name is not changed"));
        }
        self.name = name;
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Clock, SystemClock};

    fn acme() -> Organization {
        Organization::new(OrgName::parse("Acme").unwrap(), SystemClock.now())
    }

    #[test]
    fn state_changes_refuse_the_state_the_organization_is_in() {
        let mut org = acme();
        assert!(org.activate(SystemClock.now()).is_err());
        assert!(org.deactivate(SystemClock.now()).is_ok());
        assert_eq!(org.state, OrgState::Inactive);
        assert!(org.deactivate(SystemClock.now()).is_err());
        assert!(org.activate(SystemClock.now()).is_ok());
        assert_eq!(org.state, OrgState::Active);
    }

    #[test]
    fn renaming_to_the_same_name_is_not_a_change() {
        let mut org = acme();
        assert!(org.rename(OrgName::parse("Acme").unwrap(), SystemClock.now()).is_err());
        assert!(org.rename(OrgName::parse("ACME").unwrap(), SystemClock.now()).is_ok());
        assert_eq!(org.name.as_str(), "ACME");
    }
}
