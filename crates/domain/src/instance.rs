//! The instance: the single root object of a Tessera deployment, created by the
//! first-instance bootstrap.

use crate::{InstanceId, OrgId, Timestamp};

/// Instance-wide settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Stable id; also the resource id of instance-scoped administrators.
    pub id: InstanceId,
    /// Name shown in the console.
    pub name: String,
    /// The organization that requests without an explicit organization use.
    pub default_org_id: OrgId,
    /// When the bootstrap created the instance.
    pub created_at: Timestamp,
}
