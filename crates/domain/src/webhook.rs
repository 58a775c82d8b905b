//! Event webhooks (docs/pat-hygiene.md "Notifications"): targets that receive
//! credential and security events as Standard Webhooks deliveries.
//!
//! Events are not raised separately from the change that causes them: every
//! change already appends an [`AuditEvent`] in its own transaction, and
//! [`event_of`] says which audit events are also webhook events. The
//! repository writes one [`Delivery`] per matching target in that same
//! transaction (the transactional outbox), so a rolled-back change sends
//! nothing and a committed one is sent even across a crash.

use chrono::Duration;
use serde_json::{Map, Value, json};

use crate::audit::AuditEvent;
use crate::{DeliveryId, OrgId, Timestamp, WebhookId};

/// The events a target can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A PAT, machine key or client secret expires within a notice threshold.
    CredentialExpiring,
    /// A PAT, machine key or client secret expired (or a PAT was disabled for
    /// inactivity).
    CredentialExpired,
    /// A credential was reported leaked and revoked.
    CredentialLeaked,
    /// A PAT was created.
    PatCreated,
    /// A PAT was removed.
    PatRemoved,
    /// A user was deactivated.
    UserDeactivated,
}

impl EventType {
    /// Every event type, in name order.
    pub const ALL: [Self; 6] = [
        Self::CredentialExpired,
        Self::CredentialExpiring,
        Self::CredentialLeaked,
        Self::PatCreated,
        Self::PatRemoved,
        Self::UserDeactivated,
    ];

    /// The wire name, also the audit action that raises it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CredentialExpiring => "credential.expiring",
            Self::CredentialExpired => "credential.expired",
            Self::CredentialLeaked => "credential.leaked",
            Self::PatCreated => "pat.created",
            Self::PatRemoved => "pat.removed",
            Self::UserDeactivated => "user.deactivated",
        }
    }

    /// The type named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Most targets per organization (and for the instance).
pub const MAX_TARGETS: u64 = 20;
/// Longest target URL.
pub const MAX_URL_LEN: usize = 2048;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;

/// A receiver of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// Stable id.
    pub id: WebhookId,
    /// The organization whose events it receives; `None`: every
    /// organization's (an instance target).
    pub org_id: Option<OrgId>,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Free text for people.
    pub description: String,
    /// The events it receives (never empty).
    pub events: Vec<EventType>,
    /// The signing secret (`whsec_…`), sealed under the master key; shown
    /// once, when the target is created or its secret rotated.
    pub sealed_secret: Vec<u8>,
    /// Whether new events are delivered to it.
    pub active: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl WebhookTarget {
    /// Whether the target receives `event` of organization `org`.
    #[must_use]
    pub fn wants(&self, event: EventType, org: Option<OrgId>) -> bool {
        self.active && self.events.contains(&event) && (self.org_id.is_none() || self.org_id == org)
    }
}

/// Checks a target URL: an absolute `https` (or, for an allow-listed host,
/// `http`) URL with a host and no user name or password, at most
/// [`MAX_URL_LEN`] long. Whether the host may be reached is the outbound
/// client's to say, at creation and again at every delivery.
///
/// # Errors
/// A message naming what is wrong.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("url must be at most {MAX_URL_LEN} characters"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| "url must be an absolute https:// URL".to_owned())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("url must name a host".to_owned());
    }
    if authority.contains('@') {
        return Err("url must not carry a user name or password".to_owned());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("url must not contain spaces or control characters".to_owned());
    }
    Ok(())
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet accepted by the receiver; `next_attempt_at` says when it goes.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt of [`RETRY_DELAYS`] failed; it goes again only when resent.
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The status named `name`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed].into_iter().find(|s| s.name() == name)
    }
}

/// One event on its way to one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable id: `webhook-id` is `msg_` and its simple form.
    pub id: DeliveryId,
    /// The target.
    pub target_id: WebhookId,
    /// The event's type.
    pub event_type: String,
    /// The organization the event is about.
    pub org_id: Option<OrgId>,
    /// The body, exactly as signed and sent on every attempt.
    pub payload: String,
    /// When the event happened.
    pub created_at: Timestamp,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<Timestamp>,
    /// The status code of the last attempt, if the receiver answered.
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When a receiver accepted it.
    pub delivered_at: Option<Timestamp>,
}

impl Delivery {
    /// The `webhook-id` header: the same on every attempt, so a receiver can
    /// drop duplicates.
    #[must_use]
    pub fn message_id(&self) -> String {
        format!("msg_{}", self.id.as_uuid().simple())
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// 1 for the first attempt.
    pub number: u32,
    /// When it was made.
    pub attempted_at: Timestamp,
    /// The receiver's status code, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed, if it did (never a secret: a status, a timeout, a
    /// refused address).
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u32,
}

/// The waits after each failed attempt: ten attempts in all over about 16
/// hours (the Standard Webhooks guidance: exponential backoff, bounded).
pub const RETRY_DELAYS: [i64; 9] = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800];

