//! Every method answers identically on every transport (issue #17;
//! docs/compatibility.md, "Transports"): one table of calls, each run over
//! Connect JSON, Connect binary (`application/proto`), gRPC-web and gRPC
//! (HTTP/2 with prior knowledge, status in trailers), on fresh state per
//! transport. The answers — the response message as proto3 JSON, or the error's
//! code and message — must be equal after redaction, and are snapshotted once.
//!
//! Besides equality, a Connect JSON answer must not carry a field its proto
//! does not declare: the binary transports would silently drop it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{ADMINS, APPS, AUTHZ, ORGS, POLICY, PROJECTS, USERS, create_machine, default_org, ok};
use base64::Engine as _;
use bytes::Bytes;
use common::TestApp;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// The four ways to make a unary call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    ConnectJson,
    ConnectProto,
    GrpcWeb,
    Grpc,
}

const TRANSPORTS: [Transport; 4] =
    [Transport::ConnectJson, Transport::ConnectProto, Transport::GrpcWeb, Transport::Grpc];

/// gRPC status codes by number, spelled as Connect spells them.
const CODES: [&str; 17] = [
    "ok",
    "canceled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
];

/// A transport-neutral answer.
fn answer_ok(message: Value) -> Value {
    json!({ "ok": message })
}

fn answer_err(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message } })
}

