//! `zitadel.app.v2beta.AppService`: the v2beta spelling of the application
//! service, which the official SDKs still call. Its messages differ from v2's in
//! names only (`id`/`appId` for `applicationId`, `apiRequest` for
//! `apiConfiguration`, `APP_STATE_*` for `APPLICATION_STATE_*`, top-level
//! filters on key lists, `RegenerateClientSecret` for `GenerateClientSecret`),
//! so each call is translated to v2, run by the v2 handler, and its response
//! translated back. Only API applications exist, as in v2.

use serde_json::{Map, Value, json};

use super::application;
use super::call::Call;
use crate::error::ApiError;

/// Moves `from` to `to` in an object, if present.
fn rename(o: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = o.remove(from) {
        o.insert(to.to_owned(), v);
    }
}

/// Rewrites the enum value under `key` from one prefix to another.
fn re_prefix(o: &mut Map<String, Value>, key: &str, from: &str, to: &str) {
    if let Some(Value::String(s)) = o.get_mut(key)
        && let Some(rest) = s.strip_prefix(from)
    {
        *s = format!("{to}{rest}");
    }
}

/// The v2 method and request for a v2beta call.
fn to_v2(method: &str, mut body: Value) -> (&str, Value) {
    let Some(o) = body.as_object_mut() else { return (method, body) };
    let v2 = match method {
        "CreateApplication" | "UpdateApplication" => {
            rename(o, "id", "applicationId");
            for (from, to) in [
                ("apiRequest", "apiConfiguration"),
                ("oidcRequest", "oidcConfiguration"),
                ("samlRequest", "samlConfiguration"),
                ("apiConfigurationRequest", "apiConfiguration"),
                ("oidcConfigurationRequest", "oidcConfiguration"),
                ("samlConfigurationRequest", "samlConfiguration"),
            ] {
                rename(o, from, to);
            }
            method
        }
        "GetApplication" | "DeactivateApplication" | "ReactivateApplication" | "DeleteApplication" => {
            rename(o, "id", "applicationId");
            method
        }
        "RegenerateClientSecret" => {
            o.remove("isApi");
            o.remove("isOidc");
            "GenerateClientSecret"
        }
        "ListApplications" => {
            let mut filters: Vec<Value> = Vec::new();
            if let Some(p) = o.remove("projectId") {
                filters.push(json!({"projectIdFilter": {"projectId": p}}));
            }
            let old = o.remove("filters").and_then(|f| f.as_array().cloned()).unwrap_or_default();
            for f in old {
                let Some(mut f) = f.as_object().cloned() else { continue };
                for (only, kind) in [
                    ("apiAppOnly", "APPLICATION_TYPE_API"),
                    ("oidcAppOnly", "APPLICATION_TYPE_OIDC"),
                    ("samlAppOnly", "APPLICATION_TYPE_SAML"),
                ] {
                    if f.remove(only).is_some() {
                        f.insert("typeFilter".into(), Value::String(kind.into()));
                    }
                }
                re_prefix(&mut f, "stateFilter", "APP_STATE_", "APPLICATION_STATE_");
                filters.push(Value::Object(f));
            }
            o.insert("filters".into(), Value::Array(filters));
            re_prefix(o, "sortingColumn", "APP_SORT_BY_", "APPLICATION_SORT_BY_");
            method
        }
        "CreateApplicationKey" => {
            rename(o, "appId", "applicationId");
            method
        }
        "GetApplicationKey" => {
            rename(o, "id", "keyId");
            method
        }
        "DeleteApplicationKey" => {
            rename(o, "id", "keyId");
            o.remove("organizationId");
            method
        }
        "ListApplicationKeys" => {
            let mut filters: Vec<Value> = Vec::new();
            for (key, filter) in [
                ("applicationId", "applicationIdFilter"),
                ("organizationId", "organizationIdFilter"),
                ("projectId", "projectIdFilter"),
            ] {
                if let Some(v) = o.remove(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
                    filters.push(json!({filter: {key: v}}));
                }
            }
            o.insert("filters".into(), Value::Array(filters));
            method
        }
        _ => method,
    };
    (v2, body)
}

