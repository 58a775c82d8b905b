//! `openid-client` (panva, the most used OpenID client for Node), unchanged,
//! does the JWT Profile grant from a ZITADEL key file and accepts the ID token
//! (issue #17): its client id is the key file's `userId`, so the ID token's
//! `aud` must contain it and `azp` must be it (OIDC Core §2, §3.1.3.7).
//!
//! Needs Node and the pinned package: `npm ci` in `crates/server/tests/node`,
//! then `TESSERA_TEST_NODE=$(command -v node) cargo test -p tessera-server
//! --test openid_client -- --ignored`. `#[ignore]`d for want of those tools;
//! `.ci/run` installs them and `cargo xtask ci` runs it with
//! `--include-ignored`. Without them it is skipped with a printed reason —
//! unless `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use std::path::Path;
use std::process::Stdio;

use api::{USERS, default_org, ok};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use serde_json::{Value, json};

use common::NODE_DIR;

/// The node binary, or `None` (after saying why) when the tools are missing
/// and the test may be skipped.
fn node_with_openid_client() -> Option<String> {
    common::node_with(&["openid-client"])
}

#[tokio::test]
#[ignore = "needs Node and `npm ci` in crates/server/tests/node; set TESSERA_TEST_NODE and run with --ignored"]
async fn openid_client_accepts_the_id_token_of_a_jwt_profile_grant() {
    let Some(node) = node_with_openid_client() else { return };
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = ok(
        &app,
        &admin,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": "node-robot", "machine": {"name": "node-robot"}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = ok(&app, &admin, USERS, "AddKey", json!({"userId": user})).await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, STANDARD.decode(key["keyContent"].as_str().unwrap()).unwrap()).unwrap();
    let issuer = format!("http://localhost:{}", app.address.rsplit(':').next().unwrap());

    let out = tokio::process::Command::new(&node)
        .arg(Path::new(NODE_DIR).join("jwt_bearer.mjs"))
        .current_dir(NODE_DIR)
        .env("TESSERA_ISSUER", &issuer)
        .env("TESSERA_KEY_FILE", &key_file)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "openid-client refused: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let claims: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(claims["sub"], user.as_str());
    assert_eq!(claims["azp"], user.as_str());
    assert_eq!(claims["aud"][0], user.as_str(), "{claims}");
}
