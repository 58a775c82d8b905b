//! The console over plain HTTP: login, session cookie flags, security headers,
//! CSRF, the login throttle, languages and permission checks. The browser flow
//! is in `console_browser.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, unused_imports, reason = "this file takes no snapshots")]
mod api;
mod common;
#[path = "common/receiver.rs"]
mod receiver;

use std::collections::BTreeMap;

use api::{USERS, create_machine, default_org, grant, ok};
use common::TestApp;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

/// A cookie-keeping client that does not follow redirects, to look at each step.
struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    lang: Option<&'static str>,
}

/// One answer: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(LOCATION).map_or("", |v| v.to_str().unwrap())
    }

    /// The `Set-Cookie` header for `name`.
    fn set_cookie(&self, name: &str) -> String {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no Set-Cookie for {name}"))
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").expect("a form with a csrf field") + 19;
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, client, cookies: BTreeMap::new(), lang: None }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let mut req = req.header("cookie", self.cookie_header());
        if let Some(lang) = self.lang {
            req = req.header("accept-language", lang);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            if val.is_empty() || v.to_str().unwrap().contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Answer { status, headers, body: res.text().await.unwrap() }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.client.get(self.app.url(path));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let req = self.client.post(self.app.url(path)).form(form);
        self.send(req).await
    }

    async fn post_owned(&mut self, path: &str, form: &[(&str, String)]) -> Answer {
        let req = self.client.post(self.app.url(path)).form(form);
        self.send(req).await
    }

    async fn login(&mut self, username: &str, password: &str) -> Answer {
        let page = self.get("/ui/console/login").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page.csrf();
        self.post("/ui/console/login", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }
}

fn admin_password(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.join("admin.password")).unwrap().trim().to_owned()
}

#[tokio::test]
async fn admin_logs_in_with_a_strict_session_cookie_and_logs_out() {
    let app = TestApp::spawn().await;
    let mut v = Visitor::new(&app);

    let port = app.address.rsplit(':').next().unwrap();
    let announced = format!("console http://localhost:{port}/ui/console/)");
    // The line is captured by a reader thread: give it a moment.
    for _ in 0..100 {
        if app.logs().contains(&announced) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(app.logs().contains(&announced), "the start line names the console: {}", app.logs());

    let anonymous = v.get("/ui/console/users").await;
    assert_eq!((anonymous.status, anonymous.location()), (StatusCode::SEE_OTHER, "/ui/console/login"));

    let page = v.get("/ui/console/login").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(!page.body.contains("<script>"), "no inline script");
    for hook in ["login-username", "login-password", "login-submit"] {
        assert!(page.body.contains(&format!("data-testid=\"{hook}\"")), "{hook}");
    }

    let done = v.login("admin", &admin_password(&app)).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/ui/console/users"));
    let cookie = done.set_cookie("tessera_console_session");
    assert!(cookie.contains("tsr_sess_"), "a typed, checksummed session credential");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/ui/console"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "http external URL: no Secure flag");

    let users = v.get("/ui/console/users").await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(users.body.contains("data-testid=\"nav-service-users\""));
    assert!(users.body.contains("data-testid=\"service-user-new\""));

    // The database holds a digest, never the cookie.
    let session = v.cookies["tessera_console_session"].clone();
    assert!(!app.logs().contains(&session), "the session credential is never logged");

    let csrf = users.csrf();
    let out = v.post("/ui/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/ui/console/login"));
    // The old cookie is dead even if a copy was kept.
    v.cookies.insert("tessera_console_session".into(), session);
    let after = v.get("/ui/console/users").await;
    assert_eq!((after.status, after.location()), (StatusCode::SEE_OTHER, "/ui/console/login"));
}

