//! The audit trail: who changed what, when. Every mutation appends one event in
//! the same transaction as the change itself (DESIGN.md §5).

use crate::{AuditEventId, OrgId, Timestamp, UserId};

/// An entry of the audit trail. Never holds a credential: `details` carries ids,
/// names and dates only.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Stable id (time-ordered).
    pub id: AuditEventId,
    /// When the change was committed.
    pub occurred_at: Timestamp,
    /// The user who made the change; `None` for the system itself (bootstrap,
    /// migrations, scheduled jobs).
    pub actor: Option<UserId>,
    /// What happened, e.g. `user.machine.created` or `pat.removed`.
    pub action: String,
    /// The kind of object changed, e.g. `user`.
    pub target_type: String,
    /// The id of the object changed.
    pub target_id: String,
    /// The organization the object belongs to, if any.
    pub org_id: Option<OrgId>,
    /// Non-secret particulars (names, dates, roles).
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// An event without details.
    #[must_use]
    pub fn new(
        occurred_at: Timestamp,
        actor: Option<UserId>,
        action: impl Into<String>,
        target_type: impl Into<String>,
        target_id: impl ToString,
        org_id: Option<OrgId>,
    ) -> Self {
        Self {
            id: AuditEventId::new(),
            occurred_at,
            actor,
            action: action.into(),
            target_type: target_type.into(),
            target_id: target_id.to_string(),
            org_id,
            details: serde_json::Value::Null,
        }
    }

    /// Attaches non-secret details.
    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
