//! The operator contract of DESIGN.md §2, through the real binary: start-up,
//! bootstrap, health endpoints, graceful shutdown and one-line errors.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;

use common::{Spawn, TestApp, base_command, run};
use tessera_domain::repo::Repos;

#[tokio::test]
async fn starts_bootstraps_and_serves_health_endpoints() {
    let app = TestApp::spawn().await;

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    insta::assert_json_snapshot!("healthz", health.json::<serde_json::Value>().await.unwrap());

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    insta::assert_json_snapshot!("readyz", ready.json::<serde_json::Value>().await.unwrap());

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("tessera_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tessera_http_request_duration_seconds_bucket"), "{metrics}");

    for file in ["admin.pat", "admin.password"] {
        let meta = std::fs::metadata(app.data_dir.join(file)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
    let pat = app.admin_pat();
    assert!(pat.starts_with("tsr_pat_"), "the admin PAT has the PAT format");
    let password = std::fs::read_to_string(app.data_dir.join("admin.password")).unwrap();
    assert!(password.trim().len() >= 20);

    // `GET /` leads a person to the console.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = no_redirects.get(app.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/ui/console/");

    let logs = app.logs();
    // The listen address and the issuer on one line: an assertion's `aud` is
    // the issuer, not the address.
    let port = app.address.rsplit(':').next().unwrap();
    let listening = format!("[stdout] tessera listening on {} (issuer http://localhost:{port};", app.address);
    assert!(logs.contains(&listening), "{logs}");
    assert!(logs.contains("admin.pat") && logs.contains("admin.password"), "the log says where the files are");
    assert!(!logs.contains(&pat) && !logs.contains(password.trim()), "no credential in the logs");
}

#[tokio::test]
async fn request_ids_are_echoed_when_plain_and_replaced_otherwise() {
    let app = TestApp::spawn().await;
    let echoed = app.client.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let replaced = app.client.get(app.url("/healthz")).header("x-request-id", "evil\tvalue").send().await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "evil\tvalue");
}

#[tokio::test]
async fn a_second_start_reuses_the_instance_and_its_files() {
    let mut first = TestApp::spawn().await;
    let pat = std::fs::read(first.data_dir.join("admin.pat")).unwrap();
    let password = std::fs::read(first.data_dir.join("admin.password")).unwrap();
    let store = first.db.store().await;
    let events = store.audit().recent(1000).await.unwrap().len();
    assert!(first.stop().success());

    let second = Spawn::reusing(&first).start().await;
    assert_eq!(std::fs::read(second.data_dir.join("admin.pat")).unwrap(), pat);
    assert_eq!(std::fs::read(second.data_dir.join("admin.password")).unwrap(), password);
    assert_eq!(store.audit().recent(1000).await.unwrap().len(), events, "the database is untouched");
    assert!(!second.logs().contains("bootstrapped a new instance"));
    store.close().await;
}

#[tokio::test]
async fn sigterm_and_sigint_shut_down_cleanly() {
    for signal in ["TERM", "INT"] {
        let mut app = TestApp::spawn().await;
        let status = app.stop_with(signal);
        assert!(status.success(), "SIG{signal}: {status:?}");
        assert!(app.logs().contains("shut down cleanly"));
    }
}

/// Runs `tessera start` with `env` and returns (exit code, stderr).
fn start_failing(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = base_command(&dir.path().join("data"), &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()));
    cmd.arg("start");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (status, _, stderr) = run(cmd);
    (status.code(), stderr)
}

