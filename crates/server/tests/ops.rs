//! The operator commands run as real processes against a real server's
//! database: `tessera backup` while the server runs (and a second server on the
//! copy), `tessera keys list|rotate` with a running server picking the new key
//! up, and `tessera masterkey rotate` followed by a restart with the new key.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use api::{USERS, add_pat, create_machine, default_org, ok};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Spawn, TestApp, base_command, run};
use serde_json::{Value, json};

/// `tessera <args>` on `app`'s configuration (data dir and database);
/// returns (exit code, stdout, stderr).
fn tessera(app: &TestApp, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = base_command(&app.data_dir, app.db.url());
    cmd.env("TESSERA_LOG__LEVEL", "warn").envs(env.iter().copied()).args(args);
    let (status, out, err) = run(cmd);
    (status.code().unwrap_or(-1), out, err)
}

/// Asserts a failure with exit code 1 and one error line on standard error,
/// the last, that contains `needle`.
fn fails_with(result: (i32, String, String), needle: &str) {
    let (code, out, err) = result;
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("tessera: ")).count(), 1, "one error line: {err}");
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("tessera: ") && last.contains(needle), "{err}");
}

fn succeeds(result: (i32, String, String)) -> String {
    let (code, out, err) = result;
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    out
}

fn masterkey_of(app: &TestApp) -> String {
    std::fs::read_to_string(app.data_dir.join("masterkey")).unwrap().trim().to_owned()
}

async fn user_works(app: &TestApp, pat: &str, user: &str, username: &str) -> bool {
    let (status, body) = api::call(app, pat, USERS, "GetUserByID", json!({"userId": user})).await;
    status == 200 && body["user"]["username"] == username
}

#[tokio::test]
async fn a_backup_taken_while_serving_starts_a_second_server_with_the_same_data() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "backed-up").await;
    let pat = add_pat(&app, &admin, &user, None).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tessera-backup.db");
    let file_arg = file.to_str().unwrap();

    if app.db.is_postgres() {
        fails_with(tessera(&app, &[], &["backup", file_arg]), "pg_dump --format=custom");
        assert!(!file.exists());
        return;
    }

    // Act: the backup runs beside the serving process, which keeps writing.
    let mut cmd = base_command(&app.data_dir, app.db.url());
    cmd.arg("backup").arg(&file);
    let backup = tokio::task::spawn_blocking(move || {
        let (status, out, err) = run(cmd);
        succeeds((status.code().unwrap_or(-1), out, err))
    });
    for i in 0..5 {
        create_machine(&app, &admin, &org, &format!("written-meanwhile-{i}")).await;
    }
    let out = backup.await.unwrap();

    // Assert: a private file, the master key hint, no staging leftovers.
    assert!(out.contains("master key is not in the backup"), "{out}");
    assert!(!out.contains(&masterkey_of(&app)), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("tessera-backup.db")]);

    // A second server on the copy, with the same master key, has the data.
    let copy = Spawn::new()
        .env("TESSERA_DATABASE__URL", &format!("sqlite://{}", file.display()))
        .env("TESSERA_MASTERKEY", &masterkey_of(&app))
        .start()
        .await;
    assert!(user_works(&copy, &pat, &user, "backed-up").await, "the PAT works on the restored copy");
    assert!(!copy.data_dir.join("admin.pat").exists(), "no second bootstrap on the copy");
    assert_eq!(jwks_kids(&copy).await, jwks_kids(&app).await, "the same signing keys");

    // Refusals: an existing file is never overwritten; bad targets say why.
    let before = std::fs::read(&file).unwrap();
    fails_with(tessera(&app, &[], &["backup", file_arg]), "already exists");
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let missing_dir = dir.path().join("no-such-dir").join("b.db");
    fails_with(tessera(&app, &[], &["backup", missing_dir.to_str().unwrap()]), "cannot write the backup");
}

#[tokio::test]
async fn backup_refuses_a_data_dir_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = common::base_command(&dir.path().join("data"), "");
    cmd.env_remove("TESSERA_DATABASE__URL").arg("backup").arg(dir.path().join("b.db"));
    let (status, _, err) = run(cmd);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("no database at") && err.contains("TESSERA_DATA_DIR"), "{err}");
    assert!(!dir.path().join("b.db").exists() && !dir.path().join("data").join("tessera.db").exists());
}

/// A machine user issued JWT access tokens through client credentials.
struct JwtClient {
    username: String,
    secret: String,
}

