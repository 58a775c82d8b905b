//! [`AuditRepository`] on sea-orm.

use async_trait::async_trait;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};
use tessera_domain::audit::AuditEvent;
use tessera_domain::repo::{AuditRepository, RepoResult};
use tessera_domain::{AuditEventId, OrgId, UserId};

use super::Ctx;
use crate::entity::audit_event;
use crate::error;

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> AuditRepository for Ctx<'_, C> {
    async fn append(&self, e: &AuditEvent) -> RepoResult<()> {
        self.append_many(std::slice::from_ref(e)).await
    }

    async fn append_many(&self, events: &[AuditEvent]) -> RepoResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let models = events.iter().map(|e| audit_event::ActiveModel {
            id: Set(*e.id.as_uuid()),
            occurred_at: Set(e.occurred_at),
            actor_id: Set(e.actor.map(|a| *a.as_uuid())),
            action: Set(e.action.clone()),
            target_type: Set(e.target_type.clone()),
            target_id: Set(e.target_id.clone()),
            org_id: Set(e.org_id.map(|o| *o.as_uuid())),
            details: Set(if e.details.is_null() { None } else { Some(e.details.to_string()) }),
        });
        let conn = self.audit()?;
        audit_event::Entity::insert_many(models)
            .exec_without_returning(conn)
            .await
            .map_err(|err| error::map(error::AUDIT, err))?;
        // The transactional outbox: the deliveries these events raise commit
        // or roll back with them (crates/domain/src/webhook.rs).
        if self.tx.is_some_and(|t| t.outbox) { super::webhook::enqueue(conn, events).await } else { Ok(()) }
    }

    async fn recent(&self, limit: u64) -> RepoResult<Vec<AuditEvent>> {
        let rows = audit_event::Entity::find()
            .order_by_desc(audit_event::Column::OccurredAt)
            .order_by_desc(audit_event::Column::Id)
            .limit(limit)
            .all(self.conn)
            .await
            .map_err(error::db)?;
        rows.into_iter()
            .map(|r| {
                let details = match r.details {
                    Some(d) => serde_json::from_str(&d).map_err(|e| error::corrupt("audit details", e))?,
                    None => serde_json::Value::Null,
                };
                Ok(AuditEvent {
                    id: AuditEventId::from_uuid(r.id),
                    occurred_at: r.occurred_at,
                    actor: r.actor_id.map(UserId::from_uuid),
                    action: r.action,
                    target_type: r.target_type,
                    target_id: r.target_id,
                    org_id: r.org_id.map(OrgId::from_uuid),
                    details,
                })
            })
            .collect()
    }
}