#[test]
fn a_bad_config_value_is_one_line_naming_the_key() {
    let (code, stderr) = start_failing(&[("TESSERA_SERVER__PORT", "eighty")]);
    assert_eq!(code, Some(2));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("TESSERA_SERVER__PORT") && !stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unreadable_secret_scanning_key_list_is_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("keys.json");
    std::fs::write(&bad, r#"{"public_keys": [{"key_identifier": "k", "key": "not PEM"}]}"#).unwrap();
    for path in [bad.to_str().unwrap(), "/nonexistent/keys.json"] {
        let (code, stderr) = start_failing(&[
            ("TESSERA_SECRET_SCANNING__GITHUB_KEYS_FILE", path),
            ("TESSERA_MASTERKEY", "0123456789abcdef0123456789abcdef"),
        ]);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("TESSERA_SECRET_SCANNING__GITHUB_KEYS_FILE"), "{stderr}");
    }
    let (code, stderr) = start_failing(&[("TESSERA_SECRET_SCANNING__GITHUB_KEYS_URL", "ftp://keys")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("TESSERA_SECRET_SCANNING__GITHUB_KEYS_URL"), "{stderr}");
}

#[test]
fn bad_webhook_and_signing_settings_are_one_line_naming_the_key() {
    for (key, value) in [
        ("TESSERA_WEBHOOKS__EXPIRY_NOTICE_DAYS", "7,soon"),
        ("TESSERA_WEBHOOKS__EXPIRY_NOTICE_DAYS", "0"),
        ("TESSERA_WEBHOOKS__EXPIRY_NOTICE_DAYS", "400"),
        ("TESSERA_WEBHOOKS__INTERVAL_SECS", "0"),
        ("TESSERA_SIGNING_KEYS__ALGORITHM", "HS256"),
        ("TESSERA_SIGNING_KEYS__RSA_BITS", "1024"),
    ] {
        let (code, stderr) = start_failing(&[(key, value)]);
        assert_eq!(code, Some(2), "{key}={value}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(key) && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_unknown_database_scheme_is_a_config_error() {
    let (code, stderr) = start_failing(&[("TESSERA_DATABASE__URL", "mysql://root@localhost/t")]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unsupported scheme") && stderr.contains("TESSERA_DATABASE__URL"), "{stderr}");
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() {
    let (code, stderr) = start_failing(&[
        ("TESSERA_DATABASE__URL", "postgres://tessera:hunter2secret@127.0.0.1:1/tessera"),
        ("TESSERA_DATABASE__ACQUIRE_TIMEOUT_SECS", "2"),
        ("TESSERA_MASTERKEY", "0123456789abcdef0123456789abcdef"),
    ]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("database") && !stderr.contains("hunter2secret"), "{stderr}");
}

#[test]
fn a_port_in_use_is_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = start_failing(&[("TESSERA_SERVER__PORT", &port)]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot listen") && stderr.contains(&port), "{stderr}");
    assert!(stderr.contains("choose another port with TESSERA_SERVER__PORT"), "{stderr}");
    assert_eq!(stderr.trim().lines().filter(|l| l.starts_with("tessera:")).count(), 1, "{stderr}");
}

#[test]
fn an_unwritable_data_dir_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let data_dir = blocker.join("data");
    let mut cmd = base_command(&data_dir, &format!("sqlite://{}/t.db?mode=rwc", data_dir.display()));
    cmd.arg("start");
    let (status, _, stderr) = run(cmd);
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains(&data_dir.display().to_string()) && stderr.contains("TESSERA_DATA_DIR"), "{stderr}");
}

#[tokio::test]
async fn migrate_check_reports_pending_migrations() {
    let db = tessera_persistence::testing::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let command = |args: &[&str]| {
        let mut cmd = base_command(&dir.path().join("data"), db.url());
        cmd.args(args);
        run(cmd)
    };
    let (status, out, _) = command(&["migrate", "up", "--check"]);
    assert_eq!(status.code(), Some(1));
    assert!(out.contains("pending"), "{out}");
    let (status, _, err) = command(&["migrate"]);
    assert!(status.success(), "{err}");
    let (status, out, _) = command(&["migrate", "status"]);
    assert!(status.success() && out.contains("applied") && !out.contains("pending"), "{out}");
    let (status, _, _) = command(&["migrate", "up", "--check"]);
    assert!(status.success());
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let mut app = Spawn::new().env("TESSERA_LOG__FORMAT", "json").start().await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(app.stop().success());
    let logs = app.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.starts_with("[stdout]")).collect();
    assert!(lines.len() >= 3, "{logs}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some() && v.get("timestamp").is_some(), "{line}");
    }
}

#[test]
fn a_bad_log_format_lists_the_allowed_values() {
    let (code, stderr) = start_failing(&[("TESSERA_LOG__FORMAT", "yaml")]);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr.trim(),
        "tessera: invalid configuration log.format (TESSERA_LOG__FORMAT): expected one of: text, json"
    );
}

#[tokio::test]
async fn an_unknown_tessera_variable_is_warned_about_with_the_closest_known_one() {
    let app = Spawn::new().env("TESSERA_SERVER_PORT", "8099").start().await;
    let logs = app.logs();
    assert!(
        logs.contains(
            "unknown environment variable TESSERA_SERVER_PORT is ignored; did you mean TESSERA_SERVER__PORT?"
        ),
        "{logs}"
    );
}
