//! ZITADEL's official Node clients, unchanged, against Tessera's one port
//! (issue #17; docs/compatibility.md, "Transports"): `@zitadel/node`'s gRPC
//! clients (v2beta and v2, with a PAT and with the service-account
//! interceptor), and `@zitadel/client` on its three transports — gRPC, gRPC-web
//! and the Connect protocol's binary codec (over HTTP/1.1 and HTTP/2).
//! `crates/server/tests/node/grpc_clients.mjs` runs one case per process and
//! prints one JSON line.
//!
//! Needs Node and the pinned packages: `npm ci` in `crates/server/tests/node`,
//! then `TESSERA_TEST_NODE=$(command -v node) cargo test -p tessera-server
//! --test grpc_clients -- --ignored`. `#[ignore]`d for want of those tools;
//! `.ci/run` installs them and `cargo xtask ci` runs it with
//! `--include-ignored`. Without them it is skipped with a printed reason —
//! unless `CI=true`, where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use api::{USERS, create_machine, default_org, grant, ok};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use serde_json::{Value, json};

use common::NODE_DIR;

/// The node binary, or `None` (after saying why) when the tools are missing
/// and the test may be skipped.
fn node_with_clients() -> Option<String> {
    common::node_with(&["@zitadel/node", "@zitadel/client", "nice-grpc"])
}

/// What every case needs: a running server, an administrator's PAT, a machine
/// user to read, and the key file of a machine user allowed to read users.
struct World {
    app: TestApp,
    node: String,
    pat: String,
    user: String,
    key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl World {
    async fn new(node: String) -> Self {
        let app = TestApp::spawn().await;
        let admin = app.admin_pat();
        let org = default_org(&app, &admin).await;
        let user = create_machine(&app, &admin, &org, "grpc-target").await;
        // The service account reads users through its own key.
        let robot = create_machine(&app, &admin, &org, "grpc-robot").await;
        grant(&app, &admin, &robot, json!({"organizationId": org}), &["ORG_USER_MANAGER"]).await;
        let key = ok(&app, &admin, USERS, "AddKey", json!({"userId": robot})).await;
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key.json");
        std::fs::write(&key_file, STANDARD.decode(key["keyContent"].as_str().unwrap()).unwrap()).unwrap();
        Self { app, node, pat: admin, user, key_file, _dir: dir }
    }

    /// Runs one case; its JSON line, and whether it exited 0.
    async fn run(&self, case: &str) -> (bool, Value) {
        // The issuer the clients are configured with is the server's own
        // (`localhost`), so the service account's assertion audience matches.
        let issuer = format!("http://localhost:{}", self.app.address.rsplit(':').next().unwrap());
        let out = tokio::process::Command::new(&self.node)
            .arg(Path::new(NODE_DIR).join("grpc_clients.mjs"))
            .current_dir(NODE_DIR)
            .env("TESSERA_ISSUER", &issuer)
            .env("TESSERA_PAT", &self.pat)
            .env("TESSERA_KEY_FILE", &self.key_file)
            .env("TESSERA_USER_ID", &self.user)
            .env("TESSERA_CASE", case)
            .stdin(Stdio::null())
            .output()
            .await
            .expect("run node");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().last().unwrap_or_default();
        let value = serde_json::from_str(line).unwrap_or_else(|_| {
            panic!("{case}: no JSON line\nstdout: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
        });
        (out.status.success(), value)
    }
}

/// The answer every client must have read, whatever its transport.
fn assert_read_the_user(case: &str, world: &World, (ok, out): &(bool, Value)) {
    assert!(ok, "{case}: {out}");
    assert_eq!(out["getUserByID"]["userId"], world.user.as_str(), "{case}: {out}");
    assert_eq!(out["getUserByID"]["username"], "grpc-target", "{case}: {out}");
    assert_eq!(out["getUserByID"]["state"], "USER_STATE_ACTIVE", "{case}: {out}");
    assert_eq!(out["getUserByID"]["type"], "machine", "{case}: {out}");
    assert!(out["listUsers"]["count"].as_u64().unwrap() >= 3, "{case}: {out}");
}

#[tokio::test]
#[ignore = "needs Node and `npm ci` in crates/server/tests/node; set TESSERA_TEST_NODE and run with --ignored"]
async fn zitadel_node_clients_work_on_every_transport() {
    let Some(node) = node_with_clients() else { return };
    let world = World::new(node).await;

    for case in ["node-v2-pat", "client-grpc", "client-grpc-web", "client-connect-binary", "client-connect-binary-h2"] {
        let out = world.run(case).await;
        assert_read_the_user(case, &world, &out);
        assert_eq!(out.1["addPersonalAccessToken"], json!({"tokenIdPresent": true, "tokenPresent": true}), "{case}");
    }
    // zitadel.user.v2beta, which @zitadel/node's createUserClient calls.
    for case in ["node-v2beta-pat", "node-service-account"] {
        let out = world.run(case).await;
        assert_read_the_user(case, &world, &out);
    }
    // A method Tessera does not have is `unimplemented` over gRPC too.
    let (ok, out) = world.run("unknown-method").await;
    assert!(ok, "{out}");
    assert_eq!(out["error"]["code"], 12, "{out}");

    // Five PATs were added, one per client-* and node-v2 case: the calls did
    // what they said, on the one database.
    let pats = api::ok(
        &world.app,
        &world.pat,
        USERS,
        "ListPersonalAccessTokens",
        json!({"filters": [{"userIdFilter": {"id": world.user}}]}),
    )
    .await;
    assert_eq!(pats["result"].as_array().map(Vec::len), Some(5), "{pats}");
}
