//! Event webhooks (docs/pat-hygiene.md "Notifications"): targets through the
//! API, Standard Webhooks signatures checked by an independent implementation
//! (the `standardwebhooks` package from PyPI), expiry notices once per
//! threshold on the mock clock, the inactivity policy, a failing receiver's
//! bounded retries, the transactional outbox (a rolled-back change sends
//! nothing; a committed one survives a crash) and the SSRF guard.
//!
//! Receivers are servers this test starts on 127.0.0.1, which the servers
//! under test allow through `webhooks.allow_hosts`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, reason = "not every test takes snapshots")]
mod api;
mod common;
#[path = "common/receiver.rs"]
mod receiver;

use api::{POLICY, USERS, add_pat, call, create_machine, create_org, default_org, grant, ok, status_of};
use common::{Spawn, TestApp};
use receiver::{Received, Receiver};
use serde_json::{Value, json};
use tessera_domain::Clock as _;

const HOOKS: &str = "tessera.webhook.v1.WebhookService";

/// An in-process server that may deliver to loopback, whose background
/// passes never run by themselves (the test drives them).
async fn app() -> TestApp {
    Spawn::new()
        .settings(|s| {
            s.webhooks.allow_hosts = "127.0.0.1".to_owned();
            s.webhooks.interval_secs = 3600;
        })
        .in_process()
        .await
}

/// Creates a target for `events` of `org`; returns its id and secret.
async fn target(app: &TestApp, token: &str, org: &str, url: &str, events: &[&str]) -> (String, String) {
    let made =
        ok(app, token, HOOKS, "CreateWebhook", json!({"organizationId": org, "url": url, "events": events})).await;
    (made["webhook"]["id"].as_str().unwrap().to_owned(), made["signingSecret"].as_str().unwrap().to_owned())
}

/// Checks every request with the `standardwebhooks` package: each verifies
/// under `secret`, and fails once its body is changed. Returns whether the
/// check ran (it is skipped without the package, unless `CI=true`).
async fn verify_with_standardwebhooks(secret: &str, requests: &[Received]) -> bool {
    let Some(python) = common::python_with("standardwebhooks").await else { return false };
    let input = json!({
        "secret": secret,
        "requests": requests.iter().map(|r| json!({
            "headers": {
                "webhook-id": r.header("webhook-id"),
                "webhook-timestamp": r.header("webhook-timestamp"),
                "webhook-signature": r.header("webhook-signature"),
            },
            "body": r.body,
        })).collect::<Vec<_>>(),
    });
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
given = json.load(sys.stdin)
hook = Webhook(given["secret"])
for r in given["requests"]:
    payload = hook.verify(r["body"], r["headers"])
    assert payload["type"], payload
    try:
        hook.verify(r["body"] + " ", r["headers"])
    except WebhookVerificationError:
        pass
    else:
        raise SystemExit("a changed body verified")
print("verified", len(given["requests"]))
"#;
    let (success, stdout, stderr) = common::run_python(&python, script, &input).await;
    assert!(success, "standardwebhooks refused: {stdout}{stderr}");
    assert_eq!(stdout.trim(), format!("verified {}", requests.len()));
    true
}