#[tokio::test]
async fn https_external_urls_get_secure_cookies() {
    let app = common::Spawn::new().env("TESSERA_EXTERNAL_URL", "https://id.example.com").start().await;
    let mut v = Visitor::new(&app);
    let done = v.login("admin", &admin_password(&app)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(done.set_cookie("tessera_console_session").contains("Secure"));
}

#[tokio::test]
async fn wrong_credentials_do_not_say_which_half_and_are_throttled() {
    let app = TestApp::spawn().await;
    let mut v = Visitor::new(&app);
    let unknown = v.login("nobody", "whatever").await;
    let wrong = v.login("admin", "wrong password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let message = |a: &Answer| {
        let start = a.body.find("data-testid=\"login-error\">").unwrap();
        a.body[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(message(&unknown), message(&wrong));
    assert!(message(&wrong).contains("Wrong username or password."));
    assert!(!wrong.body.contains("wrong password"), "the password is not echoed");

    // Four more failures for `admin` (five in all): even the right password is
    // then refused for a while.
    for _ in 0..4 {
        assert_eq!(v.login("admin", "still wrong").await.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = v.login("admin", &admin_password(&app)).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!throttled.headers.get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().contains("tsr_sess_")));
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let mut v = Visitor::new(&app);

    // The login form itself: a token that does not match the cookie.
    let page = v.get("/ui/console/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let forged = v
        .post("/ui/console/login", &[("csrf", "forged"), ("username", "admin"), ("password", &admin_password(&app))])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let missing = v.post("/ui/console/users", &[("username", "csrf-victim")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = v.post("/ui/console/users", &[("csrf", "not-the-token"), ("username", "csrf-victim")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let listed =
        ok(&app, &pat, USERS, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "csrf-victim"}}]})).await;
    assert_eq!(listed["details"]["totalResult"].as_str().unwrap_or("0"), "0", "{listed}");

    // With the token the same post works.
    let csrf = v.get("/ui/console/users/new").await.csrf();
    let created = v.post("/ui/console/users", &[("csrf", &csrf), ("username", "csrf-ok")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert!(created.location().starts_with("/ui/console/users/"));
}

#[tokio::test]
async fn read_only_administrators_see_no_buttons_and_get_403_on_posts() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org = default_org(&app, &pat).await;
    let robot = create_machine(&app, &pat, &org, "robot").await;
    let viewer = ok(
        &app,
        &pat,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": "viewer", "human": {
            "profile": {"givenName": "Vera", "familyName": "Viewer"},
            "email": {"email": "viewer@example.com", "isVerified": true},
            "password": {"password": "correct horse battery staple", "changeRequired": false}
        }}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Without any administrator role a human may not use the console.
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("viewer", "correct horse battery staple").await.status, StatusCode::UNAUTHORIZED);

    grant(&app, &pat, &viewer, json!({"organizationId": org}), &["ORG_OWNER_VIEWER"]).await;
    assert_eq!(v.login("viewer", "correct horse battery staple").await.status, StatusCode::SEE_OTHER);
    let list = v.get("/ui/console/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("robot"));
    assert!(!list.body.contains("data-testid=\"service-user-new\""));
    let detail = v.get(&format!("/ui/console/users/{robot}")).await;
    assert_eq!(detail.status, StatusCode::OK);
    for hidden in ["pat-new", "service-user-delete", "service-user-deactivate", "roles-save", "federation-new"] {
        assert!(!detail.body.contains(&format!("data-testid=\"{hidden}\"")), "{hidden} must be hidden");
    }
    let csrf = detail.csrf();
    let create = v.post("/ui/console/users", &[("csrf", &csrf), ("username", "sneaky")]).await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let token = v.post(&format!("/ui/console/users/{robot}/pats"), &[("csrf", &csrf)]).await;
    assert_eq!(token.status, StatusCode::FORBIDDEN);
    assert!(!token.body.contains("tsr_pat_"));
    let delete = v.post(&format!("/ui/console/users/{robot}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let federate =
        [("csrf", csrf.as_str()), ("name", "sneaky"), ("issuer", "https://issuer.example"), ("subject", "anyone")];
    let federate = v.post(&format!("/ui/console/users/{robot}/federation"), &federate).await;
    assert_eq!(federate.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_language_follows_accept_language_and_the_switcher() {
    let app = TestApp::spawn().await;
    let mut v = Visitor::new(&app);
    v.lang = Some("de-CH,de;q=0.9,en;q=0.5");
    let de = v.get("/ui/console/login").await;
    assert!(de.body.contains("<html lang=\"de\">") && de.body.contains("Anmelden"), "{}", de.body);

    let switched = v.get("/ui/console/lang?l=en&next=/ui/console/login").await;
    assert_eq!((switched.status, switched.location()), (StatusCode::SEE_OTHER, "/ui/console/login"));
    let en = v.get("/ui/console/login").await;
    assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Log in"), "the choice is remembered");

    // The way back is always a console page: no open redirect.
    let evil = v.get("/ui/console/lang?l=de&next=https://evil.example/").await;
    assert_eq!(evil.location(), "/ui/console/users");
    let evil = v.get("/ui/console/lang?l=de&next=//evil.example/ui/console").await;
    assert_eq!(evil.location(), "/ui/console/users");
}

/// The id in a `/ui/console/users/{id}` location.
fn user_in(location: &str) -> String {
    location.trim_start_matches("/ui/console/users/").split(['#', '?']).next().unwrap().to_owned()
}

#[tokio::test]
async fn the_detail_page_edits_changes_state_grants_roles_and_deletes() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let csrf = v.get("/ui/console/users/new").await.csrf();

    // The name defaults to the username.
    let created =
        v.post("/ui/console/users", &[("csrf", &csrf), ("username", "deploy-bot"), ("access_token_type", "jwt")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = user_in(created.location());
    let got = ok(&app, &pat, USERS, "GetUserByID", json!({"userId": id})).await;
    assert_eq!(got["user"]["machine"]["name"], "deploy-bot", "{got}");
    assert_eq!(got["user"]["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT", "{got}");
    let duplicate = v.post("/ui/console/users", &[("csrf", &csrf), ("username", "deploy-bot")]).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.body.contains("data-testid=\"form-error\""));

    let page = format!("/ui/console/users/{id}");
    let edit = v
        .post(
            &format!("{page}/edit"),
            &[("csrf", &csrf), ("name", "Deploy Bot"), ("description", "ships"), ("access_token_type", "bearer")],
        )
        .await;
    assert_eq!(edit.status, StatusCode::SEE_OTHER);
    let detail = v.get(&page).await;
    assert!(detail.body.contains("value=\"Deploy Bot\"") && detail.body.contains(">ships</textarea>"));

    for (action, state) in
        [("lock", "Locked"), ("unlock", "Active"), ("deactivate", "Inactive"), ("reactivate", "Active")]
    {
        let res = v.post(&format!("{page}/state"), &[("csrf", &csrf), ("action", action)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{action}: {}", res.body);
        let detail = v.get(&page).await;
        assert!(detail.body.contains(&format!("data-testid=\"service-user-state\">{state}<")), "{action}");
    }
    let wrong = v.post(&format!("{page}/state"), &[("csrf", &csrf), ("action", "reactivate")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "reactivating an active user");

    // A token issued in the page, then removed after the confirmation dialog.
    let issued = v.post(&format!("{page}/pats"), &[("csrf", &csrf), ("expiration", "")]).await;
    assert_eq!(issued.status, StatusCode::OK);
    assert_eq!(issued.headers["cache-control"], "no-store");
    let start = issued.body.find("data-testid=\"pat-token\">").unwrap() + 24;
    let token = issued.body[start..].split('<').next().unwrap().to_owned();
    assert!(token.starts_with("tsr_pat_"));
    assert_eq!(api::status_of(&app, &token).await, 200);
    let back = format!("next={}", page.replace('/', "%2F"));
    assert!(issued.body.contains(&back), "the language switch leads back to the user's page");
    let listed = v.get(&page).await;
    assert!(!listed.body.contains(&token), "shown once");
    let row = listed.body.find("data-testid=\"pat-row\"").unwrap();
    let pat_id = listed.body[row..].split("<code>").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let confirm = v.get(&format!("{page}?dialog=pat-remove&item={pat_id}")).await;
    assert!(confirm.body.contains("data-testid=\"confirm-dialog\""));
    let removed = v.post(&format!("{page}/pats/{pat_id}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(api::status_of(&app, &token).await, 401, "a removed token stops working");

    // Administrator roles: grant two, revoke one, revoke all.
    let roles = |v: &Value| -> Vec<String> {
        let mut r: Vec<String> = api::items(v, "administrators")
            .iter()
            .flat_map(|a| a["roles"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()))
            .collect();
        r.sort();
        r
    };
    let memberships =
        || ok(&app, &pat, api::ADMINS, "ListAdministrators", json!({"filters": [{"inUserIdsFilter": {"ids": [id]}}]}));
    let body = format!("csrf={csrf}&role=ORG_USER_MANAGER&role=ORG_OWNER_VIEWER");
    let req = v
        .client
        .post(app.url(&format!("{page}/roles")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    assert_eq!(v.send(req).await.status, StatusCode::SEE_OTHER);
    assert_eq!(roles(&memberships().await), ["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"]);
    let body = format!("csrf={csrf}&role=ORG_USER_MANAGER");
    let req = v
        .client
        .post(app.url(&format!("{page}/roles")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    assert_eq!(v.send(req).await.status, StatusCode::SEE_OTHER);
    assert_eq!(roles(&memberships().await), ["ORG_USER_MANAGER"]);
    assert!(
        v.get(&page).await.body.contains("value=\"ORG_USER_MANAGER\" data-testid=\"role-ORG_USER_MANAGER\" checked")
    );
    let req = v
        .client
        .post(app.url(&format!("{page}/roles")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"));
    assert_eq!(v.send(req).await.status, StatusCode::SEE_OTHER);
    assert!(roles(&memberships().await).is_empty());

    // Delete after the confirmation dialog.
    assert!(v.get(&format!("{page}?dialog=delete")).await.body.contains("data-testid=\"confirm-dialog\""));
    let deleted = v.post(&format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, "/ui/console/users"));
    assert_eq!(v.get(&page).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn keys_are_downloaded_once_and_client_secrets_shown_once() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org = default_org(&app, &pat).await;
    let id = create_machine(&app, &pat, &org, "key-holder").await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let page = format!("/ui/console/users/{id}");
    let detail = v.get(&page).await;
    let csrf = detail.csrf();
    assert!(detail.body.contains("data-testid=\"key-new\"") && detail.body.contains("data-testid=\"secret-none\""));
    assert!(v.get(&format!("{page}?dialog=key-new")).await.body.contains("data-testid=\"key-add\""));

    // "+ New" key: the answer is the ZITADEL key file as a download.
    let date = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let file = v.post(&format!("{page}/keys"), &[("csrf", &csrf), ("expiration", &date)]).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["cache-control"], "no-store");
    let disposition = file.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".json\""), "{disposition}");
    let key: Value = serde_json::from_str(&file.body).unwrap();
    assert_eq!(key["type"], "serviceaccount");
    assert_eq!(key["userId"], id.as_str());
    assert!(key["key"].as_str().unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let key_id = key["keyId"].as_str().unwrap().to_owned();
    assert!(disposition.contains(&key_id));
    let listed = v.get(&page).await;
    assert!(listed.body.contains("data-testid=\"key-row\"") && listed.body.contains(&key_id));
    assert!(!listed.body.contains("PRIVATE KEY"), "the private key is never shown again");
    assert!(listed.body.contains(&format!("{date} 23:59 UTC")));
    assert!(v.get(&format!("{page}?dialog=key-remove&item={key_id}")).await.body.contains("confirm-dialog"));
    let removed = v.post(&format!("{page}/keys/{key_id}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(!v.get(&page).await.body.contains(&key_id));

    // Client secret: generated and shown once; it works for client credentials.
    let shown = v.post(&format!("{page}/secret"), &[("csrf", &csrf)]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let start = shown.body.find("data-testid=\"secret-value\">").unwrap() + 27;
    let secret = shown.body[start..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("tsr_cs_"), "{secret}");
    assert!(shown.body.contains("data-testid=\"secret-client-id\">key-holder<"));
    let token = |secret: String| {
        let client = app.client.clone();
        let url = app.url("/oauth/v2/token");
        async move {
            client
                .post(url)
                .basic_auth("key-holder", Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(token(secret.clone()).await, StatusCode::OK);
    let after = v.get(&page).await;
    assert!(!after.body.contains(&secret) && after.body.contains("data-testid=\"secret-present\""));
    let removed = v.post(&format!("{page}/secret/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(token(secret).await, StatusCode::UNAUTHORIZED);
    assert!(v.get(&page).await.body.contains("data-testid=\"secret-none\""));
    assert!(!app.logs().contains("PRIVATE KEY"), "no key material in the log");
}

#[tokio::test]
async fn a_fine_grained_access_token_is_issued_in_the_page() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org = default_org(&app, &pat).await;
    let id = create_machine(&app, &pat, &org, "ops").await;
    grant(&app, &pat, &id, json!({"organizationId": org}), &["ORG_OWNER"]).await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let page = format!("/ui/console/users/{id}");
    let dialog = v.get(&format!("{page}?dialog=pat-new")).await;
    let csrf = dialog.csrf();
    assert!(
        dialog.body.contains("data-testid=\"pat-access\"") && dialog.body.contains("<option value=\"full\" selected>")
    );
    assert!(dialog.body.contains(&format!("name=\"org\" value=\"{org}\"")), "the user's organization is offered");
    assert!(dialog.body.contains("data-testid=\"pat-permission-user.read\""));

    // Custom access without a permission would mean every permission: refused.
    let empty = v.post(&format!("{page}/pats"), &[("csrf", &csrf), ("access", "custom")]).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(!empty.body.contains("tsr_pat_"));

    // Read only on the organization: the token reads and may not write.
    let shown = v.post(&format!("{page}/pats"), &[("csrf", &csrf), ("access", "read-only"), ("org", &org)]).await;
    assert_eq!(shown.status, StatusCode::OK);
    let start = shown.body.find("data-testid=\"pat-token\">").unwrap() + 24;
    let token = shown.body[start..].split('<').next().unwrap().to_owned();
    assert!(token.starts_with("tsr_pat_"), "{token}");
    ok(&app, &token, USERS, "ListUsers", json!({"query": {"limit": 1}})).await;
    let body = json!({"organizationId": org, "username": "nope", "machine": {"name": "nope"}});
    let (status, _) = api::call(&app, &token, USERS, "CreateUser", body).await;
    assert_eq!(status, 403);

    // The list tells the two kinds apart.
    let listed = v.get(&page).await;
    assert!(listed.body.contains("<small>Tessera: "), "the scope names the organization: {}", listed.body);

    // Custom permissions.
    let form =
        [("csrf", csrf.as_str()), ("access", "custom"), ("permission", "user.read"), ("permission", "user.write")];
    assert_eq!(v.post(&format!("{page}/pats"), &form).await.status, StatusCode::OK);
    assert!(v.get(&page).await.body.contains("<small>user.read, user.write</small>"));
}

const FEDERATION: &str = "tessera.federation.v1.FederationService";

/// The value of the first `data-testid` element's text in a page.
fn text_of(body: &str, testid: &str) -> String {
    let marker = format!("data-testid=\"{testid}\">");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {testid} in the page")) + marker.len();
    body[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn federated_credentials_are_added_edited_and_removed_in_the_page() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org = default_org(&app, &pat).await;
    let id = create_machine(&app, &pat, &org, "deployer").await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let page = format!("/ui/console/users/{id}");
    let detail = v.get(&page).await;
    let csrf = detail.csrf();
    assert!(detail.body.contains("data-testid=\"federation-new\"") && detail.body.contains("federation-empty"));
    let blank = v.get(&format!("{page}?dialog=federation-new")).await;
    assert!(blank.body.contains("data-testid=\"federation-dialog\""));
    assert!(blank.body.contains(&format!("action=\"{page}/federation\"")));

    // A refused form comes back with the reason and everything as typed.
    let form = |subject: &'static str, conditions: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "deploy from main".to_owned()),
            ("description", "GitHub Actions, production".to_owned()),
            ("issuer", "https://token.actions.githubusercontent.com".to_owned()),
            ("keys", "discovery".to_owned()),
            ("subject", subject.to_owned()),
            ("audience", String::new()),
            ("conditions", conditions.to_owned()),
        ]
    };
    let bad = form("repo:acme/deploy:environment:production", "no equals sign");
    let bad = v.post_owned(&format!("{page}/federation"), &bad).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&bad.body, "federation-error").contains("claim=pattern"), "{}", bad.body);
    assert!(bad.body.contains("value=\"repo:acme/deploy:environment:production\""), "the subject as typed");
    assert!(bad.body.contains(">no equals sign</textarea>"), "the conditions as typed");

    // Added: the audience defaults to this server's issuer URL, as on the API.
    let conditions = "repository_owner=acme\r\nref = refs/heads/*\r\n";
    let added = form("repo:acme/deploy:environment:production", conditions);
    let added = v.post_owned(&format!("{page}/federation"), &added).await;
    assert_eq!((added.status, added.location()), (StatusCode::SEE_OTHER, format!("{page}#federation").as_str()));
    let listed = ok(&app, &pat, FEDERATION, "ListFederatedCredentials", json!({"userId": id})).await;
    let stored = &listed["result"][0];
    assert_eq!(stored["subject"], "repo:acme/deploy:environment:production");
    assert_eq!(stored["description"], "GitHub Actions, production");
    assert_eq!(
        stored["conditions"],
        json!([{"claim": "repository_owner", "pattern": "acme"}, {"claim": "ref", "pattern": "refs/heads/*"}])
    );
    assert!(stored["discovery"].is_object(), "{stored}");
    let audience = stored["audience"].as_str().unwrap().to_owned();
    assert!(audience.starts_with("http"), "{audience}");
    let cred = stored["id"].as_str().unwrap().to_owned();
    let shown = v.get(&page).await;
    assert_eq!(text_of(&shown.body, "federation-row-name"), "deploy from main");
    assert_eq!(text_of(&shown.body, "federation-row-subject"), "repo:acme/deploy:environment:production");
    assert!(shown.body.contains("ref=refs/heads/*") && shown.body.contains(&audience));

    // Edited: the dialog holds the stored values; the form replaces them all.
    let edit = v.get(&format!("{page}?dialog=federation-edit&item={cred}")).await;
    assert!(edit.body.contains(&format!("action=\"{page}/federation/{cred}\"")));
    assert!(edit.body.contains("value=\"repo:acme/deploy:environment:production\""));
    assert!(edit.body.contains(">repository_owner=acme\nref=refs/heads/*\n</textarea>"), "{}", edit.body);
    let mut change = form("system:serviceaccount:ci:deployer", "");
    change.retain(|(k, _)| *k != "keys");
    change.extend([("keys", "jwks".to_owned()), ("jwks", "{\"keys\": \"not a list\"}".to_owned())]);
    let refused = v.post_owned(&format!("{page}/federation/{cred}"), &change).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("federation-error") && refused.body.contains(&format!("{page}/federation/{cred}\"")));
    // An inline key set as large as the API allows still reaches the use
    // case (the form limit is above it); a larger one is refused by its rule.
    change.retain(|(k, _)| *k != "jwks");
    change.push(("jwks", format!("{{\"keys\": [], \"pad\": \"{}\"}}", "%".repeat(17 * 1024))));
    let large = v.post_owned(&format!("{page}/federation/{cred}"), &change).await;
    assert_eq!(large.status, StatusCode::BAD_REQUEST);
    assert!(text_of(&large.body, "federation-error").contains("16 KiB"), "{}", large.body);
    change.retain(|(k, _)| *k != "keys" && *k != "jwks");
    change.extend([("keys", "jwks_url".to_owned()), ("jwks_url", "https://k8s.example/openid/v1/jwks".to_owned())]);
    let saved = v.post_owned(&format!("{page}/federation/{cred}"), &change).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let listed = ok(&app, &pat, FEDERATION, "ListFederatedCredentials", json!({"userId": id})).await;
    let stored = &listed["result"][0];
    assert_eq!(stored["subject"], "system:serviceaccount:ci:deployer");
    assert_eq!(stored["jwksUrl"], "https://k8s.example/openid/v1/jwks");
    assert!(stored.get("conditions").is_none_or(|c| c == &json!([])), "{stored}");

    // An unknown credential is not found, in the dialog and on a post.
    let missing = "00000000-0000-4000-8000-000000000000";
    assert_eq!(v.get(&format!("{page}?dialog=federation-edit&item={missing}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(v.get(&format!("{page}?dialog=federation-edit&item=junk")).await.status, StatusCode::NOT_FOUND);

    // Removed after the confirmation dialog.
    let confirm = v.get(&format!("{page}?dialog=federation-remove&item={cred}")).await;
    assert!(
        confirm.body.contains("confirm-dialog") && confirm.body.contains(&format!("{page}/federation/{cred}/remove"))
    );
    let removed = v.post(&format!("{page}/federation/{cred}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(v.get(&page).await.body.contains("federation-empty"));
    let again = v.post(&format!("{page}/federation/{cred}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let actions = app.audit_actions().await;
    for action in ["federated_credential.added", "federated_credential.changed", "federated_credential.removed"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn projects_roles_applications_and_authorizations_are_managed_in_pages() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org = default_org(&app, &pat).await;
    create_machine(&app, &pat, &org, "reader").await;
    let mut v = Visitor::new(&app);
    assert_eq!(v.login("admin", &admin_password(&app)).await.status, StatusCode::SEE_OTHER);
    let list = v.get("/ui/console/projects").await;
    assert!(list.body.contains("data-testid=\"project-save\""));
    let csrf = list.csrf();
    let created = v.post("/ui/console/projects", &[("csrf", &csrf), ("name", "Billing")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = created.location().to_owned();
    assert!(v.get("/ui/console/projects").await.body.contains("data-testid=\"project-row\""));

    let role = v.post(&format!("{page}/roles"), &[("csrf", &csrf), ("key", "reader"), ("display_name", "")]).await;
    assert_eq!(role.status, StatusCode::SEE_OTHER, "{}", role.body);

    // A basic-auth application shows its secret once.
    let basic = v.post(&format!("{page}/apps"), &[("csrf", &csrf), ("name", "api"), ("auth", "basic")]).await;
    assert_eq!(basic.status, StatusCode::OK, "{}", basic.body);
    assert!(basic.body.contains("data-testid=\"secret-value\">tsr_cs_"));
    let shown = v.get(&page).await;
    assert!(!shown.body.contains("tsr_cs_") && shown.body.contains("data-testid=\"app-row\""));

    // A private-key-JWT application gets key files as downloads.
    let jwt = v.post(&format!("{page}/apps"), &[("csrf", &csrf), ("name", "signer"), ("auth", "jwt")]).await;
    assert_eq!(jwt.status, StatusCode::SEE_OTHER, "{}", jwt.body);
    let detail = v.get(&page).await;
    let marker = "/keys\">";
    let action = detail.body.split("action=\"").find(|a| a.contains(marker)).unwrap().split('"').next().unwrap();
    let file = v.post(action, &[("csrf", &csrf)]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(file.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let key: Value = serde_json::from_str(&file.body).unwrap();
    assert_eq!(key["type"], "application");

    // Authorize the service user with the role, then take it back.
    let body = format!("csrf={csrf}&username=reader&role=reader");
    let req = v
        .client
        .post(app.url(&format!("{page}/authorizations")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    let granted = v.send(req).await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    let detail = v.get(&page).await;
    assert!(detail.body.contains("data-testid=\"authorization-row\""));
    let delete_auth = detail
        .body
        .split("action=\"")
        .find(|a| a.contains("/authorizations/") && a.contains("/delete\""))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(v.post(&delete_auth, &[("csrf", &csrf)]).await.status, StatusCode::SEE_OTHER);
    assert!(!v.get(&page).await.body.contains("data-testid=\"authorization-row\""));

    let removed = v.post(&format!("{page}/roles/remove"), &[("csrf", &csrf), ("key", "reader")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(v.get(&format!("{page}?dialog=delete")).await.body.contains("confirm-dialog"));
    let deleted = v.post(&format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, "/ui/console/projects"));
    assert_eq!(v.get(&page).await.status, StatusCode::NOT_FOUND);
}

/// Webhooks on the console: a target created with its secret shown once (a
/// refused form first), its deliveries with status and response code, one
/// delivery's attempts, resend, disable and delete; a reader without
/// `policy.write` sees no buttons and is refused.
#[tokio::test]
async fn webhook_targets_deliveries_and_attempts_on_the_console() {
    let app = common::Spawn::new()
        .settings(|s| {
            s.webhooks.allow_hosts = "127.0.0.1".to_owned();
            s.webhooks.interval_secs = 3600;
        })
        .in_process()
        .await;
    let receiver = receiver::Receiver::start().await;
    receiver.answer(500);
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let mut v = Visitor::new(&app);
    v.login("admin", &admin_password(&app)).await;
    let list = v.get("/ui/console/webhooks").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("No webhook targets."));
    let csrf = list.csrf();

    // No events chosen: refused, with the reason.
    let refused = v.post("/ui/console/webhooks", &[("csrf", &csrf), ("url", &receiver.url)]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("events must name at least one event"), "{}", refused.body);
    let made = v
        .post(
            "/ui/console/webhooks",
            &[("csrf", &csrf), ("url", &receiver.url), ("event", "pat.created"), ("event", "pat.removed")],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK);
    assert!(made.body.contains("data-testid=\"secret-dialog\"") && made.body.contains("whsec_"));
    let listed = ok(&app, &admin, "tessera.webhook.v1.WebhookService", "ListWebhooks", json!({})).await;
    let hook = listed["result"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["result"][0]["events"], json!(["pat.created", "pat.removed"]));
    let page = v.get(&format!("/ui/console/webhooks/{hook}")).await;
    assert!(!page.body.contains("whsec_"), "the secret is shown once");

    // A delivery the receiver refuses: pending, with its response code.
    let bot = create_machine(&app, &admin, &org, "console-hook-bot").await;
    ok(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": bot})).await;
    app.webhooks().deliver_due().await.unwrap();
    let page = v.get(&format!("/ui/console/webhooks/{hook}")).await;
    assert!(page.body.contains("Pending") && page.body.contains("<code data-testid=\"delivery-code\">500</code>"));
    assert!(!page.body.contains("delivery-resend"), "a pending delivery is not resent by hand");
    let deliveries =
        ok(&app, &admin, "tessera.webhook.v1.WebhookService", "ListWebhookDeliveries", json!({"webhookId": hook}))
            .await;
    let delivery = deliveries["result"][0]["id"].as_str().unwrap().to_owned();
    let attempts = v.get(&format!("/ui/console/webhooks/{hook}?delivery={delivery}")).await;
    assert_eq!(attempts.body.matches("data-testid=\"attempt-row\"").count(), 1);
    assert!(attempts.body.contains("<code data-testid=\"attempt-code\">500</code>"), "{}", attempts.body);

    // Accepted on the retry, then resent by hand.
    receiver.answer(200);
    app.clock().advance(chrono::Duration::seconds(5));
    app.webhooks().deliver_due().await.unwrap();
    let page = v.get(&format!("/ui/console/webhooks/{hook}")).await;
    assert!(page.body.contains("Delivered") && page.body.contains("delivery-resend"), "{}", page.body);
    let resent = v.post(&format!("/ui/console/webhooks/{hook}/deliveries/{delivery}/resend"), &[("csrf", &csrf)]).await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);
    app.webhooks().deliver_due().await.unwrap();
    assert_eq!(receiver.received().len(), 3);

    // A reader sees the target but no buttons, and is refused changes.
    let viewer = ok(
        &app,
        &admin,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": "hook-viewer", "human": {
            "profile": {"givenName": "Hugo", "familyName": "Viewer"},
            "email": {"email": "hook-viewer@example.com", "isVerified": true},
            "password": {"password": "correct horse battery staple", "changeRequired": false}
        }}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    grant(&app, &admin, &viewer, json!({"organizationId": org}), &["ORG_OWNER_VIEWER"]).await;
    let mut r = Visitor::new(&app);
    r.login("hook-viewer", "correct horse battery staple").await;
    let seen = r.get(&format!("/ui/console/webhooks/{hook}")).await;
    assert_eq!(seen.status, StatusCode::OK);
    for hidden in ["webhook-disable", "webhook-rotate", "webhook-delete", "delivery-resend"] {
        assert!(!seen.body.contains(&format!("data-testid=\"{hidden}\"")), "{hidden} must be hidden");
    }
    assert!(!r.get("/ui/console/webhooks").await.body.contains("webhook-form"));
    let reader_csrf = seen.csrf();
    let refused = r.post(&format!("/ui/console/webhooks/{hook}/secret"), &[("csrf", &reader_csrf)]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let rotated = v.post(&format!("/ui/console/webhooks/{hook}/secret"), &[("csrf", &csrf)]).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert!(rotated.body.contains("whsec_"));
    let disabled =
        v.post(&format!("/ui/console/webhooks/{hook}/active"), &[("csrf", &csrf), ("active", "false")]).await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    let page = v.get(&format!("/ui/console/webhooks/{hook}")).await;
    assert!(page.body.contains("webhook-enable"));
    let bad = v.post(&format!("/ui/console/webhooks/{hook}/delete"), &[("csrf", "wrong")]).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    let gone = v.post(&format!("/ui/console/webhooks/{hook}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(gone.location(), "/ui/console/webhooks");
    assert_eq!(v.get(&format!("/ui/console/webhooks/{hook}")).await.status, StatusCode::NOT_FOUND);
    let actions = app.audit_actions().await;
    for a in
        ["webhook.created", "webhook.secret.rotated", "webhook.changed", "webhook.delivery.resent", "webhook.removed"]
    {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
}
