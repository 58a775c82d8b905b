//! Event webhooks on the console (docs/pat-hygiene.md "Notifications"): the
//! selected organization's targets (and the instance's, for an instance
//! reader), "+ New" with the signing secret shown once; on a target's page
//! its recent deliveries with status, response code and next retry, one
//! delivery's attempts, resend, enable/disable, a new secret and removal.
//! Everything goes through the same use cases as
//! `tessera.webhook.v1.WebhookService` and `tessera webhooks`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use tessera_core::webhooks::{self, TargetChange, TargetInput};
use tessera_domain::permission::{Target, perm};
use tessera_domain::repo::Page;
use tessera_domain::webhook::{DeliveryStatus, EventType, WebhookTarget};
use tessera_domain::{DeliveryId, WebhookId};

use super::pages::{
    CsrfForm, Layout, PageResult, caller, csrf, current_org, fmt_time, html, layout, nav, page, see_other,
};
use super::session::ConsoleCaller;
use crate::AppState;
use crate::error::ServiceError;

/// Deliveries shown on a target's page.
const RECENT: u64 = 50;

struct TargetRow {
    id: String,
    url: String,
    events: String,
    scope_key: &'static str,
    active: bool,
}

fn row(t: &WebhookTarget) -> TargetRow {
    TargetRow {
        id: t.id.to_string(),
        url: t.url.clone(),
        events: t.events.iter().map(|e| e.name()).collect::<Vec<_>>().join(", "),
        scope_key: if t.org_id.is_some() { "webhooks.scope.org" } else { "webhooks.scope.instance" },
        active: t.active,
    }
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct WebhooksPage {
    l: Layout,
    csrf: String,
    rows: Vec<TargetRow>,
    events: Vec<&'static str>,
    can_create: bool,
    can_instance: bool,
    /// A just-created target's id and secret, shown once.
    created: Option<(String, String)>,
    error: Option<String>,
}

async fn render_list(
    req: &HttpRequest,
    caller: &ConsoleCaller,
    created: Option<(String, String)>,
    error: Option<String>,
) -> PageResult {
    let org = current_org(req, caller);
    let ctx = &caller.ctx;
    let mut targets = webhooks::list(ctx, Some(org)).await?;
    if ctx.actor.can(perm::POLICY_READ, Target::Instance) {
        targets.extend(webhooks::list(ctx, None).await?.into_iter().filter(|t| t.org_id.is_none()));
    }
    let p = WebhooksPage {
        l: layout(req, Some(nav(req, caller).await?)),
        csrf: caller.csrf.clone(),
        rows: targets.iter().map(row).collect(),
        events: EventType::ALL.iter().map(|e| e.name()).collect(),
        can_create: ctx.actor.can(perm::POLICY_WRITE, Target::Org(org)),
        can_instance: ctx.actor.can(perm::POLICY_WRITE, Target::Instance),
        created,
        error,
    };
    let status = if p.error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok(html(status, p.render()?))
}

/// `GET /webhooks`.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        render_list(&req, &caller, None, None).await
    })
    .await
}

/// The new-target form. `event` repeats, so it is read from the raw body.
#[derive(Deserialize, Default)]
pub struct TargetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
    /// `org` or `instance`.
    #[serde(default)]
    scope: String,
    #[serde(default)]
    event: Vec<String>,
}

/// Parses a form whose `event` field repeats.
fn parse_form(body: &[u8]) -> TargetForm {
    let mut form = TargetForm::default();
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "csrf" => form.csrf = v.into_owned(),
            "url" => form.url = v.into_owned(),
            "description" => form.description = v.into_owned(),
            "scope" => form.scope = v.into_owned(),
            "event" => form.event.push(v.into_owned()),
            _ => {}
        }
    }
    form
}

/// `POST /webhooks`: creates a target and shows its secret once; a refused
/// form comes back with the reason.
pub async fn create(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let form = parse_form(&body);
        csrf(&caller, &form.csrf)?;
        let org = if form.scope == "instance" { None } else { Some(current_org(&req, &caller)) };
        let made = match crate::api::webhook::events(&form.event) {
            Ok(events) => {
                let input = TargetInput {
                    url: form.url.trim().to_owned(),
                    description: form.description.trim().to_owned(),
                    events,
                };
                webhooks::create(&caller.ctx, org, input).await
            }
            Err(e) => Err(e),
        };
        match made {
            Ok((target, secret)) => {
                let created = Some((target.id.to_string(), secret.expose_secret().to_owned()));
                render_list(&req, &caller, created, None).await
            }
            Err(ServiceError::InvalidArgument(m)) => render_list(&req, &caller, None, Some(m.into_owned())).await,
            Err(e) => Err(e.into()),
        }
    })
    .await
}

struct DeliveryRow {
    id: String,
    event: String,
    created: String,
    status: &'static str,
    status_class: &'static str,
    attempts: u32,
    code: String,
    next: String,
    error: String,
    resendable: bool,
}

struct AttemptRow {
    number: u32,
    at: String,
    code: String,
    error: String,
    duration_ms: u32,
}

