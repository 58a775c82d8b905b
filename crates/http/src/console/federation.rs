//! Federated credentials of a service user on its detail page
//! (docs/federation.md): "+ New", edit and remove, through the same use cases
//! as `tessera.federation.v1.FederationService` and `tessera federation`.
//!
//! The form carries every part of a credential; conditions are a text area of
//! `claim=pattern` lines (a claim name cannot hold `=`, so the first `=`
//! separates them). A form the use case refuses is shown again with the reason
//! and the values as they were typed, so nothing has to be typed twice.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tessera_core::federation::{self, FederatedChange, NewFederated};
use tessera_domain::federation::{Audience, ClaimCondition, FederatedCredential, Issuer, KeySource, Subject};
use tessera_domain::names::{Description, DisplayName};
use tessera_domain::{FederatedCredentialId, UserId};

use super::pages::{CsrfForm, Dialog, PageError, PageResult, caller, csrf, page, render_user, see_other, service_user};
use crate::AppState;
use crate::error::{ServiceError, console_error};

/// The largest form the add and edit routes read: an inline key set may be
/// 16 KiB, which URL-encoding can triple, plus the other fields.
pub const FORM_LIMIT: usize = 64 * 1024;

/// The add and edit form, as typed: shown again when it is refused.
#[derive(Deserialize, Default, Clone)]
pub struct FederationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) description: String,
    #[serde(default)]
    pub(super) issuer: String,
    /// `discovery`, `jwks_url` or `jwks`.
    #[serde(default)]
    pub(super) keys: String,
    #[serde(default)]
    pub(super) jwks_url: String,
    #[serde(default)]
    pub(super) jwks: String,
    #[serde(default)]
    pub(super) subject: String,
    /// Empty: this server's issuer URL.
    #[serde(default)]
    pub(super) audience: String,
    /// One `claim=pattern` per line.
    #[serde(default)]
    pub(super) conditions: String,
}

/// The add or edit dialog: the form, the credential it edits (none for a new
/// one) and why the last submission was refused.
pub struct FederationDialog {
    pub(super) form: FederationForm,
    /// What an empty audience stands for: this server's issuer URL.
    pub(super) default_audience: String,
    pub(super) editing: Option<String>,
    pub(super) error: Option<String>,
}

/// One row of the section.
pub struct FederationRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) issuer: String,
    /// The message key of the key source.
    pub(super) keys: &'static str,
    pub(super) subject: String,
    pub(super) audience: String,
    pub(super) conditions: Vec<String>,
}

impl FederationRow {
    pub(super) fn of(c: &FederatedCredential) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.as_str().to_owned(),
            issuer: c.issuer.as_str().to_owned(),
            keys: keys_label(&c.key_source),
            subject: c.subject.as_str().to_owned(),
            audience: c.audience.as_str().to_owned(),
            conditions: c.conditions.iter().map(|c| format!("{}={}", c.claim(), c.pattern())).collect(),
        }
    }
}

const fn keys_label(source: &KeySource) -> &'static str {
    match source {
        KeySource::Discovery => "federation.keys.discovery",
        KeySource::JwksUrl(_) => "federation.keys.jwks_url",
        KeySource::Inline(_) => "federation.keys.jwks",
    }
}

impl FederationForm {
    /// The form of a stored credential, for the edit dialog.
    pub(super) fn of(c: &FederatedCredential) -> Self {
        let (keys, jwks_url, jwks) = match &c.key_source {
            KeySource::Discovery => ("discovery", String::new(), String::new()),
            KeySource::JwksUrl(url) => ("jwks_url", url.clone(), String::new()),
            KeySource::Inline(text) => ("jwks", String::new(), text.clone()),
        };
        Self {
            csrf: String::new(),
            name: c.name.as_str().to_owned(),
            description: c.description.as_str().to_owned(),
            issuer: c.issuer.as_str().to_owned(),
            keys: keys.to_owned(),
            jwks_url,
            jwks,
            subject: c.subject.as_str().to_owned(),
            audience: c.audience.as_str().to_owned(),
            conditions: c.conditions.iter().map(|c| format!("{}={}\n", c.claim(), c.pattern())).collect(),
        }
    }

    /// The credential the form describes; `own_issuer` is the audience when
    /// the field is empty.
    fn parse(&self, own_issuer: &str) -> Result<NewFederated, ServiceError> {
        let key_source = match self.keys.as_str() {
            "" | "discovery" => KeySource::Discovery,
            "jwks_url" => KeySource::jwks_url(self.jwks_url.trim())?,
            "jwks" => KeySource::inline(&self.jwks)?,
            _ => return Err(ServiceError::invalid("keys must be discovery, jwks_url or jwks")),
        };
        let audience = self.audience.trim();
        Ok(NewFederated {
            name: DisplayName::parse("name", self.name.trim())?,
            description: Description::parse(&self.description)?,
            issuer: Issuer::parse(self.issuer.trim())?,
            key_source,
            subject: Subject::parse(self.subject.trim())?,
            audience: Audience::parse(if audience.is_empty() { own_issuer } else { audience })?,
            conditions: parse_conditions(&self.conditions)?,
        })
    }
}

/// `claim=pattern` lines; blank lines are skipped and spaces around the claim
/// and the pattern dropped (a pattern that starts or ends with a space can be
/// set through the API).
fn parse_conditions(text: &str) -> Result<Vec<ClaimCondition>, ServiceError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (claim, pattern) = line
                .split_once('=')
                .ok_or_else(|| ServiceError::invalid("conditions: each line must be claim=pattern"))?;
            Ok(ClaimCondition::parse(claim.trim(), pattern.trim())?)
        })
        .collect()
}

fn credential_id(s: &str) -> Result<FederatedCredentialId, PageError> {
    FederatedCredentialId::parse(s).map_err(|_| ServiceError::not_found("federated credential not found").into())
}

