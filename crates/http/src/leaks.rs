//! Leaked-token revocation (docs/pat-hygiene.md):
//!
//! - `POST /tessera/v1/secret-scanning/github`: GitHub's secret scanning
//!   partner program. The body `[{token, type, url, source}]` is signed with
//!   ECDSA P-256 (`Github-Public-Key-Identifier`, `Github-Public-Key-Signature`,
//!   base64 DER over the raw body) by a key of the configured key list. Every
//!   genuine Tessera credential in it is revoked; the answer is the feedback
//!   array `[{token_hash, token_type, label}]` (`true_positive` for a revoked
//!   credential, `false_positive` otherwise). Not served (404) unless a key list
//!   is configured.
//! - `POST /tessera/v1/credentials/revoke`: anyone holding credentials may
//!   revoke them, like GitHub's credential revocation API: `{"credentials":
//!   ["tsr_…", …]}` → `202 {}`, the same whether or not any existed. Each call
//!   drains the caller's rate-limit bucket like a failed authentication.
//!
//! Tokens never reach a log or an error; only their SHA-256 goes back.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tessera_domain::Timestamp;
use tessera_oauth::federation::keys::FetchJson;
use tessera_oauth::leaks::{PartnerKeys, Verdict, revoke_leaked};
use tokio::sync::Mutex;

use crate::AppState;
use crate::ratelimit::Keys;

/// The partner endpoint's path.
pub const GITHUB_PATH: &str = "/tessera/v1/secret-scanning/github";
/// The plain revocation endpoint's path.
pub const REVOKE_PATH: &str = "/tessera/v1/credentials/revoke";
/// Largest report body read.
const MAX_BODY: usize = 1024 * 1024;
/// Most tokens in one report.
const MAX_REPORTED: usize = 1000;
/// Most credentials in one plain revocation.
const MAX_REVOKED: usize = 100;

/// Where the partner's keys come from.
pub enum KeySource {
    /// A key list read at start.
    Fixed(PartnerKeys),
    /// A key list fetched from a URL with the outbound client: on first use,
    /// after a day, and when a report names an unknown key (at most once a
    /// minute); a failed fetch keeps the keys held.
    Url {
        /// The list's URL.
        url: String,
        /// The outbound client.
        fetch: Arc<dyn FetchJson>,
    },
}

/// The configured partner, if any.
#[derive(Default)]
pub struct Leaks {
    github: Option<Partner>,
}

struct Partner {
    source: KeySource,
    cached: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    keys: PartnerKeys,
    fetched_at: Option<Timestamp>,
    tried_at: Option<Timestamp>,
}

impl Leaks {
    /// GitHub's secret scanning with keys from `source`.
    #[must_use]
    pub fn github(source: KeySource) -> Self {
        Self { github: Some(Partner { source, cached: Mutex::default() }) }
    }
}

impl Partner {
    /// The keys to check a report signed by `key_id` against.
    async fn keys(&self, key_id: &str, now: Timestamp) -> PartnerKeys {
        let (url, fetch) = match &self.source {
            KeySource::Fixed(keys) => return keys.clone(),
            KeySource::Url { url, fetch } => (url, fetch),
        };
        let mut cached = self.cached.lock().await;
        let stale = cached.fetched_at.is_none_or(|t| now - t >= chrono::Duration::days(1));
        let may_try = cached.tried_at.is_none_or(|t| now - t >= chrono::Duration::minutes(1));
        if (stale || !cached.keys.knows(key_id)) && may_try {
            cached.tried_at = Some(now);
            match fetch.get(url).await.map_err(|e| e.0).and_then(|f| PartnerKeys::parse(&f.body)) {
                Ok(keys) => {
                    cached.keys = keys;
                    cached.fetched_at = Some(now);
                }
                Err(reason) => tracing::warn!(%reason, "cannot refresh the secret scanning key list"),
            }
        }
        cached.keys.clone()
    }
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message}))
}

/// `POST /tessera/v1/secret-scanning/github`.
pub async fn github(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let Some(partner) = &state.leaks.github else {
        return error(StatusCode::NOT_FOUND, "secret scanning is not configured on this server");
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (Some(key_id), Some(signature)) =
        (header("Github-Public-Key-Identifier"), header("Github-Public-Key-Signature"))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "a report needs the headers Github-Public-Key-Identifier and Github-Public-Key-Signature",
        );
    };
    let now = state.core.clock.now();
    if !partner.keys(&key_id, now).await.verify(&key_id, &signature, &body) {
        tracing::warn!(key_id = %key_id.chars().take(128).collect::<String>(), "secret scanning report refused: bad signature");
        return error(StatusCode::UNAUTHORIZED, "the signature does not verify under the named key");
    }
    let Ok(Value::Array(reports)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body must be a JSON array of {token, type, url, source}");
    };
    if reports.len() > MAX_REPORTED {
        return error(StatusCode::BAD_REQUEST, "at most 1000 tokens per report");
    }
    let mut feedback = Vec::with_capacity(reports.len());
    for report in &reports {
        let field = |name: &str| report.get(name).and_then(Value::as_str).unwrap_or_default();
        let token = field("token");
        let details = json!({
            "reporter": "github-secret-scanning",
            "tokenType": field("type"),
            "url": field("url"),
            "source": field("source"),
        });
        let verdict = match revoke_leaked(state.core.store.as_ref(), now, token, details).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "secret scanning report: cannot revoke");
                return error(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; send the report again");
            }
        };
        let label = if matches!(verdict, Verdict::Revoked(_)) { "true_positive" } else { "false_positive" };
        feedback.push(json!({
            "token_hash": hex(&Sha256::digest(token.as_bytes())),
            "token_type": field("type"),
            "label": label,
        }));
    }
    let revoked = feedback.iter().filter(|f| f["label"] == "true_positive").count();
    tracing::info!(reported = reports.len(), revoked, "secret scanning report handled");
    HttpResponse::Ok().json(feedback)
}

/// `POST /tessera/v1/credentials/revoke`.
pub async fn revoke(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let keys = Keys::new(state.proxies.client_addr(&req), None);
    if let Err(limited) = state.rate_check(&keys, "credential_revoke") {
        return HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::RETRY_AFTER, limited.retry_after_secs))
            .json(json!({"error": "too many revocations from this address; retry later"}));
    }
    state.auth_failed(&keys, "credential_revoke");
    let list = serde_json::from_slice::<Value>(&body).ok().and_then(|v| match v.get("credentials") {
        Some(Value::Array(list)) => Some(list.clone()),
        _ => None,
    });
    let Some(list) = list else {
        return error(StatusCode::BAD_REQUEST, "the body must be {\"credentials\": [\"tsr_…\", …]}");
    };
    if list.len() > MAX_REVOKED {
        return error(StatusCode::BAD_REQUEST, "at most 100 credentials per call");
    }
    let now = state.core.clock.now();
    for credential in list.iter().filter_map(Value::as_str) {
        let details = json!({"reporter": "credential revocation endpoint"});
        if let Err(e) = revoke_leaked(state.core.store.as_ref(), now, credential, details).await {
            tracing::error!(error = %e, "credential revocation: cannot revoke");
            return error(StatusCode::SERVICE_UNAVAILABLE, "the database is unavailable; send the request again");
        }
    }
    HttpResponse::Accepted().json(json!({}))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers both endpoints.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(GITHUB_PATH).app_data(web::PayloadConfig::new(MAX_BODY)).route(web::post().to(github)))
        .service(web::resource(REVOKE_PATH).app_data(web::PayloadConfig::new(64 * 1024)).route(web::post().to(revoke)));
}
