//! Abuse resistance end to end (docs/security/model.md#limits): inputs that
//! used to panic a handler or reach the database unbounded, expensive work an
//! unauthenticated client can trigger, the console login throttle, duplicate
//! credentials and stalled bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, unused_imports, reason = "not every helper is used here")]
mod api;
mod common;

use api::{USERS, call, snap};
use common::TestApp;
use serde_json::{Value, json};

/// A call that must fail with `invalid_argument`.
async fn invalid(app: &TestApp, service: &str, method: &str, body: Value) -> Value {
    let (status, res) = call(app, &app.admin_pat(), service, method, body).await;
    assert_eq!((status, res["code"].as_str().unwrap_or_default()), (400, "invalid_argument"), "{method}: {res}");
    res
}

/// The same call with a binary message (Connect, `application/proto`), which
/// handlers decode without JSON: it fails as the JSON one does.
async fn invalid_in_binary_too(app: &TestApp, service: &str, method: &str, body: Value) -> Value {
    let res = invalid(app, service, method, body.clone()).await;
    let codec = tessera_proto::method(service, method).unwrap().codec;
    let binary = codec.request_to_binary(&serde_json::to_vec(&body).unwrap()).unwrap();
    let answer = app
        .client
        .post(app.url(&format!("/{service}/{method}")))
        .bearer_auth(app.admin_pat())
        .header("content-type", "application/proto")
        .body(binary)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let binary_res: Value = answer.json().await.unwrap();
    assert_eq!(binary_res, res, "{method} in binary");
    res
}

/// `ListUsers {"query":{"offset":"9223372036854775808"}}` used to panic inside
/// the SQLite binding and drop the connection.
#[tokio::test]
async fn list_offsets_out_of_range_are_invalid_argument_and_nothing_panics() {
    let app = TestApp::spawn().await;

    let res = invalid(&app, USERS, "ListUsers", json!({"query": {"offset": "9223372036854775808"}})).await;
    snap!("list_offset_out_of_range", res);
    for offset in [json!("18446744073709551615"), json!("1000000001"), json!(1e20)] {
        invalid(&app, USERS, "ListUsers", json!({"query": {"offset": offset}})).await;
    }
    invalid(&app, USERS, "ListUsers", json!({"query": {"limit": "4294967296"}})).await;
    let (status, res) =
        call(&app, &app.admin_pat(), USERS, "ListUsers", json!({"query": {"offset": "1000000000"}})).await;
    assert_eq!(status, 200, "{res}");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tessera_http_panics_total 0"), "{metrics}");
    assert!(!app.logs().contains("panic"), "{}", app.logs());
}

/// About 1,000 `orQuery` entries used to reach the database and fail there
/// with a 500. The bounds hold for binary messages too, which never pass
/// through JSON.
#[tokio::test]
async fn wide_and_deep_query_trees_are_invalid_argument() {
    let app = TestApp::spawn().await;
    let leaf = json!({"userNameQuery": {"userName": "x"}});

    let wide = json!({"queries": [{"orQuery": {"queries": vec![leaf.clone(); 1000]}}]});
    let res = invalid_in_binary_too(&app, USERS, "ListUsers", wide).await;
    snap!("wide_query_tree", res);

    let or400 = json!({"orQuery": {"queries": vec![leaf.clone(); 400]}});
    let nested = json!({"andQuery": {"queries": vec![or400; 5]}});
    let res = invalid_in_binary_too(&app, USERS, "ListUsers", json!({"queries": [nested]})).await;
    assert_eq!(res["message"], "request holds more than 2000 values");

    let deep = (0..40).fold(leaf.clone(), |q, _| json!({"notQuery": {"query": q}}));
    let res = invalid_in_binary_too(&app, USERS, "ListUsers", json!({"queries": [deep]})).await;
    assert_eq!(res["message"], "request is nested more than 32 levels deep");

    let emails = json!({"queries": [{"inUserEmailsQuery": {"userEmails": vec!["a@example.com"; 1000]}}]});
    invalid_in_binary_too(&app, USERS, "ListUsers", emails).await;

    // The v1 list reads the same filters.
    let wide = json!({"queries": [{"orQuery": {"queries": vec![leaf.clone(); 1000]}}]});
    invalid_in_binary_too(&app, "zitadel.management.v1.ManagementService", "ListUsers", wide).await;

    // The bounds leave room for real filters.
    let fits = json!({"queries": [{"orQuery": {"queries": vec![leaf; 300]}}]});
    let (status, res) = call(&app, &app.admin_pat(), USERS, "ListUsers", fits).await;
    assert_eq!(status, 200, "{res}");
}