#[tokio::test]
async fn events_arrive_signed_as_standard_webhooks_and_never_carry_a_secret() {
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    let (hook, secret) =
        target(&app, &admin, &org, &receiver.url, &["pat.created", "pat.removed", "user.deactivated"]).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    let bot = create_machine(&app, &admin, &org, "hooked-bot").await;
    let pat = add_pat(&app, &admin, &bot, None).await;
    let listed =
        ok(&app, &admin, USERS, "ListPersonalAccessTokens", json!({"filters": [{"userIdFilter": {"id": bot}}]})).await;
    let token_id = listed["result"][0]["id"].as_str().unwrap().to_owned();
    ok(&app, &admin, USERS, "RemovePersonalAccessToken", json!({"userId": bot, "tokenId": token_id})).await;
    ok(&app, &admin, USERS, "DeactivateUser", json!({"userId": bot})).await;

    // Nothing leaves before the worker runs; then everything does, in order.
    assert!(receiver.received().is_empty());
    assert_eq!(app.webhooks().deliver_due().await.unwrap(), 3);
    let mut types = receiver.types();
    types.sort();
    assert_eq!(types, ["pat.created", "pat.removed", "user.deactivated"]);
    let got = receiver.received();
    for r in &got {
        assert!(r.header("webhook-id").starts_with("msg_"), "{:?}", r.headers);
        assert!(r.header("webhook-signature").starts_with("v1,"));
        assert_eq!(r.header("content-type"), "application/json");
        assert!(!r.body.contains(&pat) && !r.body.contains(&secret), "a delivery carries a secret: {}", r.body);
        assert_eq!(r.json()["data"]["organizationId"], org);
    }
    let created = got.iter().find(|r| r.json()["type"] == "pat.created").unwrap().json();
    assert_eq!(created["data"]["targetId"], token_id);
    assert_eq!(created["data"]["userId"], bot);
    let ids: std::collections::HashSet<_> = got.iter().map(|r| r.header("webhook-id").to_owned()).collect();
    assert_eq!(ids.len(), 3, "one webhook-id per delivery");
    verify_with_standardwebhooks(&secret, &got).await;

    // Delivered once: a second pass sends nothing.
    assert_eq!(app.webhooks().deliver_due().await.unwrap(), 0);
    let listed = ok(&app, &admin, HOOKS, "ListWebhookDeliveries", json!({"webhookId": hook})).await;
    assert_eq!(listed["totalResult"], "3");
    assert!(listed["result"].as_array().unwrap().iter().all(|d| d["status"] == "delivered" && d["attempts"] == 1));

    // A rotated secret signs from then on; the old one no longer verifies.
    let rotated = ok(&app, &admin, HOOKS, "RotateWebhookSecret", json!({"id": hook})).await;
    let new_secret = rotated["signingSecret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    add_pat(&app, &admin, &create_machine(&app, &admin, &org, "second-bot").await, None).await;
    app.webhooks().deliver_due().await.unwrap();
    let last = receiver.received().last().cloned().unwrap();
    verify_with_standardwebhooks(&new_secret, std::slice::from_ref(&last)).await;

    // The secret is shown once: reading the target never shows it.
    let read = ok(&app, &admin, HOOKS, "GetWebhook", json!({"id": hook})).await;
    assert!(read["signingSecret"].is_null() && !read.to_string().contains("whsec_"));
}

#[tokio::test]
async fn expiry_notices_go_once_per_threshold_and_once_at_expiry() {
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    target(&app, &admin, &org, &receiver.url, &["credential.expiring", "credential.expired"]).await;
    let bot = create_machine(&app, &admin, &org, "expiring-bot").await;
    let t0 = app.clock().now();
    let at = |days: f64| (t0 + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339();
    add_pat(&app, &admin, &bot, Some(at(10.0))).await;
    ok(&app, &admin, USERS, "AddKey", json!({"userId": bot, "expirationDate": at(10.0)})).await;
    // A credential far from expiry never gets a notice.
    add_pat(&app, &admin, &bot, Some(at(100.0))).await;

    let pass = || async {
        app.webhooks().scan_expiry().await.unwrap();
        app.webhooks().deliver_due().await.unwrap();
        let mut types = receiver.types();
        types.sort();
        types
    };
    assert!(pass().await.is_empty(), "10 days ahead: nothing yet");
    app.clock().advance(chrono::Duration::hours(84)); // 6.5 days left
    assert_eq!(pass().await, ["credential.expiring", "credential.expiring"]);
    assert!(app.webhooks().scan_expiry().await.unwrap() == 0, "the 7-day notice goes once");
    app.clock().advance(chrono::Duration::days(6)); // 0.5 days left
    assert_eq!(pass().await.len(), 4);
    assert_eq!(app.webhooks().scan_expiry().await.unwrap(), 0, "the 1-day notice goes once");
    app.clock().advance(chrono::Duration::hours(13)); // expired half an hour ago
    let types = pass().await;
    assert_eq!(types.iter().filter(|t| *t == "credential.expired").count(), 2, "{types:?}");
    for _ in 0..3 {
        app.clock().advance(chrono::Duration::hours(1));
        assert_eq!(app.webhooks().scan_expiry().await.unwrap(), 0, "an expiry is announced once");
    }
    let expiring: Vec<Value> =
        receiver.received().iter().map(Received::json).filter(|b| b["type"] == "credential.expiring").collect();
    let mut days: Vec<i64> = expiring.iter().map(|b| b["data"]["daysBefore"].as_i64().unwrap()).collect();
    days.sort_unstable();
    assert_eq!(days, [1, 1, 7, 7]);
    let kinds: std::collections::BTreeSet<&str> =
        expiring.iter().map(|b| b["data"]["credentialType"].as_str().unwrap()).collect();
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["machine_key", "personal_access_token"]);
    assert!(expiring.iter().all(|b| b["data"]["userId"] == bot && b["data"]["reason"] == "expiration"));
}

#[tokio::test]
async fn an_inactivity_policy_warns_then_disables_an_unused_pat() {
    let app = app().await;
    let admin = app.admin_pat();
    // An organization of its own: the bootstrap admin's token is not in it.
    let org = create_org(&app, &admin, "Idle Org").await;
    let receiver = Receiver::start().await;
    target(&app, &admin, &org, &receiver.url, &["credential.expiring", "credential.expired"]).await;
    let policy = |days: u32| json!({"organizationId": org, "inactivityDays": days});
    let set = ok(&app, &admin, POLICY, "SetPersonalAccessTokenPolicy", policy(30)).await;
    assert_eq!(set["inactivityDays"], 30);
    let bad = call(&app, &admin, POLICY, "SetPersonalAccessTokenPolicy", policy(4000)).await;
    assert_eq!(bad.0, 400, "{}", bad.1);

    let bot = create_machine(&app, &admin, &org, "idle-bot").await;
    let idle = add_pat(&app, &admin, &bot, None).await;
    let busy = add_pat(&app, &admin, &bot, None).await;
    app.clock().advance(chrono::Duration::days(20));
    // The busy token is used (its last use is flushed in batches).
    assert_eq!(status_of(&app, &busy).await, 200);
    flush_usage(&app).await;

    app.clock().advance(chrono::Duration::days(4)); // the idle one has 6 days left
    app.webhooks().scan_expiry().await.unwrap();
    app.webhooks().deliver_due().await.unwrap();
    let warned = receiver.received();
    assert_eq!(warned.len(), 1, "{:?}", receiver.types());
    let body = warned[0].json();
    assert_eq!(body["type"], "credential.expiring");
    assert_eq!(body["data"]["reason"], "inactivity");
    assert_eq!(body["data"]["daysBefore"], 7);

    app.clock().advance(chrono::Duration::days(6) + chrono::Duration::seconds(1));
    // Before the scan the idle token is past its deadline; the scan disables it.
    app.webhooks().scan_expiry().await.unwrap();
    assert_eq!(status_of(&app, &idle).await, 401, "an unused PAT is disabled");
    assert_eq!(status_of(&app, &busy).await, 200, "a used one is not");
    app.webhooks().deliver_due().await.unwrap();
    let types = receiver.types();
    assert!(types.contains(&"credential.expired".to_owned()), "{types:?}");
    let listed =
        ok(&app, &admin, USERS, "ListPersonalAccessTokens", json!({"filters": [{"userIdFilter": {"id": bot}}]})).await;
    assert_eq!(listed["result"].as_array().unwrap().len(), 2, "disabled, not removed: it still shows, expired");

    // Lifting the policy: 0.
    let lifted = ok(&app, &admin, POLICY, "SetPersonalAccessTokenPolicy", policy(0)).await;
    assert!(lifted["inactivityDays"].is_null() || lifted["inactivityDays"] == 0, "{lifted}");
}

/// Writes the batched last-use times now, as the server does every few seconds.
async fn flush_usage(app: &TestApp) {
    assert!(app.flush_usage().await, "the last-use notes were written");
}

#[tokio::test]
async fn a_failing_receiver_gets_bounded_retries_and_the_attempts_show_and_can_be_resent() {
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let (hook, _) = target(&app, &admin, &org, &receiver.url, &["pat.created"]).await;
    add_pat(&app, &admin, &create_machine(&app, &admin, &org, "retry-bot").await, None).await;

    let mut waits = Vec::new();
    for _ in 0..20 {
        app.webhooks().deliver_due().await.unwrap();
        let listed = ok(&app, &admin, HOOKS, "ListWebhookDeliveries", json!({"webhookId": hook})).await;
        let d = &listed["result"][0];
        let Some(next) = d["nextAttemptDate"].as_str() else { break };
        let next = chrono::DateTime::parse_from_rfc3339(next).unwrap().with_timezone(&chrono::Utc);
        waits.push((next - app.clock().now()).num_seconds());
        app.clock().advance(next - app.clock().now());
    }
    assert_eq!(waits, [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800], "exponential backoff, bounded");
    assert_eq!(receiver.received().len(), 10, "ten attempts in all");
    app.clock().advance(chrono::Duration::days(2));
    app.webhooks().deliver_due().await.unwrap();
    assert_eq!(receiver.received().len(), 10, "no attempt after the last");

    let listed = ok(&app, &admin, HOOKS, "ListWebhookDeliveries", json!({"webhookId": hook, "status": "failed"})).await;
    let delivery = listed["result"][0].clone();
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["attempts"], 10);
    assert_eq!(delivery["lastStatusCode"], 500);
    let id = delivery["id"].as_str().unwrap().to_owned();
    let detail = ok(&app, &admin, HOOKS, "GetWebhookDelivery", json!({"id": id})).await;
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 10);
    assert!(attempts.iter().all(|a| a["statusCode"] == 500 && a["error"] == "the receiver answered 500"));

    // Resent, it goes at once with the same id and body.
    receiver.answer(200);
    let resent = ok(&app, &admin, HOOKS, "ResendWebhookDelivery", json!({"id": id})).await;
    assert_eq!(resent["delivery"]["status"], "pending");
    let again = call(&app, &admin, HOOKS, "ResendWebhookDelivery", json!({"id": id})).await;
    assert_eq!(again.0, 400, "a pending delivery is not resent: {}", again.1);
    app.webhooks().deliver_due().await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 11);
    assert_eq!(got[10].header("webhook-id"), got[0].header("webhook-id"), "the idempotency id stays");
    assert_eq!(got[10].body, got[0].body);
    let detail = ok(&app, &admin, HOOKS, "GetWebhookDelivery", json!({"id": id})).await;
    assert_eq!(detail["delivery"]["status"], "delivered");
    assert_eq!(detail["attempts"].as_array().unwrap().len(), 11);
}

