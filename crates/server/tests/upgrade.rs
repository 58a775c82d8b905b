//! Upgrades (issue #8): a database left by the previous release — the schema of
//! every migration but the newest, filled with an instance, its administrators,
//! a machine user with a PAT, a console session, signing keys and audit
//! events — is migrated
//! forward by the current binary, and nothing is lost: the PAT still
//! authenticates, the users list, the signing key still signs and is
//! published, the audit trail is kept, and the newest migration's feature
//! works. On SQLite by default, on PostgreSQL when `TESSERA_TEST_POSTGRES_URL`
//! is set.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{ORGS, PROJECTS, USERS, add_pat, create_machine, ok};
use common::{Spawn, base_command, run};
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Value, json};
use tessera_core::{Core, OsRandom};
use tessera_domain::audit::AuditEvent;
use tessera_domain::console_session::ConsoleSession;
use tessera_domain::pat::SecretDigest;
use tessera_domain::repo::{Repos, Store};
use tessera_domain::{ConsoleSessionId, SystemClock};
use tessera_oauth::keyring::KeyRing;
use tessera_oauth::sealing::Sealer;
use tessera_oauth::signing::RotationPolicy;
use tessera_persistence::testing::TestDb;
use tessera_persistence::{DatabaseOptions, SeaStore};
use tessera_server::bootstrap;
use tessera_server::settings::Settings;

const MASTERKEY: &str = "upgrade-test master key, 32+ characters long";

#[tokio::test]
async fn the_current_binary_migrates_a_previous_release_database_and_loses_nothing() {
    // Arrange: the previous release's schema, filled the way that release did.
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let store = SeaStore::connect(&DatabaseOptions::new(db.url())).await.unwrap();
    let all = store.migration_status().await.unwrap();
    let previous = u32::try_from(all.len() - 1).unwrap();
    store.migrate_up_steps(previous).await.unwrap();
    let status = store.migration_status().await.unwrap();
    assert_eq!(
        status.iter().filter(|m| !m.applied).map(|m| m.name.as_str()).collect::<Vec<_>>(),
        [all.last().unwrap().name.as_str()]
    );

    let settings = Settings { data_dir: data_dir.clone(), ..Settings::default() };
    let hasher = bootstrap::default_hasher().unwrap();
    let core = Core::new(Arc::new(store.clone()), Arc::new(SystemClock), Arc::new(OsRandom), hasher);
    bootstrap::ensure_first_instance(&core, &settings).await.unwrap();
    let sealer = Sealer::for_signing_keys(&SecretString::from(MASTERKEY)).unwrap();
    let ring = KeyRing::open(&store, &SystemClock, sealer, RotationPolicy::default()).await.unwrap();
    let kid = ring.signer().current_kid(chrono::Utc::now()).unwrap().to_owned();
    // A console session of the human admin, as a login at that release wrote it.
    let human = store.users().find_by_username_anywhere("admin").await.unwrap().remove(0);
    let now = chrono::Utc::now();
    let session = ConsoleSession {
        id: ConsoleSessionId::new(),
        user_id: human.id,
        digest: SecretDigest::from_bytes([7; 32]),
        created_at: now,
        expires_at: now + chrono::Duration::hours(8),
    };
    let tx = store.begin().await.unwrap();
    tx.console_sessions().insert(&session).await.unwrap();
    tx.audit().append(&AuditEvent::new(now, Some(human.id), "console.login", "user", human.id, None)).await.unwrap();
    tx.commit().await.unwrap();
    let events_before = store.audit().recent(1000).await.unwrap();
    assert!(events_before.len() >= 3, "bootstrap and key creation are audited");
    store.close().await;
    let admin = std::fs::read_to_string(data_dir.join("admin.pat")).unwrap().trim().to_owned();

    // `migrate --check` on the old database reports the pending migration.
    let mut cmd = base_command(&data_dir, db.url());
    cmd.args(["migrate", "up", "--check"]);
    let (status, out, _) = run(cmd);
    assert_eq!(status.code(), Some(1));
    assert!(out.contains(&format!("pending  {}", all.last().unwrap().name)), "{out}");

    // Act: the current binary starts on it.
    let app = Spawn::new()
        .env("TESSERA_DATABASE__URL", db.url())
        .env("TESSERA_DATA_DIR", data_dir.to_str().unwrap())
        .env("TESSERA_MASTERKEY", MASTERKEY)
        .start()
        .await;

    // Assert: the bootstrap PAT authenticates and everything is there.
    let users = ok(&app, &admin, USERS, "ListUsers", json!({})).await;
    let names: Vec<&str> = users["result"].as_array().unwrap().iter().filter_map(|u| u["username"].as_str()).collect();
    assert!(names.contains(&"admin-sa") && names.contains(&"admin"), "{users}");
    let sa = users["result"].as_array().unwrap().iter().find(|u| u["username"] == "admin-sa").unwrap();
    let sa_id = sa["userId"].as_str().unwrap();
    let got = ok(&app, &admin, USERS, "GetUserByID", json!({"userId": sa_id})).await;
    assert_eq!(got["user"]["username"], "admin-sa");
    let orgs = ok(&app, &admin, ORGS, "ListOrganizations", json!({})).await;
    let org = orgs["result"][0]["id"].as_str().unwrap().to_owned();

    let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    assert!(jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid.as_str()), "{jwks}");

    let store = SeaStore::connect(&DatabaseOptions::new(db.url())).await.unwrap();
    assert!(store.migration_status().await.unwrap().iter().all(|m| m.applied));
    let events_after = store.audit().recent(1000).await.unwrap();
    for event in &events_before {
        assert!(events_after.contains(event), "audit event {} kept", event.action);
    }
    let kept = store.console_sessions().get(session.id).await.unwrap().expect("console session kept");
    assert_eq!((kept.user_id, kept.digest.as_bytes()), (session.user_id, session.digest.as_bytes()));
    let keys = store.signing_keys().list().await.unwrap();
    assert!(keys.iter().any(|k| k.id.to_string() == kid));
    store.close().await;

    // New writes work, and so does the newest migration's feature.
    let user = create_machine(&app, &admin, &org, "after-upgrade").await;
    let pat = add_pat(&app, &admin, &user, None).await;
    let (status, _) = api::call(&app, &pat, USERS, "GetUserByID", json!({"userId": user})).await;
    assert!(status == 200 || status == 403, "the new PAT authenticates ({status})");
    ok(&app, &admin, PROJECTS, "CreateProject", json!({"organizationId": org, "name": "after-upgrade"})).await;
    let scope = json!({"organizationIds": [org], "presets": ["read-only"]});
    let scoped =
        ok(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": sa_id, "tesseraScope": scope})).await;
    let scoped = scoped["token"].as_str().unwrap();
    ok(&app, scoped, USERS, "GetUserByID", json!({"userId": user})).await;
}
