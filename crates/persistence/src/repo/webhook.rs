//! [`WebhookRepository`] and [`NoticeRepository`] on sea-orm, and the outbox
//! writer [`enqueue`] that [`super::audit`] calls for every appended event.

use async_trait::async_trait;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};
use tessera_domain::audit::AuditEvent;
use tessera_domain::repo::{
    ExpiringCredential, Listed, NoticeCredential, NoticeRepository, Page, RepoResult, WebhookOwner, WebhookRepository,
};
use tessera_domain::webhook::{Attempt, Delivery, DeliveryStatus, EventType, WebhookTarget, event_of};
use tessera_domain::{DeliveryId, OrgId, Timestamp, UserId, WebhookId};
use uuid::Uuid;

use super::{Ctx, expect_one};
use crate::entity::{
    credential_notice as notice, machine_key, machine_secret, organization, pat, user, webhook_attempt as attempt,
    webhook_delivery as delivery, webhook_target as target,
};
use crate::error;

fn target_of(r: target::Model) -> RepoResult<WebhookTarget> {
    let names: Vec<String> = serde_json::from_str(&r.events).map_err(|e| error::corrupt("webhook events", e))?;
    let events = names
        .iter()
        .map(|n| EventType::parse(n).ok_or_else(|| error::corrupt("webhook events", format!("unknown event {n}"))))
        .collect::<RepoResult<Vec<_>>>()?;
    Ok(WebhookTarget {
        id: WebhookId::from_uuid(r.id),
        org_id: r.org_id.map(OrgId::from_uuid),
        url: r.url,
        description: r.description,
        events,
        sealed_secret: r.sealed_secret,
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

fn target_model(t: &WebhookTarget) -> target::ActiveModel {
    let names: Vec<&str> = t.events.iter().map(|e| e.name()).collect();
    target::ActiveModel {
        id: Set(*t.id.as_uuid()),
        org_id: Set(t.org_id.map(|o| *o.as_uuid())),
        url: Set(t.url.clone()),
        description: Set(t.description.clone()),
        events: Set(serde_json::json!(names).to_string()),
        sealed_secret: Set(t.sealed_secret.clone()),
        active: Set(t.active),
        created_at: Set(t.created_at),
        updated_at: Set(t.updated_at),
    }
}

fn delivery_of(r: delivery::Model) -> RepoResult<Delivery> {
    Ok(Delivery {
        id: DeliveryId::from_uuid(r.id),
        target_id: WebhookId::from_uuid(r.target_id),
        event_type: r.event_type,
        org_id: r.org_id.map(OrgId::from_uuid),
        payload: r.payload,
        created_at: r.created_at,
        status: DeliveryStatus::parse(&r.status)
            .ok_or_else(|| error::corrupt("webhook delivery status", r.status.clone()))?,
        attempts: u32::try_from(r.attempts).unwrap_or(0),
        next_attempt_at: r.next_attempt_at,
        last_status_code: r.last_status_code.and_then(|c| u16::try_from(c).ok()),
        last_error: r.last_error,
        delivered_at: r.delivered_at,
    })
}

/// Writes the outbox rows of `events`: one pending delivery per event that
/// is a webhook event and per active target that wants it, on `conn` (the
/// transaction that appends the events, so they commit or roll back
/// together). Events that raise no webhook event cost no query.
pub(crate) async fn enqueue<C: ConnectionTrait>(conn: &C, events: &[AuditEvent]) -> RepoResult<()> {
    let raised: Vec<_> = events.iter().filter_map(|e| event_of(e).map(|(t, body)| (e, t, body))).collect();
    if raised.is_empty() {
        return Ok(());
    }
    // The instance's targets and those of the events' organizations.
    let mut orgs: Vec<Uuid> = raised.iter().filter_map(|(e, _, _)| e.org_id.map(|o| *o.as_uuid())).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let targets = target::Entity::find()
        .filter(target::Column::Active.eq(true))
        .filter(Condition::any().add(target::Column::OrgId.is_null()).add(target::Column::OrgId.is_in(orgs)))
        .all(conn)
        .await
        .map_err(error::db)?
        .into_iter()
        .map(target_of)
        .collect::<RepoResult<Vec<_>>>()?;
    let mut rows = Vec::new();
    for (audit, event, body) in raised {
        for t in targets.iter().filter(|t| t.wants(event, audit.org_id)) {
            rows.push(delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                target_id: Set(*t.id.as_uuid()),
                event_type: Set(event.name().to_owned()),
                org_id: Set(audit.org_id.map(|o| *o.as_uuid())),
                payload: Set(body.clone()),
                created_at: Set(audit.occurred_at),
                status: Set(DeliveryStatus::Pending.name().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(Some(audit.occurred_at)),
                claimed_until: Set(None),
                last_status_code: Set(None),
                last_error: Set(None),
                delivered_at: Set(None),
            });
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    delivery::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await
        .map_err(|e| error::map(error::DELIVERY, e))?;
    Ok(())
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> WebhookRepository for Ctx<'_, C> {
    async fn insert(&self, t: &WebhookTarget) -> RepoResult<()> {
        target::Entity::insert(target_model(t))
            .exec_without_returning(self.write()?)
            .await
            .map_err(|e| error::map(error::WEBHOOK, e))?;
        Ok(())
    }

    async fn update(&self, t: &WebhookTarget) -> RepoResult<()> {
        let res = target::Entity::update_many()
            .set(target_model(t))
            .filter(target::Column::Id.eq(*t.id.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(|e| error::map(error::WEBHOOK, e))?;
        expect_one(res.rows_affected, error::WEBHOOK.name)
    }

    async fn delete(&self, id: WebhookId) -> RepoResult<()> {
        let conn = self.write()?;
        // The foreign keys cascade on PostgreSQL; SQLite enforces them only
        // when asked to, so the children go explicitly.
        let ids: Vec<Uuid> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(delivery::Column::TargetId.eq(*id.as_uuid()))
            .into_tuple()
            .all(conn)
            .await
            .map_err(error::db)?;
        for chunk in ids.chunks(500) {
            attempt::Entity::delete_many()
                .filter(attempt::Column::DeliveryId.is_in(chunk.iter().copied()))
                .exec(conn)
                .await
                .map_err(error::db)?;
        }
        delivery::Entity::delete_many()
            .filter(delivery::Column::TargetId.eq(*id.as_uuid()))
            .exec(conn)
            .await
            .map_err(error::db)?;
        let res = target::Entity::delete_by_id(*id.as_uuid()).exec(conn).await.map_err(error::db)?;
        expect_one(res.rows_affected, error::WEBHOOK.name)
    }

    async fn get(&self, id: WebhookId) -> RepoResult<Option<WebhookTarget>> {
        target::Entity::find_by_id(*id.as_uuid()).one(self.conn).await.map_err(error::db)?.map(target_of).transpose()
    }

    async fn list(&self, owner: WebhookOwner) -> RepoResult<Vec<WebhookTarget>> {
        let mut q = target::Entity::find();
        q = match owner {
            WebhookOwner::Any => q,
            WebhookOwner::Instance => q.filter(target::Column::OrgId.is_null()),
            WebhookOwner::Org(o) => q.filter(target::Column::OrgId.eq(*o.as_uuid())),
        };
        q.order_by_asc(target::Column::CreatedAt)
            .order_by_asc(target::Column::Id)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(target_of)
            .collect()
    }

    async fn deliveries(
        &self,
        target: WebhookId,
        status: Option<DeliveryStatus>,
        page: Page,
    ) -> RepoResult<Listed<Delivery>> {
        let mut q = delivery::Entity::find().filter(delivery::Column::TargetId.eq(*target.as_uuid()));
        if let Some(s) = status {
            q = q.filter(delivery::Column::Status.eq(s.name()));
        }
        let total = q.clone().count(self.conn).await.map_err(error::db)?;
        let (created, id) = if page.asc {
            (sea_orm::Order::Asc, sea_orm::Order::Asc)
        } else {
            (sea_orm::Order::Desc, sea_orm::Order::Desc)
        };
        let items = q
            .order_by(delivery::Column::CreatedAt, created)
            .order_by(delivery::Column::Id, id)
            .offset(page.offset)
            .limit(page.limit)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(delivery_of)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Listed { items, total })
    }

    async fn delivery(&self, id: DeliveryId) -> RepoResult<Option<Delivery>> {
        delivery::Entity::find_by_id(*id.as_uuid())
            .one(self.conn)
            .await
            .map_err(error::db)?
            .map(delivery_of)
            .transpose()
    }

    async fn attempts(&self, id: DeliveryId) -> RepoResult<Vec<Attempt>> {
        let rows = attempt::Entity::find()
            .filter(attempt::Column::DeliveryId.eq(*id.as_uuid()))
            .order_by_asc(attempt::Column::Number)
            .all(self.conn)
            .await
            .map_err(error::db)?;
        Ok(rows
            .into_iter()
            .map(|r| Attempt {
                delivery_id: DeliveryId::from_uuid(r.delivery_id),
                number: u32::try_from(r.number).unwrap_or(0),
                attempted_at: r.attempted_at,
                status_code: r.status_code.and_then(|c| u16::try_from(c).ok()),
                error: r.error,
                duration_ms: u32::try_from(r.duration_ms).unwrap_or(0),
            })
            .collect())
    }

    async fn due(&self, now: Timestamp, limit: u64) -> RepoResult<Vec<Delivery>> {
        delivery::Entity::find()
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.name()))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::ClaimedUntil.is_null())
                    .add(delivery::Column::ClaimedUntil.lt(now)),
            )
            .order_by_asc(delivery::Column::NextAttemptAt)
            .order_by_asc(delivery::Column::Id)
            .limit(limit)
            .all(self.conn)
            .await
            .map_err(error::db)?
            .into_iter()
            .map(delivery_of)
            .collect()
    }

    async fn claim(&self, id: DeliveryId, now: Timestamp, until: Timestamp) -> RepoResult<bool> {
        let res = delivery::Entity::update_many()
            .col_expr(delivery::Column::ClaimedUntil, Expr::value(until))
            .filter(delivery::Column::Id.eq(*id.as_uuid()))
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.name()))
            .filter(delivery::Column::NextAttemptAt.lte(now))
            .filter(
                Condition::any()
                    .add(delivery::Column::ClaimedUntil.is_null())
                    .add(delivery::Column::ClaimedUntil.lt(now)),
            )
            .exec(self.write_unaudited()?)
            .await
            .map_err(error::db)?;
        Ok(res.rows_affected == 1)
    }

    async fn record_attempt(&self, d: &Delivery, a: &Attempt) -> RepoResult<()> {
        let conn = self.write_unaudited()?;
        attempt::Entity::insert(attempt::ActiveModel {
            id: Set(Uuid::now_v7()),
            delivery_id: Set(*d.id.as_uuid()),
            number: Set(i32::try_from(a.number).unwrap_or(i32::MAX)),
            attempted_at: Set(a.attempted_at),
            status_code: Set(a.status_code.map(i32::from)),
            error: Set(a.error.clone()),
            duration_ms: Set(i32::try_from(a.duration_ms).unwrap_or(i32::MAX)),
        })
        .exec_without_returning(conn)
        .await
        .map_err(|e| error::map(error::DELIVERY, e))?;
        let res = delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(d.status.name()))
            .col_expr(delivery::Column::Attempts, Expr::value(i32::try_from(d.attempts).unwrap_or(i32::MAX)))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(d.next_attempt_at))
            .col_expr(delivery::Column::ClaimedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(delivery::Column::LastStatusCode, Expr::value(d.last_status_code.map(i32::from)))
            .col_expr(delivery::Column::LastError, Expr::value(d.last_error.clone()))
            .col_expr(delivery::Column::DeliveredAt, Expr::value(d.delivered_at))
            .filter(delivery::Column::Id.eq(*d.id.as_uuid()))
            .exec(conn)
            .await
            .map_err(error::db)?;
        expect_one(res.rows_affected, error::DELIVERY.name)
    }

    async fn resend(&self, id: DeliveryId, now: Timestamp) -> RepoResult<()> {
        let res = delivery::Entity::update_many()
            .col_expr(delivery::Column::Status, Expr::value(DeliveryStatus::Pending.name()))
            .col_expr(delivery::Column::Attempts, Expr::value(0))
            .col_expr(delivery::Column::NextAttemptAt, Expr::value(now))
            .col_expr(delivery::Column::ClaimedUntil, Expr::value(Option::<Timestamp>::None))
            .filter(delivery::Column::Id.eq(*id.as_uuid()))
            .exec(self.write()?)
            .await
            .map_err(error::db)?;
        expect_one(res.rows_affected, error::DELIVERY.name)
    }

    async fn purge(&self, before: Timestamp) -> RepoResult<u64> {
        let conn = self.write_unaudited()?;
        let finished = Condition::all()
            .add(delivery::Column::Status.ne(DeliveryStatus::Pending.name()))
            .add(delivery::Column::CreatedAt.lt(before));
        let ids: Vec<Uuid> = delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(finished.clone())
            .limit(1000)
            .into_tuple()
            .all(conn)
            .await
            .map_err(error::db)?;
        if ids.is_empty() {
            return Ok(0);
        }
        attempt::Entity::delete_many()
            .filter(attempt::Column::DeliveryId.is_in(ids.iter().copied()))
            .exec(conn)
            .await
            .map_err(error::db)?;
        let res = delivery::Entity::delete_many()
            .filter(delivery::Column::Id.is_in(ids))
            .exec(conn)
            .await
            .map_err(error::db)?;
        Ok(res.rows_affected)
    }
}