/// The dialog open on a target's page.
pub enum TargetDialog {
    /// None.
    None,
    /// Confirm removing the target.
    Delete,
    /// A new signing secret, shown once.
    Secret(String),
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    l: Layout,
    csrf: String,
    t: TargetRow,
    description: String,
    deliveries: Vec<DeliveryRow>,
    total: u64,
    /// The delivery whose attempts show, and they.
    attempts: Option<(String, Vec<AttemptRow>)>,
    can_write: bool,
    dialog: TargetDialog,
}

fn webhook_id(s: &str) -> Result<WebhookId, ServiceError> {
    WebhookId::parse(s).map_err(|_| ServiceError::not_found("webhook not found"))
}

fn delivery_id(s: &str) -> Result<DeliveryId, ServiceError> {
    DeliveryId::parse(s).map_err(|_| ServiceError::not_found("delivery not found"))
}

async fn render(
    req: &HttpRequest,
    caller: &ConsoleCaller,
    id: WebhookId,
    shown: Option<DeliveryId>,
    dialog: TargetDialog,
) -> PageResult {
    let ctx = &caller.ctx;
    let target = webhooks::get(ctx, id).await?;
    let listed = webhooks::deliveries(ctx, id, None, Page { offset: 0, limit: RECENT, asc: false }).await?;
    let deliveries = listed
        .items
        .iter()
        .map(|d| {
            let (status, status_class) = match d.status {
                DeliveryStatus::Pending => ("webhooks.status.pending", "badge-inactive"),
                DeliveryStatus::Delivered => ("webhooks.status.delivered", "badge-active"),
                DeliveryStatus::Failed => ("webhooks.status.failed", "badge-locked"),
            };
            DeliveryRow {
                id: d.id.to_string(),
                event: d.event_type.clone(),
                created: fmt_time(d.created_at),
                status,
                status_class,
                attempts: d.attempts,
                code: d.last_status_code.map(|c| c.to_string()).unwrap_or_default(),
                next: d.next_attempt_at.map(fmt_time).unwrap_or_default(),
                error: d.last_error.clone().unwrap_or_default(),
                resendable: d.status != DeliveryStatus::Pending,
            }
        })
        .collect();
    let attempts = match shown {
        Some(d) => {
            let (delivery, list) = webhooks::delivery(ctx, d).await?;
            if delivery.target_id != id {
                return Err(ServiceError::not_found("delivery not found").into());
            }
            let rows = list
                .iter()
                .map(|a| AttemptRow {
                    number: a.number,
                    at: fmt_time(a.attempted_at),
                    code: a.status_code.map(|c| c.to_string()).unwrap_or_default(),
                    error: a.error.clone().unwrap_or_default(),
                    duration_ms: a.duration_ms,
                })
                .collect();
            Some((d.to_string(), rows))
        }
        None => None,
    };
    let owner = target.org_id.map_or(Target::Instance, Target::Org);
    let p = WebhookPage {
        l: layout(req, Some(nav(req, caller).await?)),
        csrf: caller.csrf.clone(),
        t: row(&target),
        description: target.description.clone(),
        deliveries,
        total: listed.total,
        attempts,
        can_write: ctx.actor.can(perm::POLICY_WRITE, owner),
        dialog,
    };
    Ok(html(StatusCode::OK, p.render()?))
}

/// The target page's query.
#[derive(Deserialize)]
pub struct WebhookQuery {
    #[serde(default)]
    dialog: String,
    #[serde(default)]
    delivery: String,
}

/// `GET /webhooks/{id}`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<WebhookQuery>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let dialog = if q.dialog == "delete" { TargetDialog::Delete } else { TargetDialog::None };
        let shown = if q.delivery.is_empty() { None } else { Some(delivery_id(&q.delivery)?) };
        render(&req, &caller, webhook_id(&path)?, shown, dialog).await
    })
    .await
}

/// The enable/disable form.
#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

/// `POST /webhooks/{id}/active`.
pub async fn set_active(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ActiveForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = webhook_id(&path)?;
        let change = TargetChange { active: Some(form.active == "true"), ..Default::default() };
        webhooks::update(&caller.ctx, id, change).await?;
        Ok(see_other(&format!("/ui/console/webhooks/{id}")))
    })
    .await
}

/// `POST /webhooks/{id}/secret`: a new signing secret, shown once.
pub async fn rotate(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = webhook_id(&path)?;
        let (_, secret) = webhooks::rotate_secret(&caller.ctx, id).await?;
        render(&req, &caller, id, None, TargetDialog::Secret(secret.expose_secret().to_owned())).await
    })
    .await
}

/// `POST /webhooks/{id}/delete` (after the confirmation dialog).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        webhooks::delete(&caller.ctx, webhook_id(&path)?).await?;
        Ok(see_other("/ui/console/webhooks"))
    })
    .await
}

/// `POST /webhooks/{id}/deliveries/{delivery}/resend`.
pub async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let (id, delivery) = (webhook_id(&path.0)?, delivery_id(&path.1)?);
        let found = webhooks::delivery(&caller.ctx, delivery).await?.0;
        if found.target_id != id {
            return Err(ServiceError::not_found("delivery not found").into());
        }
        webhooks::resend(&caller.ctx, delivery).await?;
        Ok(see_other(&format!("/ui/console/webhooks/{id}?delivery={delivery}")))
    })
    .await
}
