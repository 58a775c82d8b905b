//! The scope part of the console's "+ New" access token dialog
//! (docs/pat-hygiene.md): full access by default, as before; or a preset or
//! chosen permissions, on chosen organizations of those the service user holds
//! a role on. What the user holds is checked by `pats::add`, as on the API.

use tessera_core::pats::ScopeRequest;
use tessera_domain::OrgId;
use tessera_domain::permission::{Target, perm};
use tessera_domain::token_scope::{Preset, TokenScope, permission};
use tessera_domain::user::User;

use super::pages::{OrgOption, PageError};
use super::session::ConsoleCaller;
use crate::error::ServiceError;

/// What the dialog offers.
pub struct PatScopeChoices {
    /// The organizations the service user holds a role on (that the caller
    /// sees in its switcher).
    pub(super) orgs: Vec<OrgOption>,
    /// Every permission Tessera checks, for "custom".
    pub(super) permissions: &'static [&'static str],
}

/// The choices for `user`'s new token: of `visible` (the organizations of the
/// caller's switcher, already loaded for the page), those the user holds a
/// role on.
pub(super) async fn choices(
    caller: &ConsoleCaller,
    user: &User,
    visible: &[OrgOption],
) -> Result<PatScopeChoices, PageError> {
    let grants =
        tessera_core::load_grants(caller.ctx.core.store.as_ref(), user.id).await.map_err(ServiceError::from)?;
    let orgs = visible
        .iter()
        .filter(|o| OrgId::parse(&o.id).is_ok_and(|id| grants.pairs().iter().any(|(s, _)| s.covers(Target::Org(id)))))
        .map(|o| OrgOption { id: o.id.clone(), name: o.name.clone(), selected: false })
        .collect();
    Ok(PatScopeChoices { orgs, permissions: perm::ALL })
}

/// The dialog's form: `expiration`, `access` (`full`, a preset, or `custom`),
/// repeated `org` and `permission` (its `csrf` is checked by the handler
/// before this is read).
pub(super) struct PatForm {
    pub(super) expiration: String,
    pub(super) scope: Option<ScopeRequest>,
}

/// Parses the form.
///
/// # Errors
/// `invalid_argument` for an unknown access choice, organization id or
/// permission.
pub(super) fn parse(body: &[u8]) -> Result<PatForm, ServiceError> {
    let (mut expiration, mut access) = (String::new(), String::new());
    let (mut orgs, mut permissions) = (Vec::new(), Vec::new());
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "expiration" => expiration = v.into_owned(),
            "access" => access = v.into_owned(),
            "org" => orgs.push(OrgId::parse(&v)?),
            "permission" => permissions.push(permission(&v)?),
            _ => {}
        }
    }
    let scope = match access.as_str() {
        "" | "full" => None,
        "custom" if permissions.is_empty() => {
            return Err(ServiceError::invalid("choose at least one permission, or full access"));
        }
        "custom" => Some(ScopeRequest { orgs, permissions, ..ScopeRequest::default() }),
        preset => Some(ScopeRequest { orgs, presets: vec![Preset::parse(preset)?], ..ScopeRequest::default() }),
    };
    Ok(PatForm { expiration, scope })
}

/// A token's scope in the list: "Full access", or where and how much.
pub(super) fn summary(scope: Option<&TokenScope>, org_names: &[OrgOption]) -> Option<String> {
    let scope = scope?;
    let name = |id: &OrgId| {
        let id = id.to_string();
        org_names.iter().find(|o| o.id == id).map_or(id, |o| o.name.clone())
    };
    let mut parts: Vec<String> = scope.orgs().iter().map(name).collect();
    parts.extend(scope.projects().iter().map(|p| format!("project {p}")));
    let perms = scope.permissions().join(", ");
    Some(match (parts.is_empty(), perms.is_empty()) {
        (true, _) => perms,
        (false, true) => parts.join(", "),
        (false, false) => format!("{}: {perms}", parts.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]
    use super::*;

    #[test]
    fn the_form_names_full_access_a_preset_or_permissions() {
        let org = OrgId::new();
        assert!(parse(b"csrf=x&access=full").unwrap().scope.is_none());
        assert!(parse(b"csrf=x").unwrap().scope.is_none(), "the default is full access");
        let preset = parse(format!("access=read-only&org={org}").as_bytes()).unwrap().scope.unwrap();
        assert_eq!((preset.orgs, preset.presets), (vec![org], vec![Preset::ReadOnly]));
        let custom = parse(b"access=custom&permission=user.read&permission=user.write").unwrap().scope.unwrap();
        assert_eq!(custom.permissions, ["user.read", "user.write"]);
        assert!(parse(b"access=custom").is_err(), "custom without permissions would mean all");
        assert!(parse(b"access=admin").is_err());
        assert!(parse(b"access=custom&permission=user.reed").is_err());
        assert!(parse(b"access=read-only&org=acme").is_err());
    }
}