/// Oversized ids are refused before any SQL.
#[tokio::test]
async fn oversized_ids_are_refused() {
    let app = TestApp::spawn().await;
    let id = "1".repeat(100_000);

    let (status, res) = call(&app, &app.admin_pat(), USERS, "GetUserByID", json!({"userId": id})).await;

    assert!(status == 400 || status == 404, "{status} {res}");
    assert!(!res["message"].as_str().unwrap_or_default().contains("1111"), "{res}");
}

// ---------------------------------------------------------------------------
// Console logins

fn admin_password(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.join("admin.password")).unwrap().trim().to_owned()
}

/// A client whose connections come from `local` (any 127.0.0.0/8 address works
/// on Linux loopback).
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local.parse::<std::net::IpAddr>().unwrap())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// One console login POST (double-submit CSRF cookie and field); returns the
/// status and the `Retry-After` header.
async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    forwarded_for: Option<&str>,
    name: &str,
    password: &str,
) -> (u16, Option<String>) {
    let mut req = client.post(app.url("/ui/console/login")).header("cookie", "tessera_console_login=t").form(&[
        ("csrf", "t"),
        ("username", name),
        ("password", password),
    ]);
    if let Some(addr) = forwarded_for {
        req = req.header("x-forwarded-for", addr);
    }
    let res = req.send().await.unwrap();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), retry)
}

/// The value of a counter in `/metrics`.
async fn counter(app: &TestApp, name: &str) -> u64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

/// The policy (docs/console.md): 5 failures per (login name, address). Before,
/// every one of 40 parallel attempts ran argon2 and one right password among
/// them got in.
#[tokio::test]
async fn parallel_wrong_logins_get_no_more_password_checks_than_the_policy_allows() {
    let app = TestApp::spawn().await;
    let client = client_from("127.0.0.1");

    let attempts = (0..40).map(|i| {
        let (app, client) = (&app, &client);
        async move { login(app, client, None, "admin", &format!("wrong {i}")).await }
    });
    let answers = futures_util::future::join_all(attempts).await;

    let checks = counter(&app, "tessera_console_password_checks_total").await;
    assert!(checks <= 5, "{checks} password checks");
    assert!(answers.iter().filter(|(s, _)| *s == 401).count() <= 5, "{answers:?}");
    for (status, retry) in &answers {
        assert!(matches!(status, 401 | 429 | 503), "{answers:?}");
        if *status != 401 {
            assert!(retry.is_some(), "429 and 503 say when to retry");
        }
    }
    let (status, retry) = login(&app, &client, None, "admin", &admin_password(&app)).await;
    assert_eq!(status, 429, "this address is refused for admin, even with the right password");
    assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
}

/// Another address's failures do not lock the user out.
#[tokio::test]
async fn the_right_password_from_a_second_address_still_logs_in() {
    let app = TestApp::spawn().await;
    let attacker = client_from("127.0.0.2");
    for i in 0..6 {
        let (status, _) = login(&app, &attacker, None, "admin", &format!("guess {i}")).await;
        assert!(matches!(status, 401 | 429), "{status}");
    }
    assert_eq!(login(&app, &attacker, None, "admin", &admin_password(&app)).await.0, 429);

    let (status, _) = login(&app, &client_from("127.0.0.1"), None, "admin", &admin_password(&app)).await;

    assert_eq!(status, 303, "the real admin logs in from its own address");
}

