//! Operator endpoints (DESIGN.md §2): `GET /healthz` (process alive), `GET /readyz`
//! (database reachable) and `GET /metrics` (Prometheus text format).

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{HttpResponse, web};

use crate::AppState;

/// Mounts the operator endpoints.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}

/// Always 200 while the process serves requests.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header(no_store()).json(serde_json::json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the database before it says 503.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1500);

/// 200 when the database answers within [`READY_TIMEOUT`], 503 otherwise.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = actix_web::rt::time::timeout(READY_TIMEOUT, state.core.store.ping()).await;
    match ping.unwrap_or_else(|_| Err(tessera_domain::repo::RepoError::Unavailable("no answer in time".into()))) {
        Ok(()) => HttpResponse::Ok().insert_header(no_store()).json(serde_json::json!({ "status": "ready" })),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed: database unreachable");
            HttpResponse::ServiceUnavailable()
                .insert_header(no_store())
                .json(serde_json::json!({ "status": "unavailable", "reason": "database unreachable" }))
        }
    }
}

/// Prometheus text exposition.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType("text/plain; version=0.0.4; charset=utf-8".parse().unwrap_or(mime_text_plain())))
        .insert_header(no_store())
        .body(state.metrics.render())
}

fn mime_text_plain() -> actix_web::mime::Mime {
    actix_web::mime::TEXT_PLAIN_UTF_8
}