/// A credential row with its owner's organization.
#[derive(Debug, FromQueryResult)]
struct CredentialRow {
    id: Uuid,
    user_id: Uuid,
    org_id: Uuid,
    expires_at: Timestamp,
}

/// A PAT row with what an inactivity policy needs.
#[derive(Debug, FromQueryResult)]
struct PatRow {
    id: Uuid,
    user_id: Uuid,
    org_id: Uuid,
    expires_at: Timestamp,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    pat_inactivity_days: Option<i32>,
}

/// Users that are active machine users of active organizations.
fn live_owner() -> Condition {
    Condition::all()
        .add(user::Column::State.eq("active"))
        .add(user::Column::Kind.eq("machine"))
        .add(organization::Column::State.eq("active"))
}

#[async_trait]
impl<C: ConnectionTrait + Send + Sync> NoticeRepository for Ctx<'_, C> {
    async fn expiring(
        &self,
        from: Timestamp,
        to: Timestamp,
        overlap: chrono::Duration,
        limit: u64,
    ) -> RepoResult<Vec<ExpiringCredential>> {
        let mut out = Vec::new();
        let pats = pat::Entity::find()
            .select_only()
            .columns([pat::Column::Id, pat::Column::UserId, pat::Column::ExpiresAt, pat::Column::CreatedAt])
            .column(pat::Column::LastUsedAt)
            .column_as(user::Column::OrgId, "org_id")
            .column(organization::Column::PatInactivityDays)
            .join(JoinType::InnerJoin, pat::Relation::User.def())
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .filter(live_owner())
            .filter(
                Condition::any()
                    .add(Condition::all().add(pat::Column::ExpiresAt.gt(from)).add(pat::Column::ExpiresAt.lte(to)))
                    .add(organization::Column::PatInactivityDays.is_not_null()),
            )
            .filter(pat::Column::ExpiresAt.gt(from))
            .order_by_asc(pat::Column::ExpiresAt)
            .limit(limit)
            .into_model::<PatRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        for r in pats {
            out.push(ExpiringCredential {
                kind: NoticeCredential::Pat,
                id: r.id,
                user_id: UserId::from_uuid(r.user_id),
                org_id: OrgId::from_uuid(r.org_id),
                expires_at: r.expires_at,
                inactivity: r
                    .pat_inactivity_days
                    .and_then(|d| u32::try_from(d).ok())
                    .map(|d| (r.last_used_at.unwrap_or(r.created_at), d)),
            });
        }
        let keys = machine_key::Entity::find()
            .select_only()
            .columns([machine_key::Column::Id, machine_key::Column::UserId, machine_key::Column::ExpiresAt])
            .column_as(user::Column::OrgId, "org_id")
            .join(JoinType::InnerJoin, machine_key::Relation::User.def())
            .join(JoinType::InnerJoin, user::Relation::Organization.def())
            .filter(live_owner())
            .filter(machine_key::Column::ExpiresAt.gt(from))
            .filter(machine_key::Column::ExpiresAt.lte(to))
            .order_by_asc(machine_key::Column::ExpiresAt)
            .limit(limit)
            .into_model::<CredentialRow>()
            .all(self.conn)
            .await
            .map_err(error::db)?;
        out.extend(keys.into_iter().map(|r| credential(NoticeCredential::MachineKey, r)));
        if overlap > chrono::Duration::zero() {
            let secrets = machine_secret::Entity::find()
                .select_only()
                .columns([machine_secret::Column::Id, machine_secret::Column::UserId])
                .column_as(machine_secret::Column::SupersededAt, "expires_at")
                .column_as(user::Column::OrgId, "org_id")
                .join(JoinType::InnerJoin, machine_secret::Relation::User.def())
                .join(JoinType::InnerJoin, user::Relation::Organization.def())
                .filter(live_owner())
                .filter(machine_secret::Column::SupersededAt.gt(from - overlap))
                .filter(machine_secret::Column::SupersededAt.lte(to - overlap))
                .order_by_asc(machine_secret::Column::SupersededAt)
                .limit(limit)
                .into_model::<CredentialRow>()
                .all(self.conn)
                .await
                .map_err(error::db)?;
            out.extend(secrets.into_iter().map(|mut r| {
                r.expires_at += overlap;
                credential(NoticeCredential::MachineSecret, r)
            }));
        }
        Ok(out)
    }

    async fn sent(&self, credential: Uuid) -> RepoResult<Vec<String>> {
        notice::Entity::find()
            .select_only()
            .column(notice::Column::Notice)
            .filter(notice::Column::CredentialId.eq(credential))
            .into_tuple()
            .all(self.conn)
            .await
            .map_err(error::db)
    }

    async fn record(&self, credential: Uuid, key: &str, at: Timestamp) -> RepoResult<()> {
        notice::Entity::insert(notice::ActiveModel {
            credential_id: Set(credential),
            notice: Set(key.to_owned()),
            created_at: Set(at),
        })
        .exec_without_returning(self.write()?)
        .await
        .map_err(|e| error::map(error::NOTICE, e))?;
        Ok(())
    }

    async fn purge(&self, before: Timestamp) -> RepoResult<u64> {
        let res = notice::Entity::delete_many()
            .filter(notice::Column::CreatedAt.lt(before))
            .exec(self.write_unaudited()?)
            .await
            .map_err(error::db)?;
        Ok(res.rows_affected)
    }
}

fn credential(kind: NoticeCredential, r: CredentialRow) -> ExpiringCredential {
    ExpiringCredential {
        kind,
        id: r.id,
        user_id: UserId::from_uuid(r.user_id),
        org_id: OrgId::from_uuid(r.org_id),
        expires_at: r.expires_at,
        inactivity: None,
    }
}
