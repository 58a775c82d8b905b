//! Organizations: the unit that owns users, projects and policies.

use chrono::Duration;

use crate::names::OrgName;
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
            created_at: now,
            updated_at: now,
        }
    }
}