/// The wait after `attempts` failed attempts; `None` once they are spent.
#[must_use]
pub fn retry_after(attempts: u32) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    RETRY_DELAYS.get(index).map(|s| Duration::seconds(*s))
}

/// Most attempts of one delivery.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// The webhook event `audit` raises, with its body: `{"type", "timestamp",
/// "data"}` as Standard Webhooks suggests. `data` holds the target's type and
/// id, the organization and actor, and the audit event's details, which never
/// hold a credential (DESIGN.md §5).
#[must_use]
pub fn event_of(audit: &AuditEvent) -> Option<(EventType, String)> {
    let event = EventType::parse(&audit.action)?;
    let mut data = Map::new();
    data.insert("eventId".into(), json!(audit.id.to_string()));
    data.insert("targetType".into(), json!(audit.target_type));
    data.insert("targetId".into(), json!(audit.target_id));
    data.insert("organizationId".into(), json!(audit.org_id.map(|o| o.to_string())));
    data.insert("actorId".into(), json!(audit.actor.map(|a| a.to_string())));
    if let Value::Object(details) = &audit.details {
        for (k, v) in details {
            data.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let body = json!({
        "type": event.name(),
        "timestamp": audit.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    });
    Some((event, body.to_string()))
}

/// A notice already sent for one credential: `expiring:<days>@<deadline>` or
/// `expired@<deadline>`, so each threshold of each deadline is announced once
/// and a deadline that moves (a PAT used again under an inactivity policy) is
/// announced anew.
#[must_use]
pub fn notice_key(threshold_days: Option<u32>, deadline: Timestamp) -> String {
    let at = deadline.timestamp();
    match threshold_days {
        Some(days) => format!("expiring:{days}@{at}"),
        None => format!("expired@{at}"),
    }
}

/// The smallest of `thresholds` (days) that `remaining` lies within; `None`
/// when it lies beyond all of them.
#[must_use]
pub fn threshold_for(thresholds: &[u32], remaining: Duration) -> Option<u32> {
    thresholds.iter().copied().filter(|d| remaining <= Duration::days(i64::from(*d))).min()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;
    use crate::UserId;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.name()), Some(t));
        }
        assert_eq!(EventType::parse("pat.changed"), None);
    }

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        assert!(check_url("https://hooks.example.com/tessera").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        for bad in ["ftp://x", "https://", "https://user:pw@example.com/", "/relative", "https://a b.com/"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    #[test]
    fn retries_are_bounded_and_grow() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(1), Some(Duration::seconds(5)));
        assert_eq!(retry_after(MAX_ATTEMPTS - 1), Some(Duration::hours(8)));
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
        assert!(RETRY_DELAYS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn only_event_actions_raise_events_and_the_body_carries_details() {
        let now = chrono::Utc::now();
        let org = OrgId::new();
        let e = AuditEvent::new(now, Some(UserId::new()), "pat.created", "personal_access_token", "t1", Some(org))
            .with_details(json!({"userId": "u1", "targetId": "not this"}));
        let (t, body) = event_of(&e).unwrap();
        assert_eq!(t, EventType::PatCreated);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["type"], "pat.created");
        assert_eq!(body["data"]["targetId"], "t1");
        assert_eq!(body["data"]["userId"], "u1");
        assert_eq!(body["data"]["organizationId"], org.to_string());
        assert!(event_of(&AuditEvent::new(now, None, "user.changed", "user", "u", None)).is_none());
    }

    #[test]
    fn the_smallest_threshold_reached_is_chosen() {
        assert_eq!(threshold_for(&[7, 1], Duration::days(8)), None);
        assert_eq!(threshold_for(&[7, 1], Duration::days(7)), Some(7));
        assert_eq!(threshold_for(&[7, 1], Duration::hours(30)), Some(7));
        assert_eq!(threshold_for(&[7, 1], Duration::hours(20)), Some(1));
    }

    #[test]
    fn notice_keys_name_the_deadline() {
        let at = chrono::DateTime::from_timestamp(1_000, 0).unwrap();
        assert_eq!(notice_key(Some(7), at), "expiring:7@1000");
        assert_eq!(notice_key(None, at), "expired@1000");
    }

    #[test]
    fn a_target_wants_its_events_of_its_organization() {
        let org = OrgId::new();
        let now = chrono::Utc::now();
        let mut t = WebhookTarget {
            id: WebhookId::new(),
            org_id: Some(org),
            url: "https://x".into(),
            description: String::new(),
            events: vec![EventType::PatCreated],
            sealed_secret: Vec::new(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        assert!(t.wants(EventType::PatCreated, Some(org)));
        assert!(!t.wants(EventType::PatCreated, Some(OrgId::new())));
        assert!(!t.wants(EventType::PatRemoved, Some(org)));
        t.org_id = None;
        assert!(t.wants(EventType::PatCreated, Some(OrgId::new())));
        t.active = false;
        assert!(!t.wants(EventType::PatCreated, Some(org)));
    }
}
