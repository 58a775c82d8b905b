//! CONVENTIONS.md §11: no credential ever reaches the logs. A server with access
//! logging on issues, uses and removes Personal Access Tokens, and is sent
//! credentials that fail — bad tokens, and good tokens in places they do not
//! belong (query string, path, other headers, body) — and then every credential
//! of the run, and the secret part of every token, is looked for in its logs.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use base64::Engine as _;
use common::{Spawn, TestApp};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

const USERS: &str = "/zitadel.user.v2.UserService";

/// Every credential of the run, by a name that is safe to print.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, name: impl Into<String>, secret: impl Into<String>) {
        let secret = secret.into();
        assert!(secret.len() >= 8, "too short to scan for meaningfully");
        self.0.push((name.into(), secret));
    }

    /// A token, and its 256-bit secret part on its own (so a log line holding a
    /// fragment of the token is caught too).
    fn add_token(&mut self, name: &str, token: &str) {
        self.add(name, token);
        if let Some(body) = token.strip_prefix("tsr_pat_").filter(|b| b.len() > 22 + 43) {
            self.add(format!("{name} (secret part)"), &body[22..22 + 43]);
        }
    }

    fn assert_absent_from(&self, logs: &str) {
        let leaked: Vec<&str> =
            self.0.iter().filter(|(_, s)| logs.contains(s.as_str())).map(|(n, _)| n.as_str()).collect();
        let lines: Vec<String> = logs
            .lines()
            .filter(|l| self.0.iter().any(|(_, s)| l.contains(s.as_str())))
            .map(|l| self.0.iter().fold(l.to_owned(), |l, (n, s)| l.replace(s.as_str(), &format!("[{n}]"))))
            .collect();
        assert!(leaked.is_empty(), "credentials in the logs: {leaked:?}, in these lines:\n{}", lines.join("\n"));
    }
}

/// A request with the API's JSON content type.
fn api(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, app.url(path)).header("content-type", "application/json")
}