/// Behind a trusted proxy the forwarded address counts, not the proxy's.
#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let app = common::Spawn::new().env("TESSERA_LIMITS__TRUSTED_PROXIES", "127.0.0.1").start().await;
    let proxy = client_from("127.0.0.1");
    for i in 0..6 {
        login(&app, &proxy, Some("192.0.2.1"), "admin", &format!("guess {i}")).await;
    }
    assert_eq!(login(&app, &proxy, Some("192.0.2.1"), "admin", &admin_password(&app)).await.0, 429);
    assert_eq!(login(&app, &proxy, Some("198.51.100.2"), "admin", &admin_password(&app)).await.0, 303);

    // 127.0.0.2 is no trusted proxy: its header is ignored, its own address counts.
    let direct = client_from("127.0.0.2");
    for i in 0..6 {
        login(&app, &direct, Some(&format!("203.0.113.{i}")), "admin", "guess").await;
    }
    assert_eq!(login(&app, &direct, Some("203.0.113.99"), "admin", &admin_password(&app)).await.0, 429);
}

/// A user manager of organization B creates a human named `admin` in B: the
/// bootstrap admin (default organization) still logs in with `admin`, and B's
/// user with `admin@<B's name>`.
#[tokio::test]
async fn a_same_named_user_in_another_organization_does_not_block_a_login() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();
    let org_b = api::create_org(&app, &pat, "Org B").await;
    let (status, created) = call(
        &app,
        &pat,
        USERS,
        "CreateUser",
        json!({"organizationId": org_b, "username": "admin", "human": {
            "profile": {"givenName": "B", "familyName": "Admin"},
            "email": {"email": "admin@b.example.com", "isVerified": true},
            "password": {"password": "org b's own password", "changeRequired": false}
        }}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let b_admin = created["id"].as_str().unwrap().to_owned();
    api::grant(&app, &pat, &b_admin, json!({"organizationId": org_b}), &["ORG_OWNER"]).await;
    let client = client_from("127.0.0.1");

    assert_eq!(login(&app, &client, None, "admin", &admin_password(&app)).await.0, 303);
    assert_eq!(login(&app, &client, None, "admin@org b", "org b's own password").await.0, 303);
    assert_eq!(
        login(&app, &client, None, "admin", "org b's own password").await.0,
        401,
        "plain names are the default org's"
    );
    let default_name = "Tessera";
    assert_eq!(login(&app, &client, None, &format!("admin@{default_name}"), &admin_password(&app)).await.0, 303);
}

/// 100 parallel logins for unknown users, each from its own address (so the
/// throttle lets them all through to argon2): the bounded slots keep the
/// server's peak memory small and answer the excess 503 at once.
#[tokio::test]
async fn parallel_unknown_user_logins_keep_peak_memory_small() {
    let app = common::Spawn::new().env("TESSERA_LIMITS__TRUSTED_PROXIES", "127.0.0.1").start().await;
    let client = client_from("127.0.0.1");
    let before = std::fs::read_to_string(format!("/proc/{}/status", app.pid())).unwrap();
    eprintln!(
        "before: {}",
        before.lines().filter(|l| l.starts_with("Vm") || l.starts_with("Threads")).collect::<Vec<_>>().join(" | ")
    );

    let attempts = (0..100).map(|i| {
        let (app, client) = (&app, &client);
        async move {
            let from = format!("192.0.2.{i}");
            login(app, client, Some(&from), &format!("nobody-{i}"), "whatever").await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;

    let status = std::fs::read_to_string(format!("/proc/{}/status", app.pid())).unwrap();
    let hwm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!(
        "after: {}",
        status.lines().filter(|l| l.starts_with("Vm") || l.starts_with("Threads")).collect::<Vec<_>>().join(" | ")
    );
    eprintln!("{:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(hwm_kib < 128 * 1024, "peak RSS {hwm_kib} KiB");
    assert!(answers.iter().all(|(s, _)| matches!(s, 401 | 503)), "{answers:?}");
    assert!(answers.iter().any(|(s, _)| *s == 401), "{answers:?}");
    for (status, retry) in &answers {
        if *status == 503 {
            assert_eq!(retry.as_deref(), Some("1"));
        }
    }
}

// ---------------------------------------------------------------------------
// Duplicate credentials (RFC 6750 §2: one method per request)

#[tokio::test]
async fn duplicate_credentials_are_400() {
    let app = TestApp::spawn().await;
    let pat = app.admin_pat();

    let two_headers = app
        .client
        .post(app.url(&format!("/{USERS}/ListUsers")))
        .header("authorization", format!("Bearer {pat}"))
        .header("authorization", "Bearer tsr_pat_someone_else")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(two_headers.status(), 400);
    let body: Value = two_headers.json().await.unwrap();
    snap!("two_authorization_headers_api", body);

    let both = app
        .client
        .post(app.url("/oidc/v1/userinfo"))
        .bearer_auth(&pat)
        .form(&[("access_token", pat.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
    let body: Value = both.json().await.unwrap();
    snap!("userinfo_header_and_form_token", body);

    let two_userinfo = app
        .client
        .get(app.url("/oidc/v1/userinfo"))
        .header("authorization", format!("Bearer {pat}"))
        .header("authorization", format!("Bearer {pat}"))
        .send()
        .await
        .unwrap();
    assert_eq!(two_userinfo.status(), 400);

    let two_basic = app
        .client
        .post(app.url("/oauth/v2/token"))
        .header("authorization", "Basic YTpi")
        .header("authorization", "Basic Yzpk")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(two_basic.status(), 400);
    let body: Value = two_basic.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");

    // One credential still works.
    let one = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(&pat).send().await.unwrap();
    assert_eq!(one.status(), 200);
}

// ---------------------------------------------------------------------------
// Stalled bodies

/// Sends headers announcing `Content-Length: 1000` and 10 bytes of body to
/// `address`, then waits; returns the status line and how long it took.
fn stall(address: &str, path: &str, extra_headers: &str) -> (String, std::time::Duration) {
    use std::io::{Read as _, Write as _};
    let addr = address.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let started = std::time::Instant::now();
    write!(tcp, "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra_headers}Content-Length: 1000\r\n\r\n0123456789")
        .unwrap();
    tcp.flush().unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = tcp.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    (text.lines().next().unwrap_or_default().to_owned(), started.elapsed())
}

/// `Content-Length: 1000` followed by 10 bytes used to hold the connection for
/// as long as the client liked.
#[tokio::test]
async fn a_stalled_body_is_cut_off_with_408_within_the_configured_time() {
    let app = common::Spawn::new().env("TESSERA_LIMITS__BODY_TIMEOUT_MS", "500").start().await;
    let pat = app.admin_pat();
    let api = format!("Authorization: Bearer {pat}\r\nContent-Type: application/json\r\n");
    let form = "Content-Type: application/x-www-form-urlencoded\r\n".to_owned();

    for (path, headers) in [
        (format!("/{USERS}/ListUsers"), api),
        ("/oauth/v2/token".to_owned(), form.clone()),
        ("/ui/console/login".to_owned(), form),
    ] {
        let address = app.address.clone();
        let (status, took) = tokio::task::spawn_blocking(move || stall(&address, &path, &headers)).await.unwrap();
        assert!(status.starts_with("HTTP/1.1 408"), "{status}");
        assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    }
}

// ---------------------------------------------------------------------------
// Rate limits on failed client authentication

/// Buckets that never refill (0 per second), so the test does not depend on
/// how fast it runs.
#[tokio::test]
async fn failed_client_authentication_is_rate_limited_per_address_and_client() {
    let app = common::Spawn::new()
        .env("TESSERA_LIMITS__AUTH_FAILURES_PER_ADDRESS_BURST", "3")
        .env("TESSERA_LIMITS__AUTH_FAILURES_PER_ADDRESS_PER_SECOND", "0")
        .env("TESSERA_LIMITS__AUTH_FAILURES_PER_CLIENT_BURST", "2")
        .env("TESSERA_LIMITS__AUTH_FAILURES_PER_CLIENT_PER_SECOND", "0")
        .start()
        .await;
    let token = |client: reqwest::Client, id: &'static str| {
        let url = app.url("/oauth/v2/token");
        async move {
            let res = client
                .post(url)
                .basic_auth(id, Some("tsr_cs_wrong"))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .unwrap();
            let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (res.status().as_u16(), retry, res.json::<Value>().await.unwrap())
        }
    };

    // Per client id: two failures from two addresses, then the id is refused everywhere.
    assert_eq!(token(client_from("127.0.0.3"), "victim").await.0, 401);
    assert_eq!(token(client_from("127.0.0.4"), "victim").await.0, 401);
    let (status, retry, body) = token(client_from("127.0.0.5"), "victim").await;
    assert_eq!(status, 429);
    snap!("token_rate_limited", body);
    assert!(retry.is_some());

    // Per address: three failures, then the address is refused for any client.
    let attacker = client_from("127.0.0.6");
    for id in ["a", "b", "c"] {
        assert_eq!(token(attacker.clone(), id).await.0, 401);
    }
    assert_eq!(token(attacker.clone(), "d").await.0, 429);

    // The API counts wrong bearer tokens the same way.
    let api_attacker = client_from("127.0.0.7");
    let api_call = |client: reqwest::Client, bearer: String| {
        let url = app.url(&format!("/{USERS}/ListUsers"));
        async move {
            let res = client.post(url).bearer_auth(bearer).json(&json!({})).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for _ in 0..3 {
        assert_eq!(api_call(api_attacker.clone(), "tsr_pat_wrong".into()).await.0, 401);
    }
    let (status, body) = api_call(api_attacker.clone(), app.admin_pat()).await;
    assert_eq!(status, 429);
    snap!("api_rate_limited", body);
    let (status, _) = api_call(client_from("127.0.0.1"), app.admin_pat()).await;
    assert_eq!(status, 200, "other addresses are not affected");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("tessera_auth_failures_total{endpoint=\"token\"} 5"), "{metrics}");
    assert!(metrics.contains("tessera_rate_limited_total{endpoint=\"api\"} 1"), "{metrics}");
}

// ---------------------------------------------------------------------------
// HTTP/2 (crates/http/src/serve.rs)

/// A connection that sends the HTTP/2 preface and then nothing is closed with
/// a GOAWAY after the first-request time, as an HTTP/1.1 connection that sends
/// no request head is; it does not hold a worker's slot for ever.
#[tokio::test]
async fn a_silent_http2_connection_is_closed_with_goaway() {
    use std::io::{Read as _, Write as _};
    let app = TestApp::in_process().await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let (frames, took) = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let started = std::time::Instant::now();
        // The preface and an empty SETTINGS frame, then silence.
        tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0").unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = tcp.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    // Frame types in order: 9-byte headers, type at offset 3.
    let mut types = Vec::new();
    let mut rest = frames.as_slice();
    while rest.len() >= 9 {
        let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        types.push(rest[3]);
        rest = &rest[(9 + len).min(rest.len())..];
    }
    assert!(types.contains(&7), "a GOAWAY frame (type 7) before the close: {types:?}");
    assert!(took < std::time::Duration::from_secs(15), "closed after {took:?}");
}

/// A request body that stops arriving over HTTP/2 is cut off like one over
/// HTTP/1.1 (`limits.body_timeout_ms`): the HTTP/2 requests reach the same
/// actix app, with its middleware.
#[tokio::test]
async fn a_stalled_http2_body_is_cut_off_within_the_configured_time() {
    use futures_util::StreamExt as _;
    use http_body_util::{BodyExt as _, StreamBody};
    let app = common::Spawn::new().env("TESSERA_LIMITS__BODY_TIMEOUT_MS", "500").start().await;
    let pat = app.admin_pat();
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).http2_only(true).build_http();
    // Ten bytes, then a stream that never ends.
    let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(
        bytes::Bytes::from_static(b"{\"query\":"),
    ))])
    .chain(futures_util::stream::pending());
    let req = hyper::Request::post(app.url(&format!("/{USERS}/ListUsers")))
        .header("authorization", format!("Bearer {pat}"))
        .header("content-type", "application/json")
        .body(StreamBody::new(chunks))
        .unwrap();
    let started = std::time::Instant::now();
    let res = tokio::time::timeout(std::time::Duration::from_secs(20), client.request(req)).await.unwrap().unwrap();
    assert_eq!(res.status().as_u16(), 408);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("deadline_exceeded"));
}
