//! The client commands of `tessera` (`users …`, `pats …`) run as a real process
//! against a real server: output contract, token sources, exit codes, and that no
//! token is ever echoed in an error.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;
#[path = "common/receiver.rs"]
mod receiver;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{BIN, TestApp};
use serde_json::Value;

/// A finished CLI run.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `tessera <args>` with a clean environment plus `env`, aimed at `app`.
fn tessera(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA_EXTERNAL_URL", &app.address)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null());
    let out = cmd.output().expect("run tessera");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `tessera <args>` authenticated with `token` through `TESSERA_TOKEN`.
fn as_token(app: &TestApp, token: &str, args: &[&str]) -> Run {
    tessera(app, &[("TESSERA_TOKEN", token)], args)
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    run
}

fn json(run: Run) -> Value {
    serde_json::from_str(&ok(run).stdout).expect("JSON on stdout")
}

/// The bootstrap organization, read through the CLI.
fn own_org(app: &TestApp, admin: &str) -> String {
    let users = json(as_token(app, admin, &["users", "list", "--json"]));
    users["result"][0]["details"]["resourceOwner"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_creates_a_machine_user_issues_lists_uses_and_removes_its_pat() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app, &admin);

    // create-machine: a table by default, the id alone with --quiet.
    let table = ok(as_token(
        &app,
        &admin,
        &["users", "create-machine", "--org", &org, "--username", "ci-bot", "--access-token-type", "jwt"],
    ))
    .stdout;
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("ID "), "{table}");
    let row = lines.next().unwrap();
    assert!(row.contains("ci-bot") && row.contains(&org) && row.contains("jwt"), "{table}");
    let bot = row.split_whitespace().next().unwrap().to_owned();
    let quiet =
        ok(as_token(&app, &admin, &["users", "create-machine", "--org", &org, "--username", "other", "-q"])).stdout;
    assert_eq!(quiet.trim().len(), 36, "only the id: {quiet:?}");

    // users list shows both, with type and state.
    let listed = ok(as_token(&app, &admin, &["users", "list"])).stdout;
    let bot_row = listed.lines().find(|l| l.starts_with(&bot)).expect("ci-bot listed");
    assert!(bot_row.contains("machine") && bot_row.contains("active"), "{listed}");
    assert!(listed.contains("admin-sa") && listed.contains("other"), "{listed}");
    let got = json(as_token(&app, &admin, &["users", "list", "--org", &org, "--json"]));
    let bot_json = got["result"].as_array().unwrap().iter().find(|u| u["userId"] == bot.as_str()).unwrap();
    assert_eq!(bot_json["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT");

    // pats add --quiet: the token alone on stdout, nothing on stderr.
    let added = ok(as_token(&app, &admin, &["pats", "add", "--user", &bot, "--expires", "30d", "--quiet"]));
    assert!(added.stderr.is_empty(), "{}", added.stderr);
    assert_eq!(added.stdout.lines().count(), 1);
    let token = added.stdout.trim().to_owned();
    assert!(token.starts_with("tsr_pat_"));

    // Without --quiet the notice goes to stderr and never carries the token.
    let second = ok(as_token(&app, &admin, &["pats", "add", "--user", &bot, "--expires", "2099-01-01"]));
    assert!(second.stdout.trim().starts_with("tsr_pat_") && second.stdout.lines().count() == 1);
    assert!(second.stderr.contains("shown once") && second.stderr.contains("2099-01-01"), "{}", second.stderr);
    assert!(!second.stderr.contains(second.stdout.trim()));

    // The new token works (a user may always read itself).
    let me = json(as_token(&app, &token, &["users", "list", "--json"]));
    assert_eq!(me["result"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["result"][0]["userId"], bot.as_str());

    // pats list: ids, usernames and dates, never a secret; --user takes a
    // username as well as an id.
    let pats = ok(as_token(&app, &admin, &["pats", "list", "--user", &bot])).stdout;
    assert_eq!(pats.lines().count(), 3, "{pats}");
    assert!(!pats.contains("tsr_pat_"), "{pats}");
    assert!(pats.lines().skip(1).all(|l| l.contains(" ci-bot ")), "usernames, not ids: {pats}");
    assert_eq!(ok(as_token(&app, &admin, &["pats", "list", "--user", "ci-bot"])).stdout, pats);
    let pats_json = json(as_token(&app, &admin, &["pats", "list", "--user", &bot, "--json"]));
    let token_id = pats_json["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["expirationDate"].as_str().unwrap() < "2099")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(pats.contains(&token_id));

    // pats remove: the token stops working at once.
    let removed = ok(as_token(&app, &admin, &["pats", "remove", "--user", &bot, "--token", &token_id]));
    assert_eq!(removed.stdout, format!("personal access token {token_id} no longer exists\n"));
    let refused = as_token(&app, &token, &["users", "list"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stdout.is_empty());
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    assert!(refused.stderr.starts_with("tessera: unauthenticated: "), "{}", refused.stderr);
    assert!(!refused.stderr.contains(&token));
}

#[tokio::test]
async fn pats_add_makes_fine_grained_tokens_and_pats_list_shows_their_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app, &admin);
    let read_only = ok(as_token(
        &app,
        &admin,
        &["pats", "add", "--user", "admin-sa", "--org", &org, "--preset", "read-only", "-q"],
    ))
    .stdout
    .trim()
    .to_owned();
    assert!(read_only.starts_with("tsr_pat_"));
    ok(as_token(&app, &read_only, &["users", "list"]));
    let refused = as_token(&app, &read_only, &["users", "create-machine", "--org", &org, "--username", "nope"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.starts_with("tessera: permission_denied: "), "{}", refused.stderr);

    let listed = ok(as_token(&app, &admin, &["pats", "list", "--user", "admin-sa"])).stdout;
    assert!(listed.lines().next().unwrap().ends_with("SCOPE"), "{listed}");
    assert!(listed.lines().any(|l| l.ends_with(" all")), "the bootstrap token: {listed}");
    assert!(listed.lines().any(|l| l.contains("1 org, 0 projects; ") && l.ends_with(" permissions")), "{listed}");

    // A permission that is not one is refused before anything is created.
    let bad = as_token(&app, &admin, &["pats", "add", "--user", "admin-sa", "--permission", "user.reed"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.starts_with("tessera: invalid_argument: ") && bad.stderr.contains("unknown permission"));
}

#[tokio::test]
async fn server_errors_are_one_line_with_the_connect_code_and_exit_1() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app, &admin);
    let bot = ok(as_token(&app, &admin, &["users", "create-machine", "--org", &org, "--username", "bot", "-q"]))
        .stdout
        .trim()
        .to_owned();
    let bot_pat = ok(as_token(&app, &admin, &["pats", "add", "--user", &bot, "-q"])).stdout.trim().to_owned();

    for (token, args, code) in [
        // No administrator role.
        (&bot_pat, vec!["users", "create-machine", "--org", &org, "--username", "x"], "permission_denied"),
        // Taken username.
        (&admin, vec!["users", "create-machine", "--org", &org, "--username", "bot"], "already_exists"),
        // An expiration in the past.
        (&admin, vec!["pats", "add", "--user", &bot, "--expires", "2001-01-01"], "invalid_argument"),
        // Neither an id nor a username.
        (&admin, vec!["pats", "remove", "--user", "nope", "--token", "nope"], "not_found"),
        // A malformed token.
        (&"tsr_pat_not-a-real-token".to_owned(), vec!["pats", "list"], "unauthenticated"),
    ] {
        let run = as_token(&app, token, &args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with(&format!("tessera: {code}: ")), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains(token.as_str()), "the token leaked: {}", run.stderr);
    }
    // An organization by name works; an unknown name says how to find the id.
    let by_name = ok(as_token(&app, &admin, &["users", "list", "--org", "Tessera", "--json"]));
    assert!(by_name.stdout.contains("admin-sa"), "{}", by_name.stdout);
    let run = as_token(&app, &admin, &["users", "create-machine", "--org", "Acme", "--username", "x"]);
    assert_eq!(
        run.stderr,
        "tessera: not_found: no organization is named \"Acme\"; `tessera users list` shows the organization id of every user\n"
    );
    // An unknown username says how to find the id.
    let run = as_token(&app, &admin, &["pats", "add", "--user", "ci-deployer"]);
    assert_eq!(
        run.stderr,
        "tessera: not_found: no user is named ci-deployer; run `tessera users list` to find the id\n"
    );
}

#[tokio::test]
async fn the_token_comes_from_token_file_before_tessera_token() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pat");
    std::fs::write(&file, format!("{}\n", app.admin_pat())).unwrap();
    let file = file.to_str().unwrap();

    // A bad TESSERA_TOKEN is ignored when --token-file is given.
    let run = tessera(&app, &[("TESSERA_TOKEN", "tsr_pat_bogus")], &["users", "list", "--token-file", file]);
    assert!(ok(run).stdout.contains("admin-sa"));
    // --url overrides TESSERA_EXTERNAL_URL; global options go anywhere.
    let run = tessera(
        &app,
        &[("TESSERA_EXTERNAL_URL", "http://127.0.0.1:9")],
        &["users", "--url", &app.address, "--token-file", file, "list", "--json"],
    );
    assert!(json(run)["result"].is_array());
}

#[tokio::test]
async fn client_commands_read_no_server_configuration() {
    let app = TestApp::spawn().await;
    // A value that would stop `tessera start` must not bother a client command.
    let run = tessera(
        &app,
        &[
            ("TESSERA_TOKEN", &app.admin_pat()),
            ("TESSERA_SERVER__PORT", "not-a-port"),
            ("TESSERA_CONFIG", "/nonexistent"),
        ],
        &["users", "list"],
    );
    assert!(ok(run).stdout.contains("admin-sa"));
}

#[tokio::test]
async fn usage_errors_exit_2_without_calling_the_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let missing = Path::new("/nonexistent/pat").to_str().unwrap();
    for (env, args) in [
        // No token at all.
        (vec![], vec!["users", "list"]),
        // An unreadable token file.
        (vec![], vec!["users", "list", "--token-file", missing]),
        // An empty token.
        (vec![("TESSERA_TOKEN", "  ")], vec!["users", "list"]),
        // A missing required option.
        (vec![("TESSERA_TOKEN", admin.as_str())], vec!["pats", "add"]),
        // An expiration that is not one.
        (vec![("TESSERA_TOKEN", admin.as_str())], vec!["pats", "add", "--user", "u", "--expires", "soon"]),
        // An unknown token type.
        (
            vec![("TESSERA_TOKEN", admin.as_str())],
            vec!["users", "create-machine", "--org", "o", "--username", "u", "--access-token-type", "opaque"],
        ),
        // The token itself where its id belongs.
        (vec![("TESSERA_TOKEN", admin.as_str())], vec!["pats", "remove", "--user", "u", "--token", admin.as_str()]),
        // Not a URL.
        (vec![("TESSERA_TOKEN", admin.as_str())], vec!["users", "list", "--url", "localhost:8080"]),
    ] {
        let run = tessera(&app, &env, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(!run.stderr.contains(&admin), "the token leaked: {}", run.stderr);
    }
    assert!(!app.logs().contains("UserService"), "usage errors must not reach the server");
}

#[tokio::test]
async fn an_unreachable_server_is_one_line_and_exit_1() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let run = as_token(&app, &admin, &["users", "list", "--url", "http://127.0.0.1:9"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("tessera: cannot reach http://127.0.0.1:9"), "{}", run.stderr);
    assert!(!run.stderr.contains(&admin));
}

/// `tessera federation add|list|update|remove` (docs/federation.md): a
/// GitHub Actions credential with conditions, and a cluster's with its key
/// set from a file.
#[tokio::test]
async fn federated_credentials_are_managed_from_the_command_line() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app, &admin);
    ok(as_token(&app, &admin, &["users", "create-machine", "--org", &org, "--username", "deployer"]));

    let github = [
        "federation",
        "add",
        "--user",
        "deployer",
        "--name",
        "deploy",
        "--issuer",
        "https://token.actions.githubusercontent.com",
        "--subject",
        "repo:acme/deploy:environment:production",
        "--condition",
        "repository_owner=acme",
        "--condition",
        "ref=refs/heads/*",
    ];
    let added = ok(as_token(&app, &admin, &github)).stdout;
    assert!(added.contains("tokens of https://token.actions.githubusercontent.com"), "{added}");
    let jwks = app.data_dir.join("cluster-jwks.json");
    std::fs::write(
        &jwks,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    let cluster = [
        "federation",
        "add",
        "--user",
        "deployer",
        "--name",
        "cluster",
        "--issuer",
        "https://kubernetes.default.svc",
        "--subject",
        "system:serviceaccount:ci:deployer",
        "--audience",
        "tessera",
        "--jwks-file",
        jwks.to_str().unwrap(),
        "-q",
    ];
    let id = ok(as_token(&app, &admin, &cluster)).stdout.trim().to_owned();
    assert_eq!(id.len(), 36, "only the id: {id:?}");

    let listed = ok(as_token(&app, &admin, &["federation", "list", "--user", "deployer"])).stdout;
    assert!(listed.starts_with("ID "), "{listed}");
    assert!(listed.contains("repository_owner=acme ref=refs/heads/*") && listed.contains("discovery"), "{listed}");
    let row = listed.lines().find(|l| l.starts_with(&id)).expect("the cluster's row");
    assert!(row.contains("inline") && row.contains("system:serviceaccount:ci:deployer"), "{listed}");

    let update = ["federation", "update", "--user", "deployer", "--id", &id, "--jwks-url", "https://k8s.example/jwks"];
    ok(as_token(&app, &admin, &update));
    let got = json(as_token(&app, &admin, &["federation", "list", "--user", "deployer", "--json"]));
    let cluster_json = got["result"].as_array().unwrap().iter().find(|c| c["id"] == id.as_str()).unwrap();
    assert_eq!(cluster_json["jwksUrl"], "https://k8s.example/jwks");

    let removed = ok(as_token(&app, &admin, &["federation", "remove", "--user", "deployer", "--id", &id])).stdout;
    assert!(removed.contains("no longer exists"), "{removed}");
    let listed = ok(as_token(&app, &admin, &["federation", "list", "--user", "deployer"])).stdout;
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // A bad condition is a usage error before any call.
    let bad = as_token(
        &app,
        &admin,
        &[
            "federation",
            "add",
            "--user",
            "deployer",
            "--name",
            "x",
            "--issuer",
            "https://x",
            "--subject",
            "s",
            "--condition",
            "no-equals-sign",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// `tessera webhooks add|list|update|rotate-secret|deliveries|attempts|resend|remove`
/// (docs/pat-hygiene.md "Notifications") against a receiver on loopback. On
/// two threads: the receiver answers while a CLI run blocks this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_managed_and_their_deliveries_read_from_the_command_line() {
    let receiver = receiver::Receiver::start().await;
    let app = common::Spawn::new()
        .env("TESSERA_WEBHOOKS__ALLOW_HOSTS", "127.0.0.1")
        .env("TESSERA_WEBHOOKS__INTERVAL_SECS", "1")
        .start()
        .await;
    let admin = app.admin_pat();
    let added = ok(as_token(&app, &admin, &["webhooks", "add", "--endpoint", &receiver.url, "--event", "pat.created"]));
    let secret = added.stdout.trim().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(added.stderr.contains("shown once"), "{}", added.stderr);
    let listed = ok(as_token(&app, &admin, &["webhooks", "list"])).stdout;
    assert!(listed.starts_with("ID ") && listed.contains(&receiver.url) && listed.contains("active"), "{listed}");
    assert!(!listed.contains("whsec_"));
    let id = listed.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();

    let org = own_org(&app, &admin);
    ok(as_token(&app, &admin, &["users", "create-machine", "--org", &org, "--username", "hooked"]));
    ok(as_token(&app, &admin, &["pats", "add", "--user", "hooked", "-q"]));
    // The server's worker sends it within a pass or two.
    let mut deliveries = Value::Null;
    for _ in 0..100 {
        deliveries = json(as_token(&app, &admin, &["webhooks", "deliveries", "--id", &id, "--json"]));
        if deliveries["result"][0]["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(deliveries["result"][0]["status"], "delivered", "{deliveries}");
    let delivery = deliveries["result"][0]["id"].as_str().unwrap().to_owned();
    let table = ok(as_token(&app, &admin, &["webhooks", "deliveries", "--id", &id])).stdout;
    assert!(table.contains("pat.created") && table.contains("delivered"), "{table}");
    let attempts = ok(as_token(&app, &admin, &["webhooks", "attempts", "--delivery", &delivery])).stdout;
    assert!(attempts.starts_with("# ") && attempts.contains("204"), "{attempts}");
    let resent = ok(as_token(&app, &admin, &["webhooks", "resend", "--delivery", &delivery])).stdout;
    assert!(resent.contains("sent again"), "{resent}");

    ok(as_token(&app, &admin, &["webhooks", "update", "--id", &id, "--disable"]));
    assert!(ok(as_token(&app, &admin, &["webhooks", "list"])).stdout.contains("disabled"));
    let rotated = ok(as_token(&app, &admin, &["webhooks", "rotate-secret", "--id", &id])).stdout;
    assert!(rotated.trim().starts_with("whsec_") && rotated.trim() != secret);
    // An unknown event is the server's clear error, exit 1.
    let bad = as_token(&app, &admin, &["webhooks", "update", "--id", &id, "--event", "pat.exploded"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("unknown event"), "{}", bad.stderr);
    let removed = ok(as_token(&app, &admin, &["webhooks", "remove", "--id", &id])).stdout;
    assert!(removed.contains("no longer exists"));
    // No event named: a usage error before any call.
    assert_eq!(as_token(&app, &admin, &["webhooks", "add", "--endpoint", &receiver.url]).code, 2);
}