/// One length-prefixed message.
fn frame(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut out = vec![flag];
    out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The frames of a gRPC(-web) body: (flag, payload).
fn frames(mut body: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !body.is_empty() {
        assert!(body.len() >= 5, "truncated frame");
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        out.push((body[0], body[5..5 + len].to_vec()));
        body = &body[5 + len..];
    }
    out
}

/// `grpc-message` decoding (percent-encoded UTF-8).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 3 <= bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// A gRPC status (number and message) as an answer.
fn grpc_status(
    status: &str,
    message: Option<&str>,
    body: Option<Vec<u8>>,
    codec: Option<&dyn tessera_proto::Transcode>,
) -> Value {
    let status: usize = status.parse().unwrap();
    if status == 0 {
        let message = body.expect("a message before an OK status");
        let codec = codec.expect("a successful method is declared in proto/");
        answer_ok(serde_json::from_slice(&codec.response_to_json(&message).unwrap()).unwrap())
    } else {
        answer_err(CODES[status], &percent_decode(message.unwrap_or_default()))
    }
}

/// Paths (`a.b`) of `raw`'s members with a non-default value that `normalized`
/// (the same answer through the proto) lacks.
fn undeclared(raw: &Value, normalized: &Value, at: &str, out: &mut Vec<String>) {
    match (raw, normalized) {
        (Value::Object(raw), Value::Object(norm)) => {
            for (k, v) in raw {
                // proto3 JSON omits default values; an enum's is its zero
                // value, which only the proto knows: any enum name passes.
                let is_enum = v.as_str().is_some_and(|s| {
                    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                });
                let is_default = matches!(v, Value::Null | Value::Bool(false))
                    || is_enum
                    || v.as_str() == Some("")
                    || v.as_i64() == Some(0)
                    || v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(serde_json::Map::is_empty);
                match norm.get(k) {
                    Some(n) => undeclared(v, n, &format!("{at}.{k}"), out),
                    None if !is_default => out.push(format!("{at}.{k}")),
                    None => {}
                }
            }
        }
        (Value::Array(raw), Value::Array(norm)) => {
            for (i, (r, n)) in raw.iter().zip(norm).enumerate() {
                undeclared(r, n, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Calls `service`/`method` over `transport`; the answer, not yet redacted.
async fn call(app: &TestApp, transport: Transport, token: &str, service: &str, method: &str, body: &Value) -> Value {
    call_in(app, transport, token, None, service, method, body).await
}

/// [`call`] with `x-zitadel-orgid: org` when `org` is given.
async fn call_in(
    app: &TestApp,
    transport: Transport,
    token: &str,
    org: Option<&str>,
    service: &str,
    method: &str,
    body: &Value,
) -> Value {
    let org_header = ("x-zitadel-orgid", org.unwrap_or_default());
    let codec = tessera_proto::method(service, method).map(|m| m.codec);
    let url = app.url(&format!("/{service}/{method}"));
    let json_body = serde_json::to_vec(body).unwrap();
    // A method the proto does not declare goes out as an empty message.
    let binary = codec.map_or_else(Vec::new, |c| c.request_to_binary(&json_body).unwrap());
    match transport {
        Transport::ConnectJson | Transport::ConnectProto => {
            let (content_type, payload) = if transport == Transport::ConnectJson {
                ("application/json", json_body)
            } else {
                ("application/proto", binary)
            };
            let mut req = app.client.post(&url);
            if org.is_some() {
                req = req.header(org_header.0, org_header.1);
            }
            let res = req.bearer_auth(token).header("content-type", content_type).body(payload).send().await.unwrap();
            let status = res.status().as_u16();
            let bytes = res.bytes().await.unwrap();
            if status != 200 {
                let e: Value = serde_json::from_slice(&bytes).unwrap();
                return answer_err(e["code"].as_str().unwrap(), e["message"].as_str().unwrap_or_default());
            }
            let codec = codec.expect("a successful method is declared in proto/");
            if transport == Transport::ConnectProto {
                return answer_ok(serde_json::from_slice(&codec.response_to_json(&bytes).unwrap()).unwrap());
            }
            let raw: Value = serde_json::from_slice(&bytes).unwrap();
            let normalized: Value =
                serde_json::from_slice(&codec.response_to_json(&codec.response_to_binary(&bytes).unwrap()).unwrap())
                    .unwrap();
            let mut missing = Vec::new();
            undeclared(&raw, &normalized, "", &mut missing);
            assert!(missing.is_empty(), "{service}/{method}: Connect JSON answers fields proto/ lacks: {missing:?}");
            answer_ok(normalized)
        }
        Transport::GrpcWeb => {
            let mut req = app.client.post(&url);
            if org.is_some() {
                req = req.header(org_header.0, org_header.1);
            }
            let res = req
                .bearer_auth(token)
                .header("content-type", "application/grpc-web+proto")
                .header("x-grpc-web", "1")
                .body(frame(0, &binary))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 200, "gRPC-web answers 200");
            let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
            if let Some(status) = header("grpc-status") {
                return grpc_status(&status, header("grpc-message").as_deref(), None, codec);
            }
            let bytes = res.bytes().await.unwrap();
            let mut message = None;
            let mut trailers = String::new();
            for (flag, payload) in frames(&bytes) {
                if flag & 0x80 == 0 {
                    message = Some(payload);
                } else {
                    trailers = String::from_utf8(payload).unwrap();
                }
            }
            let field = |name: &str| {
                trailers.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_owned()))
            };
            grpc_status(&field("grpc-status").unwrap(), field("grpc-message").as_deref(), message, codec)
        }
        Transport::Grpc => {
            let client = Client::builder(TokioExecutor::new()).http2_only(true).build_http::<Full<Bytes>>();
            let mut req = hyper::Request::post(&url);
            if org.is_some() {
                req = req.header(org_header.0, org_header.1);
            }
            let req = req
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .header("authorization", format!("Bearer {token}"))
                .body(Full::new(Bytes::from(frame(0, &binary))))
                .unwrap();
            let res = client.request(req).await.unwrap();
            assert_eq!(res.status().as_u16(), 200, "gRPC answers 200");
            let (parts, body) = res.into_parts();
            let header = |name: &str| parts.headers.get(name).map(|v| v.to_str().unwrap().to_owned());
            let collected = body.collect().await.unwrap();
            let trailers = collected.trailers().cloned();
            let bytes = collected.to_bytes();
            if let Some(status) = header("grpc-status") {
                assert!(bytes.is_empty(), "a status in the headers is a Trailers-Only answer");
                return grpc_status(&status, header("grpc-message").as_deref(), None, codec);
            }
            let trailers = trailers.expect("gRPC status in trailers");
            let field = |name: &str| trailers.get(name).map(|v| v.to_str().unwrap().to_owned());
            let mut message = frames(&bytes).into_iter().map(|(_, m)| m);
            grpc_status(&field("grpc-status").unwrap(), field("grpc-message").as_deref(), message.next(), codec)
        }
    }
}

const MGMT: &str = "zitadel.management.v1.ManagementService";

/// The Ed25519 public key every fixture's user registers.
const FIXTURE_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA44Ti/3ZTWlr25L1iOWKFvUcVuQzL4t7iDnv9ghQ80iI=
-----END PUBLIC KEY-----
";
const USERS_BETA: &str = "zitadel.user.v2beta.UserService";
const FEDERATION: &str = "tessera.federation.v1.FederationService";
const WEB_KEYS: &str = "zitadel.webkey.v2.WebKeyService";
const WEB_KEYS_BETA: &str = "zitadel.webkey.v2beta.WebKeyService";

/// A federated credential of `user` (GitHub Actions, production).
fn federated_credential(user: &str) -> Value {
    json!({
        "userId": user,
        "name": "deploy",
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:acme/deploy:environment:production",
        "audience": "https://tessera.example",
        "conditions": [{"claim": "ref", "pattern": "refs/heads/*"}],
    })
}
const PROJECTS_BETA: &str = "zitadel.project.v2beta.ProjectService";
const APPS_BETA: &str = "zitadel.app.v2beta.AppService";
const AUTHZ_BETA: &str = "zitadel.authorization.v2beta.AuthorizationService";

/// Fresh objects for one call: a machine user with a PAT, a key, a secret and
/// metadata; a project with a role; an API app with a secret and a JWT app with
/// a key; an authorization; an organization of its own.
struct Fixture {
    /// A number no other fixture has, for names that must be unique.
    n: usize,
    org: String,
    user: String,
    pat: String,
    key: String,
    project: String,
    app: String,
    jwt_app: String,
    app_key: String,
    authorization: String,
    federated: String,
    own_org: String,
    admin: String,
}

/// Counts fixtures, for unique names.
static FIXTURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Fixture {
    /// A fixture; `app_key`: also an application key (a generated RSA pair,
    /// so only for the calls that use one).
    async fn new(app: &TestApp, admin: &str, org: &str, with_app_key: bool) -> Self {
        let n = FIXTURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user = create_machine(app, admin, org, &format!("bot-{n}")).await;
        let pat = ok(app, admin, USERS, "AddPersonalAccessToken", json!({"userId": user})).await["tokenId"]
            .as_str()
            .unwrap()
            .to_owned();
        // A registered public key: generating an RSA pair per fixture would
        // dominate the test's time.
        let public_key = base64::engine::general_purpose::STANDARD.encode(FIXTURE_PUBLIC_KEY);
        let key = ok(app, admin, USERS, "AddKey", json!({"userId": user, "publicKey": public_key})).await["keyId"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(app, admin, USERS, "AddSecret", json!({"userId": user})).await;
        ok(
            app,
            admin,
            USERS,
            "SetUserMetadata",
            json!({"userId": user, "metadata": [{"key": "team", "value": "b3Bz"}]}),
        )
        .await;
        let project = ok(
            app,
            admin,
            PROJECTS,
            "CreateProject",
            json!({"organizationId": org, "name": format!("p-{n}")}),
        )
        .await["projectId"]
            .as_str()
            .unwrap()
            .to_owned();
        ok(
            app,
            admin,
            PROJECTS,
            "AddProjectRole",
            json!({"projectId": project, "roleKey": "reader", "displayName": "Reader"}),
        )
        .await;
        let api = |name: &str, method: &str| json!({"projectId": project, "name": name, "apiConfiguration": {"authMethodType": method}});
        let app_id = ok(app, admin, APPS, "CreateApplication", api("basic", "API_AUTH_METHOD_TYPE_BASIC")).await
            ["applicationId"]
            .as_str()
            .unwrap()
            .to_owned();
        let jwt_app = ok(app, admin, APPS, "CreateApplication", api("jwt", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"))
            .await["applicationId"]
            .as_str()
            .unwrap()
            .to_owned();
        let app_key = if with_app_key {
            let body = json!({"applicationId": jwt_app, "projectId": project});
            ok(app, admin, APPS, "CreateApplicationKey", body).await["keyId"].as_str().unwrap().to_owned()
        } else {
            String::new()
        };
        let authorization = ok(
            app,
            admin,
            AUTHZ,
            "CreateAuthorization",
            json!({"userId": user, "projectId": project, "roleKeys": ["reader"]}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let federated = ok(app, admin, FEDERATION, "AddFederatedCredential", federated_credential(&user)).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let own_org =
            ok(app, admin, ORGS, "AddOrganization", json!({"name": format!("org-{n}")})).await["organizationId"]
                .as_str()
                .unwrap()
                .to_owned();
        Self {
            n,
            org: org.to_owned(),
            user,
            pat,
            key,
            project,
            app: app_id,
            jwt_app,
            app_key,
            authorization,
            federated,
            own_org,
            admin: admin.to_owned(),
        }
    }
}

/// `answer` with every key file (`keyContent`, `keyDetails`: base64 of a
/// ZITADEL key file) checked and replaced by `[key file]`.
fn key_files_redacted(mut answer: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "keyContent" || k == "keyDetails" {
                        let raw = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
                        let file: Value = serde_json::from_slice(&raw).unwrap();
                        assert!(file["type"] == "serviceaccount" || file["type"] == "application", "{file}");
                        *v = Value::String("[key file]".into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut answer);
    answer
}

/// One row: a call whose request is built from a fresh fixture.
struct Case {
    service: &'static str,
    method: &'static str,
    request: fn(&Fixture) -> Value,
    /// The token: the administrator's, unless the row says otherwise.
    token: fn(&Fixture) -> String,
}

fn admin(f: &Fixture) -> String {
    f.admin.clone()
}

fn bogus(_: &Fixture) -> String {
    "tsr_pat_notarealtoken".to_owned()
}

macro_rules! case {
    ($service:expr, $method:literal, |$f:ident| $request:expr) => {
        Case { service: $service, method: $method, request: |$f: &Fixture| $request, token: admin }
    };
    ($service:expr, $method:literal, |$f:ident| $request:expr, $token:expr) => {
        Case { service: $service, method: $method, request: |$f: &Fixture| $request, token: $token }
    };
}

/// Every method of docs/compatibility.md's Connect table, plus error answers.
fn cases() -> Vec<Case> {
    vec![
        // zitadel.user.v2.UserService
        case!(
            USERS,
            "CreateUser",
            |f| json!({"organizationId": f.org, "username": format!("made-{}", f.n), "machine": {"name": "Made"}})
        ),
        case!(USERS, "GetUserByID", |f| json!({"userId": f.user})),
        case!(USERS, "ListUsers", |f| json!({"queries": [{"inUserIdsQuery": {"userIds": [f.user]}}]})),
        case!(USERS, "UpdateUser", |f| json!({"userId": f.user, "machine": {"description": "updated"}})),
        case!(USERS, "DeactivateUser", |f| json!({"userId": f.user})),
        case!(USERS, "ReactivateUser", |f| json!({"userId": f.user})),
        case!(USERS, "LockUser", |f| json!({"userId": f.user})),
        case!(USERS, "UnlockUser", |f| json!({"userId": f.user})),
        case!(USERS, "DeleteUser", |f| json!({"userId": f.user})),
        case!(USERS, "AddSecret", |f| json!({"userId": f.user})),
        case!(USERS, "RemoveSecret", |f| json!({"userId": f.user})),
        case!(USERS, "AddKey", |f| json!({"userId": f.user})),
        case!(USERS, "RemoveKey", |f| json!({"userId": f.user, "keyId": f.key})),
        case!(USERS, "ListKeys", |f| json!({"filters": [{"userIdFilter": {"id": f.user}}]})),
        case!(USERS, "AddPersonalAccessToken", |f| json!({"userId": f.user})),
        case!(USERS, "RemovePersonalAccessToken", |f| json!({"userId": f.user, "tokenId": f.pat})),
        case!(USERS, "ListPersonalAccessTokens", |f| json!({"filters": [{"userIdFilter": {"id": f.user}}]})),
        case!(
            USERS,
            "SetUserMetadata",
            |f| json!({"userId": f.user, "metadata": [{"key": "env", "value": "cHJvZA=="}]})
        ),
        case!(USERS, "ListUserMetadata", |f| json!({"userId": f.user})),
        case!(USERS, "DeleteUserMetadata", |f| json!({"userId": f.user, "keys": ["team"]})),
        // zitadel.user.v2beta.UserService
        case!(USERS_BETA, "GetUserByID", |f| json!({"userId": f.user})),
        case!(USERS_BETA, "ListUsers", |f| json!({"queries": [{"inUserIdsQuery": {"userIds": [f.user]}}]})),
        case!(USERS_BETA, "DeactivateUser", |f| json!({"userId": f.user})),
        case!(USERS_BETA, "ReactivateUser", |f| json!({"userId": f.user})),
        case!(USERS_BETA, "LockUser", |f| json!({"userId": f.user})),
        case!(USERS_BETA, "UnlockUser", |f| json!({"userId": f.user})),
        case!(USERS_BETA, "DeleteUser", |f| json!({"userId": f.user})),
        // zitadel.org.v2.OrganizationService
        case!(ORGS, "AddOrganization", |f| json!({"name": format!("added-{}", f.n)})),
        case!(ORGS, "UpdateOrganization", |f| json!({"organizationId": f.own_org, "name": format!("renamed-{}", f.n)})),
        case!(ORGS, "ListOrganizations", |f| json!({"queries": [{"idQuery": {"id": f.own_org}}]})),
        case!(ORGS, "DeactivateOrganization", |f| json!({"organizationId": f.own_org})),
        case!(ORGS, "ActivateOrganization", |f| json!({"organizationId": f.own_org})),
        case!(ORGS, "DeleteOrganization", |f| json!({"organizationId": f.own_org})),
        // zitadel.internal_permission.v2.InternalPermissionService
        case!(
            ADMINS,
            "CreateAdministrator",
            |f| json!({"userId": f.user, "resource": {"organizationId": f.org}, "roles": ["ORG_USER_MANAGER"]})
        ),
        case!(ADMINS, "ListAdministrators", |f| json!({"filters": [{"inUserIdsFilter": {"ids": [f.user]}}]})),
        case!(
            ADMINS,
            "UpdateAdministrator",
            |f| json!({"userId": f.user, "resource": {"organizationId": f.org}, "roles": ["ORG_OWNER"]})
        ),
        case!(ADMINS, "DeleteAdministrator", |f| json!({"userId": f.user, "resource": {"organizationId": f.org}})),
        // tessera.policy.v1.PolicyService
        case!(POLICY, "GetPersonalAccessTokenPolicy", |f| json!({"organizationId": f.own_org})),
        case!(
            POLICY,
            "SetPersonalAccessTokenPolicy",
            |f| json!({"organizationId": f.own_org, "maxLifetime": "86400s"})
        ),
        // zitadel.webkey.v2.WebKeyService (and v2beta, served by the same
        // handlers): the list first, while the instance holds its one key.
        case!(WEB_KEYS, "ListWebKeys", |_f| json!({})),
        case!(WEB_KEYS_BETA, "ListWebKeys", |_f| json!({})),
        case!(WEB_KEYS, "CreateWebKey", |_f| json!({"ed25519": {}})),
        case!(WEB_KEYS_BETA, "CreateWebKey", |_f| json!({"ecdsa": {"curve": "ECDSA_CURVE_P256"}})),
        case!(WEB_KEYS, "CreateWebKey", |_f| json!({"ecdsa": {"curve": "ECDSA_CURVE_P512"}})),
        case!(WEB_KEYS, "ActivateWebKey", |_f| json!({"id": "01a24ba7-62be-70ac-ac6a-a02ac43a1bc7"})),
        case!(WEB_KEYS, "DeleteWebKey", |_f| json!({"id": "01a24ba7-62be-70ac-ac6a-a02ac43a1bc7"})),
        // tessera.federation.v1.FederationService
        case!(FEDERATION, "AddFederatedCredential", |f| federated_credential(&f.user)),
        case!(FEDERATION, "ListFederatedCredentials", |f| json!({"userId": f.user})),
        case!(
            FEDERATION,
            "UpdateFederatedCredential",
            |f| json!({"userId": f.user, "id": f.federated, "jwksUrl": "https://jwks.example/keys", "conditions": {}})
        ),
        case!(FEDERATION, "RemoveFederatedCredential", |f| json!({"userId": f.user, "id": f.federated})),
        // zitadel.project.v2.ProjectService
        case!(PROJECTS, "CreateProject", |f| json!({"organizationId": f.org, "name": format!("created-{}", f.n)})),
        case!(PROJECTS, "UpdateProject", |f| json!({"projectId": f.project, "name": format!("renamed-{}", f.n)})),
        case!(PROJECTS, "DeleteProject", |f| json!({"projectId": f.project})),
        case!(PROJECTS, "GetProject", |f| json!({"projectId": f.project})),
        case!(PROJECTS, "ListProjects", |f| json!({"filters": [{"inProjectIdsFilter": {"projectIds": [f.project]}}]})),
        case!(PROJECTS, "DeactivateProject", |f| json!({"projectId": f.project})),
        case!(PROJECTS, "ActivateProject", |f| json!({"projectId": f.project})),
        case!(
            PROJECTS,
            "AddProjectRole",
            |f| json!({"projectId": f.project, "roleKey": "writer", "displayName": "Writer"})
        ),
        case!(
            PROJECTS,
            "UpdateProjectRole",
            |f| json!({"projectId": f.project, "roleKey": "reader", "displayName": "Readers"})
        ),
        case!(PROJECTS, "RemoveProjectRole", |f| json!({"projectId": f.project, "roleKey": "reader"})),
        case!(PROJECTS, "ListProjectRoles", |f| json!({"projectId": f.project})),
        // zitadel.project.v2beta.ProjectService
        case!(PROJECTS_BETA, "GetProject", |f| json!({"id": f.project})),
        case!(
            PROJECTS_BETA,
            "ListProjects",
            |f| json!({"pagination": {"limit": 1}, "filters": [{"inProjectIdsFilter": {"ids": [f.project]}}]})
        ),
        case!(PROJECTS_BETA, "UpdateProject", |f| json!({"id": f.project, "name": format!("beta-{}", f.n)})),
        case!(PROJECTS_BETA, "ListProjectRoles", |f| json!({"projectId": f.project})),
        // zitadel.application.v2.ApplicationService
        case!(
            APPS,
            "CreateApplication",
            |f| json!({"projectId": f.project, "name": "made", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}})
        ),
        case!(
            APPS,
            "UpdateApplication",
            |f| json!({"applicationId": f.app, "projectId": f.project, "name": "renamed"})
        ),
        case!(APPS, "GetApplication", |f| json!({"applicationId": f.app})),
        case!(APPS, "DeleteApplication", |f| json!({"applicationId": f.app, "projectId": f.project})),
        case!(APPS, "DeactivateApplication", |f| json!({"applicationId": f.app, "projectId": f.project})),
        case!(APPS, "ReactivateApplication", |f| json!({"applicationId": f.app, "projectId": f.project})),
        case!(APPS, "GenerateClientSecret", |f| json!({"applicationId": f.app, "projectId": f.project})),
        case!(APPS, "ListApplications", |f| json!({"filters": [{"projectIdFilter": {"projectId": f.project}}]})),
        case!(APPS, "CreateApplicationKey", |f| json!({"applicationId": f.jwt_app, "projectId": f.project})),
        case!(APPS, "DeleteApplicationKey", |f| json!({"keyId": f.app_key, "applicationId": f.jwt_app})),
        case!(APPS, "GetApplicationKey", |f| json!({"keyId": f.app_key})),
        case!(
            APPS,
            "ListApplicationKeys",
            |f| json!({"filters": [{"applicationIdFilter": {"applicationId": f.jwt_app}}]})
        ),
        // zitadel.app.v2beta.AppService
        case!(APPS_BETA, "GetApplication", |f| json!({"id": f.app})),
        case!(APPS_BETA, "ListApplications", |f| json!({"projectId": f.project})),
        case!(APPS_BETA, "RegenerateClientSecret", |f| json!({"projectId": f.project, "applicationId": f.app})),
        case!(APPS_BETA, "GetApplicationKey", |f| json!({"id": f.app_key})),
        // zitadel.authorization.v2.AuthorizationService
        case!(AUTHZ, "ListAuthorizations", |f| json!({"filters": [{"inUserIds": {"ids": [f.user]}}]})),
        case!(
            AUTHZ,
            "CreateAuthorization",
            |f| json!({"userId": f.user, "projectId": f.project, "organizationId": f.own_org, "roleKeys": []})
        ),
        case!(AUTHZ, "UpdateAuthorization", |f| json!({"id": f.authorization, "roleKeys": []})),
        case!(AUTHZ, "DeactivateAuthorization", |f| json!({"id": f.authorization})),
        case!(AUTHZ, "ActivateAuthorization", |f| json!({"id": f.authorization})),
        case!(AUTHZ, "DeleteAuthorization", |f| json!({"id": f.authorization})),
        // zitadel.authorization.v2beta.AuthorizationService
        case!(AUTHZ_BETA, "ListAuthorizations", |f| json!({"filters": [{"inUserIds": {"ids": [f.user]}}]})),
        case!(AUTHZ_BETA, "DeactivateAuthorization", |f| json!({"id": f.authorization})),
        // zitadel.management.v1.ManagementService
        case!(MGMT, "GetUserByID", |f| json!({"id": f.user})),
        case!(MGMT, "ListUsers", |f| json!({"queries": [{"inUserIdsQuery": {"userIds": [f.user]}}]})),
        case!(
            MGMT,
            "AddMachineUser",
            |f| json!({"userName": format!("v1-{}", f.n), "name": "V1", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"})
        ),
        case!(MGMT, "RemoveUser", |f| json!({"id": f.user})),
        case!(MGMT, "UpdateUserName", |f| json!({"userId": f.user, "userName": format!("renamed-{}", f.n)})),
        case!(MGMT, "UpdateMachine", |f| json!({"userId": f.user, "name": "Bot", "description": "v1"})),
        case!(MGMT, "GenerateMachineSecret", |f| json!({"userId": f.user})),
        case!(MGMT, "RemoveMachineSecret", |f| json!({"userId": f.user})),
        case!(MGMT, "GetMachineKeyByIDs", |f| json!({"userId": f.user, "keyId": f.key})),
        case!(MGMT, "AddMachineKey", |f| json!({"userId": f.user, "type": "KEY_TYPE_JSON"})),
        case!(MGMT, "AddMachineKey", |f| json!({"userId": f.user})),
        case!(MGMT, "RemoveMachineKey", |f| json!({"userId": f.user, "keyId": f.key})),
        case!(MGMT, "GetPersonalAccessTokenByIDs", |f| json!({"userId": f.user, "tokenId": f.pat})),
        case!(MGMT, "AddPersonalAccessToken", |f| json!({"userId": f.user, "expirationDate": "2999-01-01T00:00:00Z"})),
        case!(MGMT, "RemovePersonalAccessToken", |f| json!({"userId": f.user, "tokenId": f.pat})),
        case!(MGMT, "GetMyOrg", |_f| json!({})),
        case!(MGMT, "AddProject", |f| json!({"name": format!("v1-{}", f.n), "projectRoleAssertion": true})),
        case!(
            MGMT,
            "AddProject",
            |_f| json!({"name": "admins", "admins": [{"userId": "x", "roles": ["PROJECT_OWNER"]}]})
        ),
        case!(MGMT, "GetProjectByID", |f| json!({"id": f.project})),
        case!(MGMT, "ListProjects", |f| json!({"queries": [{"nameQuery": {"name": format!("p-{}", f.n)}}]})),
        case!(
            MGMT,
            "UpdateProject",
            |f| json!({"id": f.project, "name": format!("v1-{}", f.n), "projectRoleCheck": true})
        ),
        case!(MGMT, "RemoveProject", |f| json!({"id": f.project})),
        case!(
            MGMT,
            "ListProjectRoles",
            |f| json!({"projectId": f.project, "queries": [{"keyQuery": {"key": "read", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}]})
        ),
        case!(
            MGMT,
            "AddProjectRole",
            |f| json!({"projectId": f.project, "roleKey": "writer", "displayName": "Writer", "group": "w"})
        ),
        case!(
            MGMT,
            "UpdateProjectRole",
            |f| json!({"projectId": f.project, "roleKey": "reader", "displayName": "Readers"})
        ),
        case!(MGMT, "RemoveProjectRole", |f| json!({"projectId": f.project, "roleKey": "reader"})),
        case!(
            MGMT,
            "AddAPIApp",
            |f| json!({"projectId": f.project, "name": "v1-app", "authMethodType": "API_AUTH_METHOD_TYPE_BASIC"})
        ),
        case!(
            MGMT,
            "AddAPIApp",
            |f| json!({"projectId": f.project, "name": "v1-jwt", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
        ),
        case!(MGMT, "GetAppByID", |f| json!({"projectId": f.project, "appId": f.app})),
        case!(MGMT, "ListApps", |f| json!({"projectId": f.project, "queries": [{"nameQuery": {"name": "jwt"}}]})),
        case!(MGMT, "UpdateApp", |f| json!({"projectId": f.project, "appId": f.app, "name": "renamed"})),
        case!(
            MGMT,
            "UpdateAPIAppConfig",
            |f| json!({"projectId": f.project, "appId": f.app, "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
        ),
        case!(MGMT, "RemoveApp", |f| json!({"projectId": f.project, "appId": f.app})),
        case!(MGMT, "AddAppKey", |f| json!({"projectId": f.project, "appId": f.jwt_app, "type": "KEY_TYPE_JSON"})),
        case!(MGMT, "GetAppKey", |f| json!({"projectId": f.project, "appId": f.jwt_app, "keyId": f.app_key})),
        case!(MGMT, "RemoveAppKey", |f| json!({"projectId": f.project, "appId": f.jwt_app, "keyId": f.app_key})),
        case!(MGMT, "GetAppKey", |f| json!({"projectId": f.project, "appId": f.app, "keyId": f.app_key})),
        case!(MGMT, "AddUserGrant", |f| json!({"userId": f.user, "projectId": f.project, "roleKeys": []})),
        case!(MGMT, "AddUserGrant", |f| json!({"userId": f.user, "projectId": f.project, "projectGrantId": "g"})),
        case!(MGMT, "GetUserGrantByID", |f| json!({"userId": f.user, "grantId": f.authorization})),
        case!(MGMT, "UpdateUserGrant", |f| json!({"userId": f.user, "grantId": f.authorization, "roleKeys": []})),
        case!(MGMT, "RemoveUserGrant", |f| json!({"userId": f.user, "grantId": f.authorization})),
        case!(MGMT, "AddOrgMember", |f| json!({"userId": f.user, "roles": ["ORG_USER_MANAGER"]})),
        case!(MGMT, "ListOrgMembers", |f| json!({"queries": [{"userIdQuery": {"userId": f.user}}]})),
        case!(MGMT, "UpdateOrgMember", |f| json!({"userId": f.user, "roles": ["ORG_OWNER"]})),
        case!(MGMT, "RemoveOrgMember", |f| json!({"userId": f.user})),
        case!(MGMT, "AddOrgMember", |f| json!({"userId": f.user, "roles": ["PROJECT_OWNER"]})),
        // Errors: the same code and message on every transport.
        case!(USERS, "GetUserByID", |_f| json!({"userId": "01a24ba7-62be-70ac-ac6a-a02ac43a1bc7"})),
        case!(USERS, "GetUserByID", |_f| json!({"userId": "not-an-id"})),
        case!(USERS, "GetUserByID", |f| json!({"userId": f.user}), bogus),
        case!(USERS, "AddPersonalAccessToken", |f| json!({"userId": f.user, "expirationDate": "2001-01-01T00:00:00Z"})),
        case!(ORGS, "AddOrganization", |_f| json!({"name": ""})),
        case!(USERS_BETA, "AddHumanUser", |_f| json!({})),
        case!(USERS, "NoSuchMethod", |_f| json!({})),
    ]
}

#[tokio::test]
async fn every_method_answers_identically_on_every_transport() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    // Reads share one fixture; a call that may change something gets its own
    // per transport.
    let shared = Fixture::new(&app, &admin, &org, true).await;
    for case in cases() {
        let mut answers = Vec::new();
        let reads = case.method.starts_with("Get") || case.method.starts_with("List");
        for transport in TRANSPORTS {
            let fresh;
            let fixture = if reads {
                &shared
            } else {
                let app_key = case.method.contains("ApplicationKey") || case.method.contains("AppKey");
                fresh = Fixture::new(&app, &admin, &org, app_key).await;
                &fresh
            };
            let request = (case.request)(fixture);
            let token = (case.token)(fixture);
            let answer = call(&app, transport, &token, case.service, case.method, &request).await;
            // Names carry the fixture's number (`bot-7`): the same as `bot-N`.
            let text =
                common::redacted(&key_files_redacted(answer)).to_string().replace(&format!("-{}\"", fixture.n), "-N\"");
            answers.push((transport, serde_json::from_str::<Value>(&text).unwrap()));
        }
        let (_, first) = &answers[0];
        for (transport, answer) in &answers[1..] {
            assert_eq!(answer, first, "{}/{} over {transport:?} differs from Connect JSON", case.service, case.method);
        }
        let parts: Vec<&str> = case.service.split('.').collect();
        let short = format!("{}_{}", parts[parts.len() - 3], parts[parts.len() - 2]);
        let n = seen.entry(format!("{short}_{}", case.method)).or_default();
        *n += 1;
        let name = if *n == 1 { format!("{short}_{}", case.method) } else { format!("{short}_{}_{n}", case.method) };
        insta::assert_json_snapshot!(name, first);
    }
}

/// The v1 management calls ZITADEL's Terraform provider makes for a machine
/// user with a secret, a key and a PAT, in its order (proto/METHODS.md, "The
/// provider's calls"), over gRPC with the organization in `x-zitadel-orgid` as
/// the provider sends it; each credential works where it is meant to, and stops
/// when removed.
#[tokio::test]
async fn the_terraform_providers_v1_calls_work_over_grpc_in_its_order() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let grpc = |method: &'static str, body: Value| {
        let (app, admin, org) = (&app, admin.clone(), org.clone());
        async move {
            let answer = call_in(app, Transport::Grpc, &admin, Some(&org), MGMT, method, &body).await;
            assert!(answer.get("ok").is_some(), "{method}: {answer}");
            answer["ok"].clone()
        }
    };

    // terraform apply: the user (legacy path), its token type, its secret.
    let created = grpc("AddMachineUser", json!({"userName": "tf-robot", "name": "TF robot"})).await;
    let user = created["userId"].as_str().unwrap().to_owned();
    assert_eq!(created["details"]["resourceOwner"], org.as_str());
    grpc("UpdateMachine", json!({"userId": user, "name": "TF robot", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}))
        .await;
    let secret = grpc("GenerateMachineSecret", json!({"userId": user})).await;
    assert_eq!(secret["clientId"], "tf-robot");
    let read = grpc("GetUserByID", json!({"id": user})).await;
    assert_eq!(read["user"]["machine"]["hasSecret"], true, "{read}");
    assert_eq!(read["user"]["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT", "{read}");
    // The key and the PAT (in parallel in Terraform; in turn here).
    let key = grpc("AddMachineKey", json!({"userId": user, "type": "KEY_TYPE_JSON"})).await;
    let key_id = key["keyId"].as_str().unwrap().to_owned();
    let key_file: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD.decode(key["keyDetails"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(key_file["userId"], user.as_str());
    assert_eq!(key_file["keyId"], key_id.as_str());
    let pat = grpc("AddPersonalAccessToken", json!({"userId": user})).await;
    let token_id = pat["tokenId"].as_str().unwrap().to_owned();
    let token = pat["token"].as_str().unwrap().to_owned();

    // The secret and the PAT authenticate (the PAT's user holds no role: it is
    // known, then refused for want of rights, never unauthenticated).
    let form = [("grant_type", "client_credentials"), ("scope", "openid")];
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .basic_auth("tf-robot", Some(secret["clientSecret"].as_str().unwrap()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
    let answer = call(&app, Transport::Grpc, &token, USERS, "GetUserByID", &json!({"userId": user})).await;
    assert_ne!(answer["error"]["code"], "unauthenticated", "{answer}");

    // terraform destroy: refresh, then remove the PAT and the key, then the user.
    grpc("GetUserByID", json!({"id": user})).await;
    let got_key = grpc("GetMachineKeyByIDs", json!({"userId": user, "keyId": key_id})).await;
    assert_eq!(got_key["key"]["type"], "KEY_TYPE_JSON");
    let got_pat = grpc("GetPersonalAccessTokenByIDs", json!({"userId": user, "tokenId": token_id})).await;
    assert_eq!(got_pat["token"]["id"], token_id.as_str());
    let listed = grpc("ListUsers", json!({"queries": [{"userNameQuery": {"userName": "tf-robot"}}]})).await;
    assert_eq!(listed["details"]["totalResult"], "1", "{listed}");
    grpc("RemovePersonalAccessToken", json!({"userId": user, "tokenId": token_id})).await;
    grpc("RemoveMachineKey", json!({"userId": user, "keyId": key_id})).await;
    let answer = call(&app, Transport::Grpc, &token, USERS, "GetUserByID", &json!({"userId": user})).await;
    assert_eq!(answer["error"]["code"], "unauthenticated", "a removed PAT stops at once: {answer}");
    grpc("RemoveMachineSecret", json!({"userId": user})).await;
    grpc("RemoveUser", json!({"id": user})).await;
    let gone = call_in(&app, Transport::Grpc, &admin, Some(&org), MGMT, "GetUserByID", &json!({"id": user})).await;
    assert_eq!(gone["error"]["code"], "not_found", "{gone}");

    // The header scopes the call: another organization does not see the user's
    // kind of objects, and a bad header is refused.
    let other = ok(&app, &admin, ORGS, "AddOrganization", json!({"name": "elsewhere"})).await["organizationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bot = create_machine(&app, &admin, &org, "tf-other").await;
    let hidden = call_in(&app, Transport::Grpc, &admin, Some(&other), MGMT, "GetUserByID", &json!({"id": bot})).await;
    assert_eq!(hidden["error"]["code"], "not_found", "{hidden}");
    let bad = call_in(&app, Transport::Grpc, &admin, Some("nope"), MGMT, "GetMyOrg", &json!({})).await;
    assert_eq!(bad["error"]["code"], "invalid_argument", "{bad}");
}

/// The calls of the provider's `project`, `project_role`, `application_api`,
/// `application_key`, `user_grant` and `org_member` resources, create to
/// destroy, over gRPC with `x-zitadel-orgid` (proto/METHODS.md lists the
/// resource of each call).
#[tokio::test]
async fn the_terraform_providers_project_app_grant_and_member_calls_work_over_grpc() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let grpc = |method: &'static str, body: Value| {
        let (app, admin, org) = (&app, admin.clone(), org.clone());
        async move {
            let answer = call_in(app, Transport::Grpc, &admin, Some(&org), MGMT, method, &body).await;
            assert!(answer.get("ok").is_some(), "{method}: {answer}");
            answer["ok"].clone()
        }
    };

    let project = grpc("AddProject", json!({"name": "tf-project", "hasProjectCheck": true})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    grpc("AddProjectRole", json!({"projectId": project, "roleKey": "reader", "displayName": "Reader"})).await;
    let added = grpc(
        "AddAPIApp",
        json!({"projectId": project, "name": "api", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}),
    )
    .await;
    let app_id = added["appId"].as_str().unwrap().to_owned();
    assert!(added.get("clientSecret").is_none(), "no secret for a private-key-JWT app: {added}");
    let key = grpc("AddAppKey", json!({"projectId": project, "appId": app_id, "type": "KEY_TYPE_JSON"})).await;
    let key_id = key["id"].as_str().unwrap().to_owned();
    let file: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD.decode(key["keyDetails"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!((file["type"].as_str(), file["appId"].as_str()), (Some("application"), Some(app_id.as_str())));
    let got = grpc("GetAppKey", json!({"projectId": project, "appId": app_id, "keyId": key_id})).await;
    assert_eq!(got["key"]["id"], key_id.as_str());
    grpc("UpdateApp", json!({"projectId": project, "appId": app_id, "name": "api-renamed"})).await;
    let got = grpc("GetAppByID", json!({"projectId": project, "appId": app_id})).await;
    assert_eq!(got["app"]["name"], "api-renamed");
    assert_eq!(got["app"]["apiConfig"]["authMethodType"], "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT");
    let listed = grpc("ListApps", json!({"projectId": project})).await;
    assert_eq!(listed["details"]["totalResult"], "1", "{listed}");

    let user = create_machine(&app, &admin, &org, "tf-granted").await;
    let grant = grpc("AddUserGrant", json!({"userId": user, "projectId": project, "roleKeys": ["reader"]})).await
        ["userGrantId"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = grpc("GetUserGrantByID", json!({"userId": user, "grantId": grant})).await;
    assert_eq!(got["userGrant"]["roleKeys"], json!(["reader"]));
    assert_eq!(got["userGrant"]["projectName"], "tf-project");
    grpc("UpdateUserGrant", json!({"userId": user, "grantId": grant, "roleKeys": []})).await;

    grpc("AddOrgMember", json!({"userId": user, "roles": ["ORG_USER_MANAGER"]})).await;
    let members = grpc("ListOrgMembers", json!({"queries": [{"userIdQuery": {"userId": user}}]})).await;
    assert_eq!(members["result"][0]["roles"], json!(["ORG_USER_MANAGER"]), "{members}");
    grpc("UpdateOrgMember", json!({"userId": user, "roles": ["ORG_OWNER"]})).await;
    let members = grpc("ListOrgMembers", json!({"queries": [{"userIdQuery": {"userId": user}}]})).await;
    assert_eq!(members["result"][0]["roles"], json!(["ORG_OWNER"]), "{members}");
    grpc("RemoveOrgMember", json!({"userId": user})).await;
    let members = grpc("ListOrgMembers", json!({"queries": [{"userIdQuery": {"userId": user}}]})).await;
    assert!(members.get("result").is_none(), "{members}");

    grpc("RemoveUserGrant", json!({"userId": user, "grantId": grant})).await;
    grpc("RemoveAppKey", json!({"projectId": project, "appId": app_id, "keyId": key_id})).await;
    grpc("RemoveApp", json!({"projectId": project, "appId": app_id})).await;
    grpc("RemoveProjectRole", json!({"projectId": project, "roleKey": "reader"})).await;
    grpc("RemoveProject", json!({"id": project})).await;
    let gone =
        call_in(&app, Transport::Grpc, &admin, Some(&org), MGMT, "GetProjectByID", &json!({"id": project})).await;
    assert_eq!(gone["error"]["code"], "not_found", "{gone}");
}
