//! `tessera.webhook.v1.WebhookService`: event webhook targets and their
//! deliveries (docs/pat-hygiene.md "Notifications"), on every transport like
//! the rest of the API; no REST paths. The messages are the generated ones of
//! `proto/tessera/webhook/v1`.
//!
//! - `CreateWebhook {organizationId | instance, url, description, events}` →
//!   `{webhook, signingSecret}` (the secret is shown this once)
//! - `GetWebhook {id}`, `ListWebhooks {organizationId}`
//! - `UpdateWebhook {id, url?, description?, events, active?}` → `{webhook}`
//! - `RotateWebhookSecret {id}` → `{signingSecret, changeDate}`
//! - `DeleteWebhook {id}` → `{deletionDate}`
//! - `ListWebhookDeliveries {webhookId, status, offset, limit}` →
//!   `{totalResult, result}`, newest first
//! - `GetWebhookDelivery {id}` → `{delivery, attempts}`
//! - `ResendWebhookDelivery {id}` → `{delivery}`

use secrecy::ExposeSecret as _;
use tessera_core::Ctx;
use tessera_core::webhooks::{self, TargetChange, TargetInput};
use tessera_domain::repo::Page;
use tessera_domain::webhook::{Attempt, Delivery, DeliveryStatus, EventType, WebhookTarget};
use tessera_domain::{DeliveryId, OrgId, WebhookId};
use tessera_proto::tessera::webhook::v1 as pb;

use super::call::{Answer, Call};
use super::v2::{required_id, ts};
use crate::error::{ApiError, ServiceError};

fn wire(t: &WebhookTarget) -> pb::Webhook {
    pb::Webhook {
        id: t.id.to_string(),
        organization_id: t.org_id.map(|o| o.to_string()).unwrap_or_default(),
        url: t.url.clone(),
        description: t.description.clone(),
        events: t.events.iter().map(|e| e.name().to_owned()).collect(),
        active: t.active,
        creation_date: ts(t.created_at),
        change_date: ts(t.updated_at),
    }
}

fn wire_delivery(d: &Delivery) -> pb::Delivery {
    pb::Delivery {
        id: d.id.to_string(),
        webhook_id: d.target_id.to_string(),
        event_type: d.event_type.clone(),
        organization_id: d.org_id.map(|o| o.to_string()).unwrap_or_default(),
        status: d.status.name().to_owned(),
        attempts: d.attempts,
        next_attempt_date: d.next_attempt_at.and_then(ts),
        last_status_code: d.last_status_code.map(u32::from),
        last_error: d.last_error.clone().unwrap_or_default(),
        creation_date: ts(d.created_at),
        delivery_date: d.delivered_at.and_then(ts),
        payload: d.payload.clone(),
    }
}

fn wire_attempt(a: &Attempt) -> pb::Attempt {
    pb::Attempt {
        number: a.number,
        attempt_date: ts(a.attempted_at),
        status_code: a.status_code.map(u32::from),
        error: a.error.clone().unwrap_or_default(),
        duration_ms: a.duration_ms,
    }
}

/// Event names as types: an unknown name is `invalid_argument`, naming it
/// and the known ones.
pub fn events(names: &[String]) -> Result<Vec<EventType>, ServiceError> {
    names
        .iter()
        .map(|n| {
            EventType::parse(n.trim()).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|e| e.name()).collect();
                ServiceError::invalid(format!("unknown event {n:?}: one of {}", known.join(", ")))
            })
        })
        .collect()
}

fn webhook_id(v: &str) -> Result<WebhookId, ServiceError> {
    required_id("id", v, WebhookId::parse)
}

fn delivery_id(v: &str) -> Result<DeliveryId, ServiceError> {
    required_id("id", v, DeliveryId::parse)
}

async fn create(ctx: Ctx, req: pb::CreateWebhookRequest) -> Result<pb::CreateWebhookResponse, ApiError> {
    let org = match (req.instance, req.organization_id.trim()) {
        (true, "") => None,
        (true, _) => return Err(ServiceError::invalid("name an organizationId or instance, not both").into()),
        (false, "") => Some(ctx.actor.org_id),
        (false, id) => Some(required_id("organizationId", id, OrgId::parse)?),
    };
    let input =
        TargetInput { url: req.url.trim().to_owned(), description: req.description, events: events(&req.events)? };
    let (target, secret) = webhooks::create(&ctx, org, input).await?;
    Ok(pb::CreateWebhookResponse { webhook: Some(wire(&target)), signing_secret: secret.expose_secret().to_owned() })
}

