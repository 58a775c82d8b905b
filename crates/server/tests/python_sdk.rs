//! The official ZITADEL Python SDK (`zitadel-client`), unchanged, drives the
//! Personal Access Token life cycle against the real binary
//! (`tests/python/pat_lifecycle.py` asserts each step), and projects, roles,
//! API applications and authorizations (`tests/python/projects_lifecycle.py`);
//! no token or secret it obtained may appear in the server's logs.
//!
//! The interpreter is `TESSERA_TEST_PYTHON` (default `python3`). When it cannot
//! import the SDK the test is skipped with a printed reason — unless `CI=true`,
//! where a missing SDK fails the test (`.ci/run` installs it into
//! `target/ci-venv`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use std::process::Stdio;

use common::TestApp;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/pat_lifecycle.py");

/// The interpreter to use, or `None` (after saying why) when the SDK is missing
/// and the test may be skipped.
async fn python_with_sdk() -> Option<String> {
    let python = std::env::var("TESSERA_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe =
        tokio::process::Command::new(&python).args(["-c", "import zitadel_client"]).stdin(Stdio::null()).output().await;
    let reason = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python}` cannot import zitadel_client ({})",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ),
        Err(e) => format!("cannot run `{python}`: {e}"),
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{reason}; with CI=true the Python SDK test must run (set TESSERA_TEST_PYTHON to an interpreter with \
         zitadel-client installed, as .ci/run does)"
    );
    eprintln!(
        "skipping the Python SDK test: {reason}; install it with `pip install zitadel-client` and/or set TESSERA_TEST_PYTHON"
    );
    None
}

/// Replaces every token in `text` by `[token]`, for failure messages.
fn redact(text: &str, tokens: &[String]) -> String {
    tokens.iter().fold(text.to_owned(), |t, token| t.replace(token.as_str(), "[token]"))
}

#[tokio::test]
async fn the_official_python_sdk_drives_the_pat_life_cycle_without_leaking_tokens() {
    let Some(python) = python_with_sdk().await else { return };
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();

    let out = tokio::process::Command::new(&python)
        .arg(SCRIPT)
        .env("TESSERA_URL", &app.address)
        .env("TESSERA_ADMIN_PAT", &admin)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the Python SDK script");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut tokens: Vec<String> =
        stdout.lines().filter_map(|l| l.strip_prefix("TOKEN ")).map(|t| t.trim().to_owned()).collect();
    tokens.push(admin.clone());

    assert!(
        out.status.success(),
        "the SDK script failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        redact(&stdout, &tokens),
        redact(&stderr, &tokens)
    );
    assert!(stdout.lines().any(|l| l == "OK"), "the script did not finish:\n{}", redact(&stdout, &tokens));
    assert_eq!(tokens.len(), 3, "two PATs issued plus the admin's");
    assert!(tokens.iter().all(|t| t.starts_with("tsr_pat_")));

    let logs = app.logs();
    // The scan only means something if the calls were logged.
    for method in ["CreateUser", "AddPersonalAccessToken", "ListPersonalAccessTokens", "DeleteUser"] {
        assert!(logs.contains(&format!("/zitadel.user.v2.UserService/{method}")), "no access line for {method}");
    }
    for (i, token) in tokens.iter().enumerate() {
        assert!(!logs.contains(token.as_str()), "token #{i} appears in the server logs");
    }
}

const PROJECTS_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/projects_lifecycle.py");

#[tokio::test]
async fn the_official_python_sdk_drives_projects_applications_and_authorizations() {
    let Some(python) = python_with_sdk().await else { return };
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();

    let out = tokio::process::Command::new(&python)
        .arg(PROJECTS_SCRIPT)
        .env("TESSERA_URL", &app.address)
        .env("TESSERA_ADMIN_PAT", &admin)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the Python SDK script");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut secrets: Vec<String> =
        stdout.lines().filter_map(|l| l.strip_prefix("TOKEN ")).map(|t| t.trim().to_owned()).collect();
    secrets.push(admin.clone());

    assert!(
        out.status.success(),
        "the SDK script failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        redact(&stdout, &secrets),
        redact(&stderr, &secrets)
    );
    assert!(stdout.lines().any(|l| l == "OK"), "the script did not finish:\n{}", redact(&stdout, &secrets));
    assert_eq!(secrets.len(), 4, "two client secrets, a line of a private key, and the admin's PAT");

    let logs = app.logs();
    for path in [
        "/zitadel.project.v2.ProjectService/CreateProject",
        "/zitadel.application.v2.ApplicationService/CreateApplicationKey",
        "/zitadel.authorization.v2.AuthorizationService/CreateAuthorization",
    ] {
        assert!(logs.contains(path), "no access line for {path}");
    }
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!logs.contains(secret.as_str()), "secret #{i} appears in the server logs");
    }
}