/// A v2 `Application` in v2beta's shape.
fn app_to_beta(a: &mut Value) {
    if let Some(o) = a.as_object_mut() {
        rename(o, "applicationId", "id");
        rename(o, "apiConfiguration", "apiConfig");
        o.remove("projectId");
        re_prefix(o, "state", "APPLICATION_STATE_", "APP_STATE_");
    }
}

/// A v2 response in v2beta's shape.
fn to_v2beta(method: &str, mut v: Value) -> Value {
    let Some(o) = v.as_object_mut() else { return v };
    match method {
        "CreateApplication" => {
            rename(o, "applicationId", "appId");
            rename(o, "apiConfiguration", "apiResponse");
        }
        "GetApplication" => {
            rename(o, "application", "app");
            if let Some(a) = o.get_mut("app") {
                app_to_beta(a);
            }
        }
        "ListApplications" => {
            if let Some(list) = o.get_mut("applications").and_then(Value::as_array_mut) {
                list.iter_mut().for_each(app_to_beta);
            }
        }
        "CreateApplicationKey" | "GetApplicationKey" => rename(o, "keyId", "id"),
        "ListApplicationKeys" => {
            if let Some(list) = o.get_mut("keys").and_then(Value::as_array_mut) {
                for k in list.iter_mut().filter_map(Value::as_object_mut) {
                    rename(k, "keyId", "id");
                }
            }
        }
        _ => {}
    }
    v
}

/// Dispatches a v2beta call through the v2 handlers; `None` for an unknown
/// method. A body that is not a JSON object is handed on unchanged, so the v2
/// handler reports it after authenticating the caller.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    if method == "GenerateClientSecret" {
        // v2's name; v2beta calls it RegenerateClientSecret.
        return None;
    }
    let result = match call.json() {
        Some(body) => {
            let (v2_method, body) = to_v2(method, body);
            application::dispatch(v2_method, &call.with_json(&body)).await
        }
        None => {
            let v2_method = if method == "RegenerateClientSecret" { "GenerateClientSecret" } else { method };
            application::dispatch(v2_method, call).await
        }
    };
    Some(result?.map(|v| to_v2beta(method, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_renamed_to_v2() {
        let (m, b) = to_v2("CreateApplication", json!({"projectId": "p", "id": "a", "name": "n", "apiRequest": {}}));
        assert_eq!(m, "CreateApplication");
        assert_eq!(b, json!({"projectId": "p", "applicationId": "a", "name": "n", "apiConfiguration": {}}));
        let (m, b) = to_v2("RegenerateClientSecret", json!({"projectId": "p", "applicationId": "a", "isApi": true}));
        assert_eq!((m, b), ("GenerateClientSecret", json!({"projectId": "p", "applicationId": "a"})));
        let (_, b) = to_v2(
            "ListApplications",
            json!({"projectId": "p", "filters": [{"apiAppOnly": true}, {"stateFilter": "APP_STATE_ACTIVE"}], "sortingColumn": "APP_SORT_BY_NAME"}),
        );
        assert_eq!(
            b,
            json!({"filters": [{"projectIdFilter": {"projectId": "p"}}, {"typeFilter": "APPLICATION_TYPE_API"},
                              {"stateFilter": "APPLICATION_STATE_ACTIVE"}], "sortingColumn": "APPLICATION_SORT_BY_NAME"})
        );
        let (_, b) = to_v2("ListApplicationKeys", json!({"applicationId": "a", "organizationId": ""}));
        assert_eq!(b, json!({"filters": [{"applicationIdFilter": {"applicationId": "a"}}]}));
    }

    #[test]
    fn responses_are_renamed_to_v2beta() {
        let v = to_v2beta(
            "GetApplication",
            json!({"application": {"applicationId": "a", "projectId": "p", "state": "APPLICATION_STATE_ACTIVE",
                                   "apiConfiguration": {"clientId": "c"}}}),
        );
        assert_eq!(v, json!({"app": {"id": "a", "state": "APP_STATE_ACTIVE", "apiConfig": {"clientId": "c"}}}));
        let v = to_v2beta("CreateApplication", json!({"applicationId": "a", "apiConfiguration": {"clientId": "c"}}));
        assert_eq!(v, json!({"appId": "a", "apiResponse": {"clientId": "c"}}));
    }
}