impl JwtClient {
    async fn new(app: &TestApp, username: &str) -> Self {
        let admin = app.admin_pat();
        let org = default_org(app, &admin).await;
        let body = json!({"organizationId": org, "username": username,
            "machine": {"name": username, "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}});
        let user = ok(app, &admin, USERS, "CreateUser", body).await["id"].as_str().unwrap().to_owned();
        let secret = ok(app, &admin, USERS, "AddSecret", json!({"userId": user})).await["clientSecret"]
            .as_str()
            .unwrap()
            .to_owned();
        Self { username: username.to_owned(), secret }
    }

    /// A fresh JWT access token from `app`.
    async fn token(&self, app: &TestApp) -> String {
        let res = app
            .client
            .post(app.url("/oauth/v2/token"))
            .basic_auth(&self.username, Some(&self.secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }
}

fn kid_of(jwt: &str) -> String {
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// Whether `token` verifies at `app` (userinfo checks signature, issuer, expiry).
async fn verifies(app: &TestApp, token: &str) -> bool {
    let res = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(token).send().await.unwrap();
    res.status().as_u16() == 200
}

/// Polls `check` for up to 20 seconds (the test server refreshes its keys every second).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(20), "not within 20 s: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `keys list` row of `kid`.
fn row<'a>(list: &'a str, kid: &str) -> &'a str {
    list.lines().find(|l| l.starts_with(kid)).unwrap_or_else(|| panic!("{kid} not in\n{list}"))
}

#[tokio::test]
async fn keys_rotate_makes_a_new_signer_while_the_old_key_keeps_verifying() {
    let app = Spawn::new().env("TESSERA_SIGNING_KEYS__REFRESH_INTERVAL_SECS", "1").start().await;
    let client = JwtClient::new(&app, "jwt-rotated").await;
    let old_token = client.token(&app).await;
    let old_kid = kid_of(&old_token);
    let list = succeeds(tessera(&app, &[], &["keys", "list"]));
    assert!(list.starts_with("KID ") && row(&list, &old_kid).contains(" signing "), "{list}");

    // Act.
    let out = succeeds(tessera(&app, &[("TESSERA_SIGNING_KEYS__REFRESH_INTERVAL_SECS", "1")], &["keys", "rotate"]));

    // Assert: a new kid, published beside the old one, signs new tokens.
    let new_kid = out.split_whitespace().nth(3).unwrap().to_owned();
    assert!(out.starts_with("created signing key ") && new_kid != old_kid, "{out}");
    assert!(app.audit_actions().await.contains(&"signing_key.rotated".to_owned()));
    assert!(out.contains("signs from now") && out.contains("refresh_interval_secs (1 s)"), "{out}");
    eventually("the JWKS publishes both keys", || async {
        let kids = jwks_kids(&app).await;
        kids.contains(&old_kid) && kids.contains(&new_kid)
    })
    .await;
    eventually("new tokens carry the new kid", || async { kid_of(&client.token(&app).await) == new_kid }).await;
    assert!(verifies(&app, &old_token).await, "a token signed by the old key still verifies");
    assert!(verifies(&app, &client.token(&app).await).await);
    let list = succeeds(tessera(&app, &[], &["keys", "list"]));
    assert!(row(&list, &new_kid).contains(" signing "), "{list}");
    assert!(row(&list, &old_kid).contains(" superseded "), "{list}");
    assert!(!list.contains("PRIVATE") && !list.contains(&masterkey_of(&app)), "{list}");

    // A later start: planned, not signing yet.
    let out = succeeds(tessera(&app, &[], &["keys", "rotate", "--sign-from", "2d"]));
    let later = out.split_whitespace().nth(3).unwrap().to_owned();
    assert!(row(&succeeds(tessera(&app, &[], &["keys", "list"])), &later).contains(" next "));
    fails_with(tessera(&app, &[], &["keys", "rotate", "--sign-from", "2000-01-01"]), "must not be in the past");
    // A wrong master key writes nothing.
    let wrong = "a wrong master key of more than thirty-two characters";
    fails_with(tessera(&app, &[("TESSERA_MASTERKEY", wrong)], &["keys", "rotate"]), "master key does not match");
    assert_eq!(succeeds(tessera(&app, &[], &["keys", "list"])).lines().count(), 4);
}

/// `tessera keys create|activate|delete`: the WebKeyService's operations
/// (docs/operator/key-rotation.md) from the command line, on a running server
/// that refreshes its keys every second.
#[tokio::test]
async fn keys_create_activate_and_delete_work_like_the_web_key_service() {
    let app = Spawn::new().env("TESSERA_SIGNING_KEYS__REFRESH_INTERVAL_SECS", "1").start().await;
    let client = JwtClient::new(&app, "jwt-web-keys").await;
    let old_token = client.token(&app).await;
    let old_kid = kid_of(&old_token);

    // Created: published, not signing.
    let out = succeeds(tessera(&app, &[], &["keys", "create", "--algorithm", "EdDSA"]));
    assert!(out.starts_with("created signing key ") && out.contains("(EdDSA)"), "{out}");
    let new_kid = out.split_whitespace().nth(3).unwrap().to_owned();
    let list = succeeds(tessera(&app, &[], &["keys", "list"]));
    assert!(row(&list, &new_kid).contains(" created ") && row(&list, &new_kid).contains("EdDSA"), "{list}");
    eventually("the JWKS publishes the created key", || async { jwks_kids(&app).await.contains(&new_kid) }).await;
    assert_eq!(kid_of(&client.token(&app).await), old_kid, "a created key does not sign");

    // The active key cannot be deleted; unknown ids are told apart.
    fails_with(tessera(&app, &[], &["keys", "delete", &old_kid]), "the active key cannot be deleted");
    fails_with(tessera(&app, &[], &["keys", "activate", "not-a-kid"]), "no such key");
    let unknown = uuid::Uuid::now_v7().to_string();
    assert!(succeeds(tessera(&app, &[], &["keys", "delete", &unknown])).contains("nothing to delete"));
    let (code, _, err) = tessera(&app, &[], &["keys", "create", "--algorithm", "HS256"]);
    assert_eq!(code, 2, "a bad algorithm is a usage error: {err}");

    // Activated: signs new tokens; the old key's token still verifies.
    let out = succeeds(tessera(&app, &[], &["keys", "activate", &new_kid]));
    assert!(out.contains("signs from now on") && out.contains("refresh_interval_secs ("), "{out}");
    eventually("new tokens carry the activated kid", || async { kid_of(&client.token(&app).await) == new_kid }).await;
    assert!(verifies(&app, &old_token).await, "a token of the previous key still verifies");
    let list = succeeds(tessera(&app, &[], &["keys", "list"]));
    assert!(row(&list, &new_kid).contains(" signing ") && row(&list, &old_kid).contains(" superseded "), "{list}");

    // Deleting the previous key withdraws it: its tokens stop verifying.
    assert!(succeeds(tessera(&app, &[], &["keys", "delete", &old_kid])).contains("deleted signing key"));
    eventually("the deleted key leaves the JWKS", || async { !jwks_kids(&app).await.contains(&old_kid) }).await;
    eventually("its token is refused", || async { !verifies(&app, &old_token).await }).await;

    // `keys rotate --algorithm` picks the new key's kind.
    let out = succeeds(tessera(&app, &[], &["keys", "rotate", "--algorithm", "ES256"]));
    let es_kid = out.split_whitespace().nth(3).unwrap().to_owned();
    assert!(row(&succeeds(tessera(&app, &[], &["keys", "list"])), &es_kid).contains("ES256"), "{out}");

    let actions = app.audit_actions().await;
    for action in ["signing_key.created", "signing_key.activated", "signing_key.deleted", "signing_key.rotated"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

fn write_key(dir: &Path, name: &str, key: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{key}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn masterkey_rotate_reseals_the_keys_and_the_old_key_is_refused_afterwards() {
    // One issuer across the restart (by default it names the port).
    const ISSUER: &str = "http://tessera.test";
    let mut app = Spawn::new().env("TESSERA_EXTERNAL_URL", ISSUER).start().await;
    let client = JwtClient::new(&app, "jwt-resealed").await;
    let token = client.token(&app).await;
    let kids = jwks_kids(&app).await;
    assert!(app.stop().success());
    let old_key = masterkey_of(&app);
    let new_key = "0123456789abcdef".repeat(4);
    let dir = tempfile::tempdir().unwrap();

    // Refusals, each writing nothing.
    let short = write_key(dir.path(), "short", "too-short");
    fails_with(tessera(&app, &[], &["masterkey", "rotate", "--new-key-file", &short]), "fewer than 32 characters");
    let missing = dir.path().join("missing");
    fails_with(
        tessera(&app, &[], &["masterkey", "rotate", "--new-key-file", missing.to_str().unwrap()]),
        "does not exist",
    );
    let same = write_key(dir.path(), "same", &old_key);
    fails_with(tessera(&app, &[], &["masterkey", "rotate", "--new-key-file", &same]), "nothing to do");
    let new_file = write_key(dir.path(), "new", &new_key);
    let wrong = [("TESSERA_MASTERKEY", "a wrong master key of more than thirty-two characters")];
    fails_with(tessera(&app, &wrong, &["masterkey", "rotate", "--new-key-file", &new_file]), "does not match");

    // Act.
    let out = succeeds(tessera(&app, &[], &["masterkey", "rotate", "--new-key-file", &new_file]));
    assert!(out.contains("re-sealed 1 signing key(s)") && out.contains("start it again"), "{out}");
    assert!(!out.contains(&new_key) && !out.contains(&old_key), "no key material: {out}");
    let actions = app.audit_actions().await;
    assert_eq!(actions[0], "masterkey.rotated");
    assert_eq!(actions.iter().filter(|a| *a == "masterkey.rotated").count(), 1, "refusals wrote nothing");

    // The old key no longer opens the signing keys: start refuses with one line.
    let mut cmd = base_command(&app.data_dir, app.db.url());
    cmd.arg("start");
    let (status, _, err) = run(cmd);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("the master key does not match") && !err.contains(&old_key), "{err}");

    // With the new key in place, the same keys sign and verify.
    std::fs::write(app.data_dir.join("masterkey"), format!("{new_key}\n")).unwrap();
    let restarted = Spawn::reusing(&app).env("TESSERA_EXTERNAL_URL", ISSUER).start().await;
    assert_eq!(jwks_kids(&restarted).await, kids);
    assert!(verifies(&restarted, &token).await, "a token signed before the rotation still verifies");
    let fresh = client.token(&restarted).await;
    assert_eq!(kid_of(&fresh), kid_of(&token));
    assert!(verifies(&restarted, &fresh).await);
    assert!(!restarted.logs().contains(&new_key));
}