#[tokio::test]
async fn a_rolled_back_change_sends_nothing_and_a_committed_one_is_queued_with_it() {
    use tessera_domain::audit::AuditEvent;
    use tessera_domain::repo::{Page, Repos as _, Store as _};
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    let (hook, _) = target(&app, &admin, &org, &receiver.url, &["pat.removed"]).await;

    let store =
        tessera_persistence::SeaStore::connect(&tessera_persistence::DatabaseOptions::new(app.db.url())).await.unwrap();
    let org_id = tessera_domain::OrgId::parse(&org).unwrap();
    let event =
        |n: &str| AuditEvent::new(app.clock().now(), None, "pat.removed", "personal_access_token", n, Some(org_id));
    // The change fails after its event was written: the transaction rolls
    // back, and the delivery with it.
    {
        let tx = store.begin().await.unwrap();
        tx.audit().append(&event("rolled-back")).await.unwrap();
        drop(tx);
    }
    let hook_id = tessera_domain::WebhookId::parse(&hook).unwrap();
    let page = Page { offset: 0, limit: 10, asc: false };
    assert_eq!(store.webhooks().deliveries(hook_id, None, page).await.unwrap().total, 0);
    let tx = store.begin().await.unwrap();
    tx.audit().append(&event("committed")).await.unwrap();
    tx.commit().await.unwrap();
    store.close().await;

    app.webhooks().deliver_due().await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["targetId"], "committed");
}