async fn get(ctx: Ctx, req: pb::GetWebhookRequest) -> Result<pb::GetWebhookResponse, ApiError> {
    let target = webhooks::get(&ctx, webhook_id(&req.id)?).await?;
    Ok(pb::GetWebhookResponse { webhook: Some(wire(&target)) })
}

async fn list(ctx: Ctx, req: pb::ListWebhooksRequest) -> Result<pb::ListWebhooksResponse, ApiError> {
    let org = match req.organization_id.trim() {
        "" => None,
        id => Some(required_id("organizationId", id, OrgId::parse)?),
    };
    let targets = webhooks::list(&ctx, org).await?;
    Ok(pb::ListWebhooksResponse { result: targets.iter().map(wire).collect() })
}

async fn update(ctx: Ctx, req: pb::UpdateWebhookRequest) -> Result<pb::UpdateWebhookResponse, ApiError> {
    let change = TargetChange {
        url: req.url.map(|u| u.trim().to_owned()),
        description: req.description,
        events: if req.events.is_empty() { None } else { Some(events(&req.events)?) },
        active: req.active,
    };
    let target = webhooks::update(&ctx, webhook_id(&req.id)?, change).await?;
    Ok(pb::UpdateWebhookResponse { webhook: Some(wire(&target)) })
}

async fn rotate(ctx: Ctx, req: pb::RotateWebhookSecretRequest) -> Result<pb::RotateWebhookSecretResponse, ApiError> {
    let (target, secret) = webhooks::rotate_secret(&ctx, webhook_id(&req.id)?).await?;
    Ok(pb::RotateWebhookSecretResponse {
        signing_secret: secret.expose_secret().to_owned(),
        change_date: ts(target.updated_at),
    })
}

async fn delete(ctx: Ctx, req: pb::DeleteWebhookRequest) -> Result<pb::DeleteWebhookResponse, ApiError> {
    webhooks::delete(&ctx, webhook_id(&req.id)?).await?;
    Ok(pb::DeleteWebhookResponse { deletion_date: ts(ctx.now()) })
}

async fn deliveries(
    ctx: Ctx,
    req: pb::ListWebhookDeliveriesRequest,
) -> Result<pb::ListWebhookDeliveriesResponse, ApiError> {
    let id = required_id("webhookId", &req.webhook_id, WebhookId::parse)?;
    let status = match req.status.trim() {
        "" => None,
        s => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ServiceError::invalid(format!("unknown status {s:?}: one of pending, delivered, failed"))
        })?),
    };
    if req.limit > 1000 {
        return Err(ServiceError::invalid("limit must be at most 1000").into());
    }
    let limit = if req.limit == 0 { 100 } else { u64::from(req.limit) };
    let page = Page { offset: req.offset, limit, asc: false };
    let listed = webhooks::deliveries(&ctx, id, status, page).await?;
    Ok(pb::ListWebhookDeliveriesResponse {
        total_result: listed.total,
        result: listed.items.iter().map(wire_delivery).collect(),
    })
}

async fn delivery(ctx: Ctx, req: pb::GetWebhookDeliveryRequest) -> Result<pb::GetWebhookDeliveryResponse, ApiError> {
    let (d, attempts) = webhooks::delivery(&ctx, delivery_id(&req.id)?).await?;
    Ok(pb::GetWebhookDeliveryResponse {
        delivery: Some(wire_delivery(&d)),
        attempts: attempts.iter().map(wire_attempt).collect(),
    })
}

async fn resend(
    ctx: Ctx,
    req: pb::ResendWebhookDeliveryRequest,
) -> Result<pb::ResendWebhookDeliveryResponse, ApiError> {
    let d = webhooks::resend(&ctx, delivery_id(&req.id)?).await?;
    Ok(pb::ResendWebhookDeliveryResponse { delivery: Some(wire_delivery(&d)) })
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateWebhook" => call.run(create).await,
        "GetWebhook" => call.run(get).await,
        "ListWebhooks" => call.run(list).await,
        "UpdateWebhook" => call.run(update).await,
        "RotateWebhookSecret" => call.run(rotate).await,
        "DeleteWebhook" => call.run(delete).await,
        "ListWebhookDeliveries" => call.run(deliveries).await,
        "GetWebhookDelivery" => call.run(delivery).await,
        "ResendWebhookDelivery" => call.run(resend).await,
        _ => return None,
    })
}