async fn send(req: RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Flips the last character of the secret part: same shape, wrong checksum.
fn tampered(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() - 10;
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap()
}

/// Drives the whole scenario against `app` and returns every credential used.
async fn exercise(app: &TestApp) -> Secrets {
    let mut secrets = Secrets::default();
    let admin = app.admin_pat();
    secrets.add_token("admin PAT", &admin);
    let password = std::fs::read_to_string(app.data_dir.join("admin.password")).unwrap().trim().to_owned();
    secrets.add("bootstrap password", &password);

    // Issue: a machine user with three PATs (Connect and REST).
    let (status, me) =
        send(api(app, Method::POST, &format!("{USERS}/ListUsers")).bearer_auth(&admin).json(&json!({}))).await;
    assert_eq!(status, 200, "{me}");
    let org = me["result"][0]["details"]["resourceOwner"].as_str().unwrap().to_owned();
    let (status, created) = send(
        api(app, Method::POST, &format!("{USERS}/CreateUser"))
            .bearer_auth(&admin)
            .json(&json!({"organizationId": org, "username": "leak-probe", "machine": {"name": "Leak probe"}})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let user = created["id"].as_str().unwrap().to_owned();
    let mut issued = Vec::new();
    for (path, body) in [
        (format!("{USERS}/AddPersonalAccessToken"), json!({"userId": user, "expirationDate": "2099-01-01T00:00:00Z"})),
        (format!("{USERS}/AddPersonalAccessToken"), json!({"userId": user})),
        (format!("/v2/users/{user}/pats"), json!({"expirationDate": "2098-01-01T00:00:00+00:00"})),
    ] {
        let (status, pat) = send(api(app, Method::POST, &path).bearer_auth(&admin).json(&body)).await;
        assert_eq!(status, 200, "{pat}");
        let token = pat["token"].as_str().unwrap().to_owned();
        secrets.add_token(&format!("issued PAT #{}", issued.len() + 1), &token);
        issued.push((pat["tokenId"].as_str().unwrap().to_owned(), token));
    }
    let (good_id, good) = issued[0].clone();
    let (removed_id, removed) = issued[1].clone();

    // Use: the PAT reads its own user, over Connect and REST.
    let (status, _) =
        send(api(app, Method::POST, &format!("{USERS}/GetUserByID")).bearer_auth(&good).json(&json!({"userId": user})))
            .await;
    assert_eq!(status, 200);
    let (status, _) = send(app.client.get(app.url(&format!("/v2/users/{user}"))).bearer_auth(&good)).await;
    assert_eq!(status, 200);
    let (status, _) = send(
        api(app, Method::POST, &format!("{USERS}/RemovePersonalAccessToken"))
            .bearer_auth(&admin)
            .json(&json!({"userId": user, "tokenId": removed_id})),
    )
    .await;
    assert_eq!(status, 200);

    // Bad tokens, each refused.
    let garbage = format!("tsr_pat_{}", "Zx9".repeat(24));
    let forged = tampered(&good);
    secrets.add("garbage token", &garbage);
    secrets.add("tampered token", &forged);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("admin:{password}"));
    secrets.add("Basic credentials", &basic);
    let list = format!("{USERS}/ListUsers");
    for (what, req) in [
        ("removed token", api(app, Method::POST, &list).bearer_auth(&removed)),
        ("garbage token", api(app, Method::POST, &list).bearer_auth(&garbage)),
        ("tampered token", api(app, Method::POST, &list).bearer_auth(&forged)),
        (
            "lower-case scheme, extra spaces",
            api(app, Method::POST, &list).header("authorization", format!("bearer   {forged}")),
        ),
        ("no scheme", api(app, Method::POST, &list).header("authorization", good.clone())),
        ("Token scheme", api(app, Method::POST, &list).header("authorization", format!("Token {good}"))),
        ("Basic with the password", api(app, Method::POST, &list).header("authorization", format!("Basic {basic}"))),
        ("X-Api-Key header", api(app, Method::POST, &list).header("x-api-key", good.clone())),
        ("cookie", api(app, Method::POST, &list).header("cookie", format!("session={good}"))),
        ("request id header", api(app, Method::POST, &list).header("x-request-id", good.clone())),
        ("query string", api(app, Method::POST, &format!("{list}?access_token={good}"))),
        ("query string, REST", app.client.get(app.url(&format!("/v2/users/{user}?access_token={good}")))),
        ("v1 query string", api(app, Method::POST, &format!("/management/v1/users/machine?token={good}"))),
    ] {
        let (status, body) = send(req.json(&json!({}))).await;
        assert_eq!(status, 401, "{what}: {body}");
    }

    // Good tokens where ids belong: refused or ignored, never echoed.
    let admin_call = |method: Method, path: &str| api(app, method, path).bearer_auth(&admin);
    for (what, req, expected) in [
        (
            "token as a user id",
            admin_call(Method::POST, &format!("{USERS}/GetUserByID")).json(&json!({"userId": good})),
            400,
        ),
        (
            "token instead of its id",
            admin_call(Method::POST, &format!("{USERS}/RemovePersonalAccessToken"))
                .json(&json!({"userId": user, "tokenId": good})),
            200,
        ),
        ("token in a path", admin_call(Method::GET, &format!("/v2/users/{good}")), 400),
        ("token id slot of a REST path", admin_call(Method::DELETE, &format!("/v2/users/{user}/pats/{good}")), 200),
        ("token in an unknown method name", admin_call(Method::POST, &format!("{USERS}/{good}")).json(&json!({})), 404),
        ("token as an enum", admin_call(Method::POST, &list).json(&json!({"sortingColumn": good})), 400),
        ("token as a number", admin_call(Method::POST, &list).json(&json!({"query": {"limit": good}})), 400),
        (
            "token in a filter",
            admin_call(Method::POST, &list).json(&json!({"queries": [{"typeQuery": {"type": good}}]})),
            400,
        ),
        ("token in broken JSON", admin_call(Method::POST, &list).body(format!("{{\"userId\": \"{good}\"")), 400),
        (
            "token as an organization header",
            admin_call(Method::POST, "/management/v1/users/machine")
                .header("x-zitadel-orgid", good.clone())
                .json(&json!({"userName": "x", "name": "x"})),
            400,
        ),
    ] {
        let (status, body) = send(req).await;
        assert_eq!(status, expected, "{what}: {body}");
        assert!(!body.to_string().contains(&good), "{what}: the response echoes the token");
    }

    // The good token still works: the scenario really used it.
    let (status, pats) = send(
        api(app, Method::POST, &format!("{USERS}/ListPersonalAccessTokens"))
            .bearer_auth(&good)
            .json(&json!({"filters": [{"tokenIdFilter": {"id": good_id}}]})),
    )
    .await;
    assert_eq!(status, 200, "{pats}");
    secrets
}

async fn assert_no_leaks(app: TestApp) {
    let secrets = exercise(&app).await;
    let logs = app.logs();
    // The scan only means something if requests were logged, failures included.
    assert!(logs.contains("ListUsers") && logs.contains("401"), "access lines are missing:\n{logs}");
    secrets.assert_absent_from(&logs);
}

#[tokio::test]
async fn no_credential_reaches_the_access_log() {
    // TestApp logs at `info,access=debug`.
    assert_no_leaks(TestApp::spawn().await).await;
}

#[tokio::test]
async fn no_credential_reaches_even_trace_logs_in_json() {
    let app = Spawn::new().env("TESSERA_LOG__LEVEL", "trace").env("TESSERA_LOG__FORMAT", "json").start().await;
    assert_no_leaks(app).await;
}