/// Shows the dialog again with the reason for a refused form, or fails the
/// page for any other error.
async fn refused(
    req: &HttpRequest,
    caller: &super::session::ConsoleCaller,
    user: &tessera_domain::user::User,
    dialog: FederationDialog,
    e: ServiceError,
) -> PageResult {
    if !matches!(e, ServiceError::InvalidArgument(_) | ServiceError::FailedPrecondition(_)) {
        return Err(e.into());
    }
    let (status, message) = console_error(&e);
    let mut res =
        render_user(req, caller, user, Dialog::Federation(Box::new(FederationDialog { error: message, ..dialog })))
            .await?;
    *res.status_mut() = status;
    Ok(res)
}

fn own_issuer(state: &AppState) -> String {
    state.tokens.config().issuer.clone()
}

fn anchor(id: UserId) -> String {
    format!("/ui/console/users/{id}#federation")
}

/// `POST /users/{id}/federation`: adds a federated credential.
pub async fn add(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<FederationForm>,
) -> HttpResponse {
    page(&req, save(&req, &state, &path, None, form.into_inner())).await
}

/// `POST /users/{id}/federation/{credential}`: replaces every part of a
/// federated credential with the form's.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<FederationForm>,
) -> HttpResponse {
    page(&req, save(&req, &state, &path.0, Some(&path.1), form.into_inner())).await
}

/// Adds (no `credential`) or replaces a credential of the user `user`.
async fn save(
    req: &HttpRequest,
    state: &AppState,
    user: &str,
    credential: Option<&str>,
    form: FederationForm,
) -> PageResult {
    let caller = caller(state, req).await?;
    csrf(&caller, &form.csrf)?;
    let id = super::pages::user_id(user)?;
    let credential = credential.map(credential_id).transpose()?;
    let user = service_user(&caller, id).await?;
    let result = match (form.parse(&own_issuer(state)), credential) {
        (Err(e), _) => Err(e),
        (Ok(new), None) => federation::add(&caller.ctx, id, new).await.map(drop),
        (Ok(new), Some(credential)) => {
            let change = FederatedChange {
                name: Some(new.name),
                description: Some(new.description),
                issuer: Some(new.issuer),
                key_source: Some(new.key_source),
                subject: Some(new.subject),
                audience: Some(new.audience),
                conditions: Some(new.conditions),
            };
            federation::update(&caller.ctx, id, credential, change).await.map(drop)
        }
    };
    match result {
        Ok(()) => Ok(see_other(&anchor(id))),
        Err(e) => {
            let editing = credential.map(|c| c.to_string());
            let dialog = FederationDialog { form, default_audience: own_issuer(state), editing, error: None };
            refused(req, &caller, &user, dialog, e).await
        }
    }
}

/// `POST /users/{id}/federation/{credential}/remove` (after the confirmation
/// dialog).
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = super::pages::user_id(&path.0)?;
        let credential = credential_id(&path.1)?;
        service_user(&caller, id).await?;
        federation::remove(&caller.ctx, id, credential).await?;
        Ok(see_other(&anchor(id)))
    })
    .await
}

/// The dialog a `GET /users/{id}?dialog=…` opens: a blank form, or the form
/// of the credential `item` to edit.
pub(super) async fn dialog(
    state: &AppState,
    caller: &super::session::ConsoleCaller,
    user: UserId,
    item: Option<&str>,
) -> Result<Dialog, PageError> {
    let default_audience = own_issuer(state);
    let Some(item) = item else {
        let form = FederationForm { keys: "discovery".to_owned(), ..FederationForm::default() };
        return Ok(Dialog::Federation(Box::new(FederationDialog {
            form,
            default_audience,
            editing: None,
            error: None,
        })));
    };
    let id = credential_id(item)?;
    let found = federation::list(&caller.ctx, user)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ServiceError::not_found("federated credential not found"))?;
    let form = FederationForm::of(&found);
    let editing = Some(id.to_string());
    Ok(Dialog::Federation(Box::new(FederationDialog { form, default_audience, editing, error: None })))
}

/// The confirmation dialog for removing `item`.
pub(super) fn remove_dialog(item: &str) -> Result<Dialog, PageError> {
    Ok(Dialog::FederationRemove(credential_id(item)?.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]
    use super::*;

    #[test]
    fn condition_lines_split_at_the_first_equals_sign() {
        let parsed = parse_conditions("ref = refs/heads/main\n\n  job_workflow_ref=a=b  \r\n").unwrap();
        let pairs: Vec<_> = parsed.iter().map(|c| (c.claim(), c.pattern())).collect();
        assert_eq!(pairs, [("ref", "refs/heads/main"), ("job_workflow_ref", "a=b")]);
        assert!(parse_conditions("no equals sign").is_err());
        assert!(parse_conditions("=pattern").is_err(), "a claim is required");
        assert!(parse_conditions("claim=").is_err(), "a pattern is required");
        assert_eq!(parse_conditions("").ok().map(|c| c.len()), Some(0));
    }

    #[test]
    fn an_empty_audience_is_this_servers_issuer_and_unknown_key_sources_are_refused() {
        let form = FederationForm {
            name: "gh".into(),
            issuer: "https://token.actions.githubusercontent.com".into(),
            subject: "repo:acme/deploy:ref:refs/heads/main".into(),
            ..FederationForm::default()
        };
        let parsed = form.parse("https://auth.example.com").unwrap();
        assert_eq!(parsed.audience.as_str(), "https://auth.example.com");
        assert_eq!(parsed.key_source, KeySource::Discovery);
        let odd = FederationForm { keys: "ftp".into(), ..form };
        assert!(odd.parse("https://auth.example.com").is_err());
    }
}
