//! The console in a real browser: headless Chromium driven through WebDriver
//! (chromedriver). One browser session walks the seed's flow — log in, create a
//! service user, create an access token with an expiration date, read it from
//! the dialog, close it — and proves the token works on the API and is gone from
//! the page; adds a federated credential and removes it; then the same in
//! German, and a failed login; creates a webhook target (its secret shown
//! once) and reads its delivery's attempts.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! Without them the test fails when `CI=true` and is skipped with a message
//! otherwise. With `TESSERA_SCREENSHOTS=<dir>` it saves screenshots of the key
//! pages there (`docs/screenshots` holds the committed ones).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, unused_imports, reason = "this file takes no snapshots")]
mod api;
mod common;
#[path = "common/receiver.rs"]
mod receiver;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api::{USERS, add_pat, call, create_machine, default_org};
use common::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt as _;
use serde_json::json;

/// `name` on the `PATH`, or the path in the environment variable `var`.
fn find_program(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(var) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// chromedriver on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    async fn start(chromedriver: &PathBuf) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let driver = Self { child, url };
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = reqwest::Client::new();
        loop {
            if let Ok(res) = client.get(format!("{}/status", driver.url)).send().await
                && res.status().is_success()
            {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer within 20 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser, or `None` (after saying why) when this machine has none and CI
/// is not set.
async fn browser() -> Option<(Driver, Client, tempfile::TempDir)> {
    let chromium = find_program("TESSERA_TEST_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_program("TESSERA_TEST_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but chromium/chromedriver are missing: install Debian's chromium and chromium-driver"
        );
        eprintln!(
            "SKIPPED: console browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let driver = Driver::start(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-US",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": {"intl.accept_languages": "en-US,en"},
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client =
        ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("WebDriver session");
    Some((driver, client, profile))
}

fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

async fn by_testid(c: &Client, id: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(css(&format!("[data-testid=\"{id}\"]")))
        .await
        .unwrap_or_else(|e| panic!("no element {id}: {e}"))
}

/// Waits until the page no longer contains `text`.
async fn wait_gone(c: &Client, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.source().await.unwrap().contains(text) {
        assert!(Instant::now() < deadline, "still on the page after 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the current URL's path is `path`.
async fn wait_path(c: &Client, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = c.current_url().await.unwrap();
        if pred(url.path()) {
            return url.path().to_owned();
        }
        assert!(Instant::now() < deadline, "still at {url} after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("TESSERA_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
    }
}

async fn log_in(c: &Client, app: &TestApp, password: &str) {
    c.goto(&app.url("/ui/console/login")).await.unwrap();
    by_testid(c, "login-username").await.send_keys("admin").await.unwrap();
    by_testid(c, "login-password").await.send_keys(password).await.unwrap();
    by_testid(c, "login-submit").await.click().await.unwrap();
}

/// Creates a service user through the pages and issues it a PAT (expiring on
/// `expiration` when given); returns the token read from the dialog, after
/// checking the dialog's labels against `labels` (add, close).
async fn create_user_and_pat(c: &Client, username: &str, expiration: Option<&str>, labels: (&str, &str)) -> String {
    by_testid(c, "nav-service-users").await.click().await.unwrap();
    wait_path(c, |p| p == "/ui/console/users").await;
    by_testid(c, "service-user-new").await.click().await.unwrap();
    by_testid(c, "service-user-username").await.send_keys(username).await.unwrap();
    by_testid(c, "service-user-save").await.click().await.unwrap();
    wait_path(c, |p| p.starts_with("/ui/console/users/") && p != "/ui/console/users/new").await;
    assert_eq!(by_testid(c, "service-user-title").await.text().await.unwrap(), username);

    by_testid(c, "pat-new").await.click().await.unwrap();
    let picker = by_testid(c, "pat-expiration").await;
    assert_eq!(picker.attr("type").await.unwrap().as_deref(), Some("date"), "a calendar date picker");
    if let Some(date) = expiration {
        // The picker's keyboard format depends on the locale; set the value the
        // way the calendar does.
        c.execute("document.querySelector('[data-testid=\"pat-expiration\"]').value = arguments[0]", vec![json!(date)])
            .await
            .unwrap();
    }
    // Full access is the default; chosen permissions show only when asked for.
    let access = by_testid(c, "pat-access").await;
    assert_eq!(access.prop("value").await.unwrap().as_deref(), Some("full"));
    assert!(!by_testid(c, "pat-permission-user.read").await.is_displayed().await.unwrap());
    access.select_by_value("custom").await.unwrap();
    assert!(by_testid(c, "pat-permission-user.read").await.is_displayed().await.unwrap());
    if labels.0 == "Add" {
        screenshot(c, "console-pat-new").await;
    }
    access.select_by_value("full").await.unwrap();
    let add = by_testid(c, "pat-add").await;
    assert_eq!(add.text().await.unwrap(), labels.0);
    add.click().await.unwrap();
    let token = by_testid(c, "pat-token").await.text().await.unwrap();
    assert!(token.starts_with("tsr_pat_"), "{token}");
    let warning = by_testid(c, "pat-warning").await;
    assert_eq!(
        c.execute("return getComputedStyle(arguments[0]).color", vec![serde_json::to_value(&warning).unwrap()])
            .await
            .unwrap(),
        json!("rgb(198, 40, 40)"),
        "the warning is red"
    );
    assert_eq!(by_testid(c, "pat-close").await.text().await.unwrap(), labels.1);
    token
}

/// Closes the token dialog and checks the token is gone from the page.
async fn close_dialog(c: &Client, token: &str) {
    by_testid(c, "pat-close").await.click().await.unwrap();
    wait_path(c, |p| !p.ends_with("/pats")).await;
    wait_gone(c, token).await;
    by_testid(c, "pat-row").await;
}

async fn works_on_the_api(app: &TestApp, token: &str) {
    let (status, body) = call(app, token, USERS, "ListUsers", json!({"query": {"limit": 1}})).await;
    assert_eq!(status, 200, "the PAT from the console works on the API: {body}");
}

/// On a service user's page: "+ New" federated credential, filled and added;
/// the row shows it; "Remove" and the confirmation take it away.
async fn federated_credential(c: &Client) {
    by_testid(c, "federation-new").await.click().await.unwrap();
    by_testid(c, "federation-dialog").await;
    // Only the fields of the chosen key source show.
    assert!(!by_testid(c, "federation-jwks-url").await.is_displayed().await.unwrap());
    let keys = by_testid(c, "federation-keys").await;
    keys.select_by_value("jwks_url").await.unwrap();
    assert!(by_testid(c, "federation-jwks-url").await.is_displayed().await.unwrap());
    keys.select_by_value("discovery").await.unwrap();
    assert!(!by_testid(c, "federation-jwks").await.is_displayed().await.unwrap());
    by_testid(c, "federation-name").await.send_keys("deploy from main").await.unwrap();
    by_testid(c, "federation-issuer").await.send_keys("https://token.actions.githubusercontent.com").await.unwrap();
    by_testid(c, "federation-subject").await.send_keys("repo:acme/deploy:environment:production").await.unwrap();
    by_testid(c, "federation-conditions").await.send_keys("repository_owner=acme\nref=refs/heads/main").await.unwrap();
    screenshot(c, "console-federation-dialog").await;
    by_testid(c, "federation-save").await.click().await.unwrap();
    let subject = by_testid(c, "federation-row-subject").await.text().await.unwrap();
    assert_eq!(subject, "repo:acme/deploy:environment:production");
    c.execute("document.getElementById('federation').scrollIntoView()", vec![]).await.unwrap();
    screenshot(c, "console-federation").await;

    by_testid(c, "federation-remove").await.click().await.unwrap();
    by_testid(c, "confirm-dialog").await;
    by_testid(c, "confirm").await.click().await.unwrap();
    by_testid(c, "federation-empty").await;
}

/// "Webhooks": a target created through the form shows its secret once; a
/// PAT created on the API is delivered to a receiver that refuses it, and
/// the delivery's attempts show on the target's page.
async fn webhook(c: &Client, app: &TestApp) {
    let receiver = receiver::Receiver::start().await;
    receiver.answer(503);
    by_testid(c, "nav-webhooks").await.click().await.unwrap();
    wait_path(c, |p| p == "/ui/console/webhooks").await;
    by_testid(c, "webhook-url").await.send_keys(&receiver.url).await.unwrap();
    by_testid(c, "webhook-description").await.send_keys("on-call pager").await.unwrap();
    for event in ["credential.expiring", "credential.expired", "credential.leaked", "pat.created"] {
        by_testid(c, &format!("webhook-event-{event}")).await.click().await.unwrap();
    }
    by_testid(c, "webhook-save").await.click().await.unwrap();
    let secret = by_testid(c, "secret-value").await.text().await.unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    by_testid(c, "secret-close").await.click().await.unwrap();
    wait_path(c, |p| p.starts_with("/ui/console/webhooks/")).await;
    assert!(!c.source().await.unwrap().contains(&secret), "the secret is shown once");

    let admin = app.admin_pat();
    let org = default_org(app, &admin).await;
    add_pat(app, &admin, &create_machine(app, &admin, &org, "paged-bot").await, None).await;
    // The server's worker runs every second (TESSERA_WEBHOOKS__INTERVAL_SECS).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        c.refresh().await.unwrap();
        if c.source().await.unwrap().contains("data-testid=\"delivery-code\"") {
            break;
        }
        assert!(Instant::now() < deadline, "no delivery attempt after 15 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    c.find(Locator::Css("[data-testid=\"delivery-row\"] a")).await.unwrap().click().await.unwrap();
    let attempt = by_testid(c, "attempt-row").await.text().await.unwrap();
    assert!(attempt.contains("503"), "{attempt}");
    screenshot(c, "console-webhook").await;
}

async fn flow(c: &Client, app: &TestApp) {
    let password = std::fs::read_to_string(app.data_dir.join("admin.password")).unwrap().trim().to_owned();

    // A failed login says so, without saying which half was wrong.
    log_in(c, app, "not the password").await;
    let error = by_testid(c, "login-error").await.text().await.unwrap();
    assert_eq!(error, "Wrong username or password.");
    screenshot(c, "console-login").await;

    // English: the seed's flow with an expiration date.
    log_in(c, app, &password).await;
    wait_path(c, |p| p == "/ui/console/users").await;
    let date = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    let token = create_user_and_pat(c, "ci-bot", Some(&date), ("Add", "Close")).await;
    // The copy button reports success (headless Chromium may refuse the
    // clipboard API; the fallback still selects and copies).
    let script_ran = c.execute("return document.documentElement.classList.contains('js')", vec![]).await.unwrap();
    assert_eq!(script_ran, json!(true), "console.js runs under the Content-Security-Policy");
    let copy = by_testid(c, "pat-copy").await;
    copy.click().await.unwrap();
    // The label changes when the clipboard promise settles, not on the click.
    let mut label = copy.text().await.unwrap();
    for _ in 0..50 {
        if label == "Copied" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        label = copy.text().await.unwrap();
    }
    assert_eq!(label, "Copied");
    screenshot(c, "console-pat-dialog").await;
    close_dialog(c, &token).await;
    let expires = by_testid(c, "pat-expires").await.text().await.unwrap();
    assert_eq!(expires, format!("{date} 23:59 UTC"), "expiration date and time");
    works_on_the_api(app, &token).await;
    federated_credential(c).await;
    webhook(c, app).await;
    assert!(!app.logs().contains(&token), "the token is never logged");
    let stored = c.execute("return localStorage.length + sessionStorage.length", vec![]).await.unwrap();
    assert_eq!(stored, json!(0), "nothing in browser storage");
    assert!(!c.current_url().await.unwrap().as_str().contains("tsr_"), "no token in the URL");

    by_testid(c, "nav-service-users").await.click().await.unwrap();
    by_testid(c, "service-user-row").await;
    screenshot(c, "console-service-users").await;

    // German: switched in the page and remembered; no expiration this time.
    by_testid(c, "lang-de").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while by_testid(c, "nav-service-users").await.text().await.unwrap() != "Service Benutzer" {
        assert!(Instant::now() < deadline, "the page did not switch to German");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(by_testid(c, "service-user-new").await.text().await.unwrap(), "+ Neu");
    let token = create_user_and_pat(c, "ci-bot-de", None, ("Hinzufügen", "Schliessen")).await;
    close_dialog(c, &token).await;
    works_on_the_api(app, &token).await;

    by_testid(c, "logout").await.click().await.unwrap();
    wait_path(c, |p| p == "/ui/console/login").await;
    assert_eq!(by_testid(c, "login-submit").await.text().await.unwrap(), "Anmelden", "German is remembered");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; cargo xtask ci runs it with --include-ignored"]
async fn an_administrator_creates_a_working_pat_in_the_browser() {
    let Some((_driver, client, _profile)) = browser().await else { return };
    let app = common::Spawn::new()
        .env("TESSERA_WEBHOOKS__ALLOW_HOSTS", "127.0.0.1")
        .env("TESSERA_WEBHOOKS__INTERVAL_SECS", "1")
        .start()
        .await;
    let outcome = std::panic::AssertUnwindSafe(flow(&client, &app)).catch_unwind().await;
    if outcome.is_err() {
        screenshot(&client, "console-failure").await;
    }
    let _ = client.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