#[tokio::test]
async fn a_committed_delivery_survives_a_crash_and_goes_after_the_restart() {
    let receiver = Receiver::start().await;
    let env =
        |s: Spawn| s.env("TESSERA_WEBHOOKS__ALLOW_HOSTS", "127.0.0.1").env("TESSERA_WEBHOOKS__INTERVAL_SECS", "1");
    let mut first = env(Spawn::new()).start().await;
    let admin = first.admin_pat();
    let org = default_org(&first, &admin).await;
    // The receiver is down (answers 503) while the first process lives.
    receiver.answer(503);
    target(&first, &admin, &org, &receiver.url, &["pat.created"]).await;
    add_pat(&first, &admin, &create_machine(&first, &admin, &org, "crash-bot").await, None).await;
    first.stop_with("KILL");
    receiver.answer(200);
    let second = env(Spawn::reusing(&first)).start().await;
    // The restarted worker delivers it (its first pass is a second after start;
    // a retry scheduled by the first process is due within 5 s).
    let mut delivered = false;
    for _ in 0..300 {
        if receiver.received().last().is_some_and(|r| r.json()["type"] == "pat.created")
            && status_delivered(&second, &admin).await
        {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the delivery did not go after the restart: {:?}", receiver.types());
}

async fn status_delivered(app: &TestApp, admin: &str) -> bool {
    let hooks = ok(app, admin, HOOKS, "ListWebhooks", json!({})).await;
    let hook = hooks["result"][0]["id"].as_str().unwrap().to_owned();
    let listed = ok(app, admin, HOOKS, "ListWebhookDeliveries", json!({"webhookId": hook})).await;
    listed["result"][0]["status"] == "delivered"
}

#[tokio::test]
async fn targets_are_checked_guarded_and_scoped_to_what_the_caller_may_manage() {
    let app = Spawn::new().settings(|s| s.webhooks.interval_secs = 3600).in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let create = |body: Value| {
        let admin = admin.clone();
        let app = &app;
        async move { call(app, &admin, HOOKS, "CreateWebhook", body).await }
    };
    // The SSRF guard: loopback, private and plain-http targets need the allow-list.
    for url in ["http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://[::1]/x", "ftp://x"] {
        let (status, body) = create(json!({"url": url, "events": ["pat.created"]})).await;
        assert_eq!(status, 400, "{url}: {body}");
    }
    let (status, body) = create(json!({"url": "https://hooks.example.com/x", "events": ["pat.exploded"]})).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("unknown event"), "{body}");
    let (status, _) = create(json!({"url": "https://hooks.example.com/x", "events": []})).await;
    assert_eq!(status, 400);
    let (status, _) = create(json!({"url": "https://u:p@hooks.example.com/x", "events": ["pat.created"]})).await;
    assert_eq!(status, 400);

    // An organization owner manages its organization's targets only.
    let other = create_org(&app, &admin, "Elsewhere").await;
    let owner = create_machine(&app, &admin, &other, "other-owner").await;
    grant(&app, &admin, &owner, json!({"organizationId": other}), &["ORG_OWNER"]).await;
    let owner_pat = add_pat(&app, &admin, &owner, None).await;
    let mine = ok(
        &app,
        &owner_pat,
        HOOKS,
        "CreateWebhook",
        json!({"url": "https://hooks.example.com/o", "events": ["user.deactivated"]}),
    )
    .await;
    assert_eq!(mine["webhook"]["organizationId"], other);
    let (theirs, _) = target(&app, &admin, &org, "https://hooks.example.com/a", &["pat.created"]).await;
    let denied = call(
        &app,
        &owner_pat,
        HOOKS,
        "CreateWebhook",
        json!({"organizationId": org, "url": "https://h.example.com/x", "events": ["pat.created"]}),
    )
    .await;
    assert_eq!(denied.0, 403, "{}", denied.1);
    let instance = call(
        &app,
        &owner_pat,
        HOOKS,
        "CreateWebhook",
        json!({"instance": true, "url": "https://h.example.com/x", "events": ["pat.created"]}),
    )
    .await;
    assert_eq!(instance.0, 403, "{}", instance.1);
    for method in ["GetWebhook", "DeleteWebhook", "RotateWebhookSecret"] {
        let (status, body) = call(&app, &owner_pat, HOOKS, method, json!({"id": theirs})).await;
        assert_eq!(status, 404, "{method}: {body}");
    }
    let seen = ok(&app, &owner_pat, HOOKS, "ListWebhooks", json!({})).await;
    assert_eq!(seen["result"].as_array().unwrap().len(), 1, "only its own: {seen}");
    let all = ok(&app, &admin, HOOKS, "ListWebhooks", json!({})).await;
    assert_eq!(all["result"].as_array().unwrap().len(), 2);

    // An instance target takes the instance owner; it hears every organization.
    let made = ok(
        &app,
        &admin,
        HOOKS,
        "CreateWebhook",
        json!({"instance": true, "url": "https://hooks.example.com/i", "events": ["pat.created"]}),
    )
    .await;
    assert!(made["webhook"].get("organizationId").is_none(), "an instance target: {made}");

    // Updating keeps what is not named; deleting removes.
    let id = mine["webhook"]["id"].as_str().unwrap();
    let changed = ok(&app, &owner_pat, HOOKS, "UpdateWebhook", json!({"id": id, "active": false})).await;
    assert!(changed["webhook"].get("active").is_none(), "inactive (proto3 JSON leaves false out)");
    assert_eq!(changed["webhook"]["url"], "https://hooks.example.com/o");
    ok(&app, &owner_pat, HOOKS, "DeleteWebhook", json!({"id": id})).await;
    assert_eq!(call(&app, &owner_pat, HOOKS, "GetWebhook", json!({"id": id})).await.0, 404);
    let actions = app.audit_actions().await;
    for a in ["webhook.created", "webhook.changed", "webhook.removed"] {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
}

#[tokio::test]
async fn a_leaked_token_raises_credential_leaked() {
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    target(&app, &admin, &org, &receiver.url, &["credential.leaked"]).await;
    let bot = create_machine(&app, &admin, &org, "leaky-bot").await;
    let pat = add_pat(&app, &admin, &bot, None).await;
    let res = app
        .client
        .post(app.url("/tessera/v1/credentials/revoke"))
        .json(&json!({"credentials": [pat]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    app.webhooks().deliver_due().await.unwrap();
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{:?}", receiver.types());
    let body = got[0].json();
    assert_eq!(body["type"], "credential.leaked");
    assert_eq!(body["data"]["targetType"], "personal_access_token");
    assert!(!got[0].body.contains(&pat));
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_not_followed() {
    let app = app().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    receiver.answer(307);
    let (hook, _) = target(&app, &admin, &org, &receiver.url, &["pat.created"]).await;
    add_pat(&app, &admin, &create_machine(&app, &admin, &org, "redirected-bot").await, None).await;
    app.webhooks().deliver_due().await.unwrap();
    assert_eq!(receiver.received().len(), 1, "the redirect is not followed");
    let listed = ok(&app, &admin, HOOKS, "ListWebhookDeliveries", json!({"webhookId": hook})).await;
    assert_eq!(listed["result"][0]["status"], "pending");
    assert_eq!(listed["result"][0]["lastStatusCode"], 307);
}

#[tokio::test]
async fn a_superseded_client_secret_is_announced_before_its_overlap_ends() {
    let app = Spawn::new()
        .settings(|s| {
            s.webhooks.allow_hosts = "127.0.0.1".to_owned();
            s.webhooks.interval_secs = 3600;
            s.tokens.secret_overlap_secs = 2 * 86_400;
        })
        .in_process()
        .await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let receiver = Receiver::start().await;
    target(&app, &admin, &org, &receiver.url, &["credential.expiring", "credential.expired"]).await;
    let bot = create_machine(&app, &admin, &org, "rotating-bot").await;
    ok(&app, &admin, USERS, "AddSecret", json!({"userId": bot})).await;
    app.webhooks().scan_expiry().await.unwrap();
    assert_eq!(app.webhooks().scan_expiry().await.unwrap(), 0, "the current secret does not expire");
    // A new secret supersedes it: it works two more days.
    ok(&app, &admin, USERS, "AddSecret", json!({"userId": bot})).await;
    let pass = || async {
        app.webhooks().scan_expiry().await.unwrap();
        app.webhooks().deliver_due().await.unwrap();
        receiver
            .received()
            .iter()
            .map(|r| (r.json()["type"].clone(), r.json()["data"]["daysBefore"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(pass().await, [(json!("credential.expiring"), json!(7))]);
    app.clock().advance(chrono::Duration::hours(36));
    assert_eq!(pass().await.len(), 2, "the 1-day notice");
    app.clock().advance(chrono::Duration::hours(13));
    let got = pass().await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].0, "credential.expired");
    let last = receiver.received()[2].json();
    assert_eq!(last["data"]["credentialType"], "machine_secret");
    assert_eq!(last["data"]["userId"], bot);
}
