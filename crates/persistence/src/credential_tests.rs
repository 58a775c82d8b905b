//! Repository tests of the JWT Profile and client credentials tables (migration
//! `m0002_jwt_profile`) and of console sessions (`m0003_console_sessions`). Each runs on a fresh database: SQLite by default,
//! PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set (CI runs both).

use chrono::Duration;
use tessera_domain::access_token::{AccessToken, RevokedJwt, UsedJti};
use tessera_domain::audit::AuditEvent;
use tessera_domain::console_session::ConsoleSession;
use tessera_domain::machine_key::{MachineKey, PublicKeyType};
use tessera_domain::machine_secret::MachineSecret;
use tessera_domain::names::{Description, DisplayName, OrgName, Username};
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::pat::SecretDigest;
use tessera_domain::permission::OrgFilter;
use tessera_domain::repo::{KeyFilter, KeyQuery, KeySort, Page, RepoError, Repos, Store, TimeFilter, Visibility};
use tessera_domain::signing_key::{
    KeySchedule, PublicJwk, RsaPublicComponents, SealedPrivateKey, SigningAlgorithm, SigningKey,
};
use tessera_domain::user::{AccessTokenType, Machine, User, UserState};
use tessera_domain::{
    AccessTokenId, Clock, ConsoleSessionId, KeyId, OrgId, SecretId, SigningKeyId, SystemClock, Timestamp, UserId,
};

use crate::SeaStore;
use crate::testing::TestDb;

fn org(name: &str) -> Organization {
    Organization::new(OrgName::parse(name).unwrap(), SystemClock.now())
}

fn machine(org: OrgId, username: &str) -> User {
    User::new_machine(
        org,
        Username::parse(username).unwrap(),
        Machine {
            name: DisplayName::parse("name", username).unwrap(),
            description: Description::parse("a robot").unwrap(),
            access_token_type: AccessTokenType::Jwt,
        },
        SystemClock.now(),
    )
}

fn audit(what: &str) -> AuditEvent {
    AuditEvent::new(SystemClock.now(), None, what, "test", "x", None)
}

/// Commits `org` and `users` in one audited transaction.
async fn seed(store: &SeaStore, org: &Organization, users: &[&User]) {
    let tx = store.begin().await.unwrap();
    tx.orgs().insert(org).await.unwrap();
    for u in users {
        tx.users().insert(u).await.unwrap();
    }
    tx.audit().append(&audit("seed")).await.unwrap();
    tx.commit().await.unwrap();
}

/// A store with one organization and one machine user in it.
async fn with_robot(db: &TestDb) -> (SeaStore, Organization, User) {
    let store = db.store().await;
    let o = org("Acme");
    let m = machine(o.id, "robot");
    seed(&store, &o, &[&m]).await;
    (store, o, m)
}

fn key(user: UserId, key_type: PublicKeyType, expires_in: Duration) -> MachineKey {
    let now = SystemClock.now();
    MachineKey {
        id: KeyId::new(),
        user_id: user,
        key_type,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into(),
        expires_at: now + expires_in,
        created_at: now,
    }
}

fn secret(user: UserId, at: Timestamp, fill: u8) -> MachineSecret {
    MachineSecret::new(user, SecretId::new(), SecretDigest::from_bytes([fill; 32]), at)
}

fn access_token(user: UserId, expires_in: Duration) -> AccessToken {
    let now = SystemClock.now();
    AccessToken {
        id: AccessTokenId::new(),
        user_id: user,
        client_id: "robot".into(),
        scopes: vec!["openid".into(), "urn:zitadel:iam:org:project:id:zitadel:aud".into()],
        audience: vec!["project 1".into(), "zitadel".into()],
        digest: SecretDigest::from_bytes([9; 32]),
        created_at: now,
        expires_at: now + expires_in,
        federated_credential: None,
    }
}

fn signing_key(sign_from: Timestamp) -> SigningKey {
    let day = Duration::days(1);
    SigningKey {
        id: SigningKeyId::new(),
        algorithm: SigningAlgorithm::Rs256,
        public: PublicJwk::Rsa(RsaPublicComponents { n: "modulus".into(), e: "AQAB".into() }),
        sealed_private_key: SealedPrivateKey::from_bytes(vec![1, 2, 3, 4]),
        created_at: sign_from - day,
        schedule: KeySchedule::new(sign_from - day, sign_from, sign_from + day * 30, sign_from + day * 31).unwrap(),
    }
}

#[tokio::test]
async fn machine_keys_round_trip_with_their_owner() {
    let db = TestDb::new().await;
    let (store, o, m) = with_robot(&db).await;
    let k = key(m.id, PublicKeyType::EcP256, Duration::days(30));
    let tx = store.begin().await.unwrap();
    tx.machine_keys().insert(&k).await.unwrap();
    tx.audit().append(&audit("key.added")).await.unwrap();
    tx.commit().await.unwrap();

    let got = store.machine_keys().get(k.id).await.unwrap().unwrap();
    assert_eq!((got.key, got.org_id), (k, o.id));
    assert!(store.machine_keys().get(KeyId::new()).await.unwrap().is_none());
}

#[tokio::test]
async fn a_key_for_a_missing_user_is_a_missing_reference() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tx = store.begin().await.unwrap();
    let err = tx.machine_keys().insert(&key(UserId::new(), PublicKeyType::Rsa, Duration::days(1))).await.unwrap_err();
    assert!(matches!(err, RepoError::MissingReference { entity: "machine key" }), "{err:?}");
}

#[tokio::test]
async fn adding_a_key_without_an_audit_event_is_rolled_back() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let k = key(m.id, PublicKeyType::Rsa, Duration::days(1));
    let tx = store.begin().await.unwrap();
    tx.machine_keys().insert(&k).await.unwrap();
    assert!(matches!(tx.commit().await.unwrap_err(), RepoError::Unaudited));
    assert!(store.machine_keys().get(k.id).await.unwrap().is_none());
}

#[tokio::test]
async fn key_lookup_for_auth_reads_owner_state_and_every_key_at_once() {
    let db = TestDb::new().await;
    let (store, mut o, mut m) = with_robot(&db).await;

    // A user without keys still reports its state.
    let found = store.machine_keys().find_for_auth(m.id).await.unwrap().unwrap();
    assert!(found.keys.is_empty() && found.owner.is_active() && found.owner.is_machine);
    assert!(store.machine_keys().find_for_auth(UserId::new()).await.unwrap().is_none());

    let live = key(m.id, PublicKeyType::Rsa, Duration::days(30));
    let expired = key(m.id, PublicKeyType::Ed25519, Duration::seconds(-1));
    let other_user = machine(o.id, "other");
    let foreign = key(other_user.id, PublicKeyType::Rsa, Duration::days(30));
    let tx = store.begin().await.unwrap();
    tx.users().insert(&other_user).await.unwrap();
    for k in [&live, &expired, &foreign] {
        tx.machine_keys().insert(k).await.unwrap();
    }
    tx.audit().append(&audit("keys")).await.unwrap();
    tx.commit().await.unwrap();

    let found = store.machine_keys().find_for_auth(m.id).await.unwrap().unwrap();
    let mut ids: Vec<KeyId> = found.keys.iter().map(|k| k.id).collect();
    ids.sort();
    let mut expected = vec![live.id, expired.id];
    expected.sort();
    assert_eq!(ids, expected, "both of the user's keys, expired included, and no one else's");
    assert_eq!((found.owner.user_id, found.owner.org_id), (m.id, o.id));

    m.state = UserState::Locked;
    o.state = OrgState::Inactive;
    let tx = store.begin().await.unwrap();
    {
        let before = tx.users().lock(m.id).await.unwrap().unwrap();
        tx.users().update(&before, &m).await.unwrap()
    };
    {
        let before = tx.orgs().lock(o.id).await.unwrap().unwrap();
        tx.orgs().update(&before, &o).await.unwrap()
    };
    tx.audit().append(&audit("suspended")).await.unwrap();
    tx.commit().await.unwrap();
    let found = store.machine_keys().find_for_auth(m.id).await.unwrap().unwrap();
    assert_eq!((found.owner.user_state, found.owner.org_state), (UserState::Locked, OrgState::Inactive));
    assert!(!found.owner.is_active());
}

#[tokio::test]
async fn keys_are_listed_with_filters_visibility_and_removed() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (org("A"), org("B"));
    let (ma, mb) = (machine(a.id, "a-bot"), machine(b.id, "b-bot"));
    seed(&store, &a, &[&ma]).await;
    seed(&store, &b, &[&mb]).await;
    let short = key(ma.id, PublicKeyType::Rsa, Duration::days(1));
    let long = key(ma.id, PublicKeyType::Rsa, Duration::days(365));
    let foreign = key(mb.id, PublicKeyType::Rsa, Duration::days(30));
    let tx = store.begin().await.unwrap();
    for k in [&short, &long, &foreign] {
        tx.machine_keys().insert(k).await.unwrap();
    }
    tx.audit().append(&audit("keys")).await.unwrap();
    tx.commit().await.unwrap();

    let q = |filters, orgs, sort| KeyQuery {
        filters,
        visibility: Visibility { orgs, own_user: None },
        sort,
        page: Page::default(),
    };
    let repo = store.machine_keys();
    let expiring = repo
        .list(&q(
            vec![KeyFilter::ExpiresAt(TimeFilter::Before(SystemClock.now() + Duration::days(60)))],
            OrgFilter::All,
            KeySort::ExpiresAt,
        ))
        .await
        .unwrap();
    assert_eq!(expiring.items.iter().map(|k| k.key.id).collect::<Vec<_>>(), vec![short.id, foreign.id]);
    let in_a = repo.list(&q(vec![KeyFilter::Org(a.id)], OrgFilter::All, KeySort::CreatedAt)).await.unwrap();
    assert_eq!(in_a.total, 2);
    let one = repo
        .list(&q(
            vec![KeyFilter::Or(vec![KeyFilter::Key(long.id), KeyFilter::User(mb.id)])],
            OrgFilter::Only(vec![b.id]),
            KeySort::Id,
        ))
        .await
        .unwrap();
    assert_eq!(one.items.iter().map(|k| k.key.id).collect::<Vec<_>>(), vec![foreign.id], "org A is not visible");

    let tx = store.begin().await.unwrap();
    tx.machine_keys().delete(short.id).await.unwrap();
    let err = tx.machine_keys().delete(short.id).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound { entity: "machine key" }), "{err:?}");
    tx.audit().append(&audit("key.removed")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(repo.get(short.id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_new_secret_supersedes_the_current_one_and_drops_older_ones() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let t = SystemClock.now();
    let (first, second, third) =
        (secret(m.id, t, 1), secret(m.id, t + Duration::hours(1), 2), secret(m.id, t + Duration::hours(2), 3));
    for s in [&first, &second] {
        let tx = store.begin().await.unwrap();
        tx.machine_secrets().rotate(s).await.unwrap();
        tx.audit().append(&audit("secret.added")).await.unwrap();
        tx.commit().await.unwrap();
    }
    let listed = store.machine_secrets().list_for_user(m.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| (s.id, s.superseded_at)).collect::<Vec<_>>(),
        vec![(second.id, None), (first.id, Some(second.created_at))]
    );

    let tx = store.begin().await.unwrap();
    tx.machine_secrets().rotate(&third).await.unwrap();
    tx.audit().append(&audit("secret.added")).await.unwrap();
    tx.commit().await.unwrap();
    let listed = store.machine_secrets().list_for_user(m.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|s| (s.id, s.superseded_at)).collect::<Vec<_>>(),
        vec![(third.id, None), (second.id, Some(third.created_at))]
    );
    assert!(store.machine_secrets().find_for_auth(first.id).await.unwrap().is_none());
    let nobody = UserId::new();
    assert_eq!(store.machine_secrets().users_with_secret(&[nobody, m.id]).await.unwrap(), vec![m.id]);
    assert!(store.machine_secrets().users_with_secret(&[]).await.unwrap().is_empty());

    let tx = store.begin().await.unwrap();
    assert_eq!(tx.machine_secrets().delete_for_user(m.id).await.unwrap(), 2);
    tx.audit().append(&audit("secret.removed")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.machine_secrets().list_for_user(m.id).await.unwrap().is_empty());
    assert!(store.machine_secrets().users_with_secret(&[m.id]).await.unwrap().is_empty());
}

#[tokio::test]
async fn secret_lookup_for_auth_reads_owner_and_username() {
    let db = TestDb::new().await;
    let (store, o, mut m) = with_robot(&db).await;
    let s = secret(m.id, SystemClock.now(), 5);
    let tx = store.begin().await.unwrap();
    tx.machine_secrets().rotate(&s).await.unwrap();
    tx.audit().append(&audit("secret.added")).await.unwrap();
    tx.commit().await.unwrap();

    let found = store.machine_secrets().find_for_auth(s.id).await.unwrap().unwrap();
    assert_eq!(found.username.as_str(), "robot");
    assert_eq!(found.secret.digest.as_bytes(), s.digest.as_bytes());
    assert_eq!((found.owner.user_id, found.owner.org_id, found.secret.superseded_at), (m.id, o.id, None));
    assert!(found.owner.is_active());
    assert!(store.machine_secrets().find_for_auth(SecretId::new()).await.unwrap().is_none());

    m.state = UserState::Inactive;
    let tx = store.begin().await.unwrap();
    {
        let before = tx.users().lock(m.id).await.unwrap().unwrap();
        tx.users().update(&before, &m).await.unwrap()
    };
    tx.audit().append(&audit("deactivated")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!store.machine_secrets().find_for_auth(s.id).await.unwrap().unwrap().owner.is_active());
}

#[tokio::test]
async fn signing_keys_round_trip_in_signing_order_and_sign_from_is_unique() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let t = SystemClock.now();
    let later = signing_key(t + Duration::days(30));
    let now = signing_key(t);
    let tx = store.begin().await.unwrap();
    tx.signing_keys().insert(&later).await.unwrap();
    tx.signing_keys().insert(&now).await.unwrap();
    tx.audit().append(&audit("signing_key.created")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.signing_keys().list().await.unwrap(), vec![now.clone(), later.clone()]);

    // A second node planning the same rotation creates nothing.
    let tx = store.begin().await.unwrap();
    let err = tx.signing_keys().insert(&signing_key(t + Duration::days(30))).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { entity: "signing key", .. }), "{err:?}");
    drop(tx);

    let tx = store.begin().await.unwrap();
    tx.signing_keys().delete(now.id).await.unwrap();
    tx.audit().append(&audit("signing_key.retired")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.signing_keys().list().await.unwrap(), vec![later]);
}

#[tokio::test]
async fn access_tokens_round_trip_with_owner_state_and_are_revoked() {
    let db = TestDb::new().await;
    let (store, o, m) = with_robot(&db).await;
    let t = access_token(m.id, Duration::hours(12));
    let tx = store.begin().await.unwrap();
    tx.access_tokens().insert(&t).await.unwrap();
    tx.audit().append(&audit("token.issued")).await.unwrap();
    tx.commit().await.unwrap();

    let (found, owner) = store.access_tokens().find_for_auth(t.id).await.unwrap().unwrap();
    assert_eq!((found.client_id.as_str(), &found.scopes, &found.audience), ("robot", &t.scopes, &t.audience));
    assert_eq!((found.created_at, found.expires_at), (t.created_at, t.expires_at));
    assert_eq!(found.digest.as_bytes(), t.digest.as_bytes());
    assert_eq!((owner.user_id, owner.org_id), (m.id, o.id));
    assert!(owner.is_active());

    let tx = store.begin().await.unwrap();
    tx.access_tokens().delete(t.id).await.unwrap();
    tx.audit().append(&audit("token.revoked")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.access_tokens().find_for_auth(t.id).await.unwrap().is_none());
    let tx = store.begin().await.unwrap();
    assert!(matches!(tx.access_tokens().delete(t.id).await.unwrap_err(), RepoError::NotFound { .. }));
}

#[tokio::test]
async fn issuing_an_access_token_must_be_audited() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let t = access_token(m.id, Duration::hours(1));
    let tx = store.begin().await.unwrap();
    tx.access_tokens().insert(&t).await.unwrap();
    assert!(matches!(tx.commit().await.unwrap_err(), RepoError::Unaudited));
    assert!(store.access_tokens().find_for_auth(t.id).await.unwrap().is_none());
}

#[tokio::test]
async fn expired_rows_are_purged_without_an_audit_event() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let now = SystemClock.now();
    let (old, fresh) = (access_token(m.id, Duration::hours(-1)), access_token(m.id, Duration::hours(1)));
    let tx = store.begin().await.unwrap();
    tx.access_tokens().insert(&old).await.unwrap();
    tx.access_tokens().insert(&fresh).await.unwrap();
    tx.revoked_jwts().insert(&RevokedJwt::new("old", now - Duration::hours(1)).unwrap()).await.unwrap();
    tx.revoked_jwts().insert(&RevokedJwt::new("new", now + Duration::hours(1)).unwrap()).await.unwrap();
    tx.audit().append(&audit("setup")).await.unwrap();
    tx.commit().await.unwrap();
    let tx = store.begin().await.unwrap();
    assert!(tx.used_jtis().record(&UsedJti::new("iss", "old", now - Duration::hours(1)).unwrap(), now).await.unwrap());
    assert!(tx.used_jtis().record(&UsedJti::new("iss", "new", now + Duration::hours(1)).unwrap(), now).await.unwrap());
    tx.commit().await.unwrap();

    // Housekeeping: no audit event needed.
    let tx = store.begin().await.unwrap();
    assert_eq!(tx.access_tokens().purge_expired(now).await.unwrap(), 1);
    assert_eq!(tx.revoked_jwts().purge_expired(now).await.unwrap(), 1);
    assert_eq!(tx.used_jtis().purge_expired(now).await.unwrap(), 1);
    tx.commit().await.unwrap();

    assert!(store.access_tokens().find_for_auth(old.id).await.unwrap().is_none());
    assert!(store.access_tokens().find_for_auth(fresh.id).await.unwrap().is_some());
    assert!(!store.revoked_jwts().is_revoked("old").await.unwrap());
    assert!(store.revoked_jwts().is_revoked("new").await.unwrap());
}

#[tokio::test]
async fn revoking_a_jwt_is_idempotent_and_audited() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let r = RevokedJwt::new("jti-1", SystemClock.now() + Duration::hours(1)).unwrap();
    assert!(!store.revoked_jwts().is_revoked("jti-1").await.unwrap());

    let tx = store.begin().await.unwrap();
    tx.revoked_jwts().insert(&r).await.unwrap();
    tx.revoked_jwts().insert(&r).await.unwrap();
    tx.audit().append(&audit("token.revoked")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.revoked_jwts().is_revoked("jti-1").await.unwrap());
    assert!(!store.revoked_jwts().is_revoked("jti-2").await.unwrap());

    let tx = store.begin().await.unwrap();
    tx.revoked_jwts().insert(&RevokedJwt::new("jti-2", SystemClock.now()).unwrap()).await.unwrap();
    assert!(matches!(tx.commit().await.unwrap_err(), RepoError::Unaudited));
}

#[tokio::test]
async fn a_used_jti_is_a_replay_until_it_expires() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let now = SystemClock.now();
    let until = now + Duration::minutes(5);
    let used = UsedJti::new("user-1", "jti-1", until).unwrap();

    // Outside a transaction the write is refused.
    assert!(matches!(store.used_jtis().record(&used, now).await.unwrap_err(), RepoError::Database(_)));

    let tx = store.begin().await.unwrap();
    assert!(tx.used_jtis().record(&used, now).await.unwrap(), "first use");
    assert!(!tx.used_jtis().record(&used, now).await.unwrap(), "replay");
    // The transaction is still usable after a replay (no constraint violation),
    // also on PostgreSQL.
    assert!(tx.used_jtis().record(&UsedJti::new("user-2", "jti-1", until).unwrap(), now).await.unwrap());
    tx.commit().await.unwrap();

    // Another transaction (another node) sees the replay too.
    let tx = store.begin().await.unwrap();
    assert!(!tx.used_jtis().record(&used, now + Duration::minutes(4)).await.unwrap());
    // Once the record has expired the jti may be used again.
    let again = UsedJti::new("user-1", "jti-1", until + Duration::minutes(10)).unwrap();
    assert!(tx.used_jtis().record(&again, until).await.unwrap());
    assert!(!tx.used_jtis().record(&again, until + Duration::minutes(1)).await.unwrap());
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn deleting_a_user_removes_its_keys_secrets_and_access_tokens() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let k = key(m.id, PublicKeyType::Rsa, Duration::days(1));
    let s = secret(m.id, SystemClock.now(), 1);
    let t = access_token(m.id, Duration::hours(1));
    let tx = store.begin().await.unwrap();
    tx.machine_keys().insert(&k).await.unwrap();
    tx.machine_secrets().rotate(&s).await.unwrap();
    tx.access_tokens().insert(&t).await.unwrap();
    tx.audit().append(&audit("setup")).await.unwrap();
    tx.commit().await.unwrap();

    let tx = store.begin().await.unwrap();
    tx.users().delete(m.id).await.unwrap();
    tx.audit().append(&audit("user.deleted")).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.machine_keys().get(k.id).await.unwrap().is_none());
    assert!(store.machine_keys().find_for_auth(m.id).await.unwrap().is_none());
    assert!(store.machine_secrets().find_for_auth(s.id).await.unwrap().is_none());
    assert!(store.access_tokens().find_for_auth(t.id).await.unwrap().is_none());
}

#[tokio::test]
async fn console_sessions_are_stored_as_digests_ended_and_purged() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let now = SystemClock.now();
    let session = |expires_in: Duration, fill: u8| ConsoleSession {
        id: ConsoleSessionId::new(),
        user_id: m.id,
        digest: SecretDigest::from_bytes([fill; 32]),
        created_at: now,
        expires_at: now + expires_in,
    };
    let live = session(Duration::hours(8), 1);
    let old = session(Duration::hours(-1), 2);

    // A login without its audit event is rolled back.
    let tx = store.begin().await.unwrap();
    tx.console_sessions().insert(&live).await.unwrap();
    assert!(matches!(tx.commit().await, Err(RepoError::Unaudited)));
    assert!(store.console_sessions().get(live.id).await.unwrap().is_none());

    let tx = store.begin().await.unwrap();
    tx.console_sessions().insert(&live).await.unwrap();
    tx.console_sessions().insert(&old).await.unwrap();
    tx.audit().append(&audit("console.login")).await.unwrap();
    tx.commit().await.unwrap();
    let got = store.console_sessions().get(live.id).await.unwrap().unwrap();
    assert_eq!((got.user_id, got.digest.as_bytes(), got.expires_at), (m.id, &[1; 32], live.expires_at));

    // Housekeeping needs no audit event; the live session stays.
    let tx = store.begin().await.unwrap();
    assert_eq!(tx.console_sessions().purge_expired(now).await.unwrap(), 1);
    tx.commit().await.unwrap();
    assert!(store.console_sessions().get(old.id).await.unwrap().is_none());

    let tx = store.begin().await.unwrap();
    tx.console_sessions().delete(live.id).await.unwrap();
    assert!(matches!(tx.console_sessions().delete(live.id).await, Err(RepoError::NotFound { .. })));
    tx.audit().append(&audit("console.logout")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.console_sessions().get(live.id).await.unwrap().is_none());

    // Sessions go with their user.
    let again = session(Duration::hours(1), 3);
    let tx = store.begin().await.unwrap();
    tx.console_sessions().insert(&again).await.unwrap();
    tx.users().delete(m.id).await.unwrap();
    tx.audit().append(&audit("user.deleted")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.console_sessions().get(again.id).await.unwrap().is_none());
}

/// The cache rule (tessera_domain::cache): a committed change advances the
/// epoch after it commits; issuing a token (an addition no cache can hold)
/// and a transaction that does not commit leave it alone.
#[tokio::test]
async fn committed_changes_advance_the_epoch_and_issuing_tokens_does_not() {
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let epoch = store.epoch().clone();

    let before = epoch.current();
    let t = access_token(m.id, Duration::hours(1));
    let tx = store.begin().await.unwrap();
    tx.access_tokens().insert(&t).await.unwrap();
    tx.audit().append(&audit("token.issued")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(epoch.current(), before, "a new token changes nothing a cache holds");

    let tx = store.begin().await.unwrap();
    tx.access_tokens().delete(t.id).await.unwrap();
    tx.audit().append(&audit("token.revoked")).await.unwrap();
    drop(tx);
    assert_eq!(epoch.current(), before, "a transaction that never commits changes nothing");

    let tx = store.begin().await.unwrap();
    tx.access_tokens().delete(t.id).await.unwrap();
    tx.audit().append(&audit("token.revoked")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(epoch.current() > before, "a revocation empties the caches");
}

/// DESIGN.md §5: a change committed through one node reaches the caches of
/// another node sharing the PostgreSQL database (LISTEN/NOTIFY), without
/// waiting for entries to expire.
#[tokio::test]
async fn another_node_hears_of_a_committed_change() {
    let db = TestDb::new().await;
    let (a, _, m) = with_robot(&db).await;
    let b = db.store().await;
    let Some(follow) = b.follow_changes() else {
        assert!(!db.is_postgres(), "PostgreSQL stores follow each other's changes");
        return;
    };
    let follower = tokio::spawn(follow);
    let epoch = b.epoch().clone();
    let wait_past = |mark: u64| {
        let epoch = epoch.clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while epoch.current() <= mark {
                assert!(std::time::Instant::now() < deadline, "node B never heard of the change");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    // Listening has begun once the follower advanced the epoch the first time.
    wait_past(0).await;
    let mark = epoch.current();

    let tx = a.begin().await.unwrap();
    let mut changed = m.clone();
    changed.state = UserState::Inactive;
    {
        let before = tx.users().lock(changed.id).await.unwrap().unwrap();
        tx.users().update(&before, &changed).await.unwrap()
    };
    tx.audit().append(&audit("user.deactivated")).await.unwrap();
    tx.commit().await.unwrap();
    wait_past(mark).await;
    follower.abort();
}

// ---------------------------------------------------------------------------
// Federated credentials (`m0005_federated_credentials`)

fn federated(
    user: UserId,
    issuer: &str,
    subject: &str,
    key_source: tessera_domain::federation::KeySource,
) -> tessera_domain::federation::FederatedCredential {
    use tessera_domain::federation::{Audience, ClaimCondition, FederatedCredential, Issuer, Subject};
    let now = tessera_domain::time::truncate_to_micros(SystemClock.now());
    FederatedCredential {
        id: tessera_domain::FederatedCredentialId::new(),
        user_id: user,
        name: DisplayName::parse("name", "deploy from CI").unwrap(),
        description: Description::parse("the production workflow").unwrap(),
        issuer: Issuer::parse(issuer).unwrap(),
        key_source,
        subject: Subject::parse(subject).unwrap(),
        audience: Audience::parse("https://id.example.com").unwrap(),
        conditions: vec![
            ClaimCondition::parse("repository_owner", "acme").unwrap(),
            ClaimCondition::parse("ref", "refs/heads/*").unwrap(),
        ],
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn federated_credentials_round_trip_and_are_found_by_issuer_and_subject() {
    use tessera_domain::federation::KeySource;
    let db = TestDb::new().await;
    let (store, o, m) = with_robot(&db).await;
    let gh = "https://token.actions.githubusercontent.com";
    let discovery = federated(m.id, gh, "repo:acme/deploy:environment:production", KeySource::Discovery);
    let url = federated(
        m.id,
        "https://k8s.example",
        "system:serviceaccount:ci:deployer",
        KeySource::jwks_url("https://k8s.example/openid/v1/jwks").unwrap(),
    );
    let inline = federated(
        m.id,
        "https://k8s.internal",
        "system:serviceaccount:ci:deployer",
        KeySource::inline(r#"{"keys":[]}"#).unwrap(),
    );
    let tx = store.begin().await.unwrap();
    for c in [&discovery, &url, &inline] {
        tx.federated_credentials().insert(c).await.unwrap();
    }
    tx.audit().append(&audit("federated.added")).await.unwrap();
    tx.commit().await.unwrap();

    let got = store.federated_credentials().get(url.id).await.unwrap().unwrap();
    assert_eq!((&got.credential, got.org_id), (&url, o.id));
    assert_eq!(
        store.federated_credentials().list_for_user(m.id).await.unwrap(),
        [discovery.clone(), url.clone(), inline]
    );

    let found = store.federated_credentials().find_for_exchange(gh, discovery.subject.as_str()).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].credential, discovery);
    assert_eq!(
        (found[0].owner.user_id, found[0].owner.org_id, found[0].owner.user_state),
        (m.id, o.id, UserState::Active)
    );
    // Exact: another subject, or the issuer with a trailing slash, finds nothing.
    let other = "repo:acme/deploy:environment:staging";
    assert!(store.federated_credentials().find_for_exchange(gh, other).await.unwrap().is_empty());
    let slash = format!("{gh}/");
    assert!(
        store.federated_credentials().find_for_exchange(&slash, discovery.subject.as_str()).await.unwrap().is_empty()
    );

    // An update writes what changed; a delete removes.
    let mut changed = discovery.clone();
    changed.subject = tessera_domain::federation::Subject::parse(other).unwrap();
    changed.conditions.clear();
    let tx = store.begin().await.unwrap();
    tx.federated_credentials().update(&discovery, &changed).await.unwrap();
    tx.federated_credentials().delete(url.id).await.unwrap();
    tx.audit().append(&audit("federated.changed")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.federated_credentials().get(discovery.id).await.unwrap().unwrap().credential, changed);
    assert!(store.federated_credentials().get(url.id).await.unwrap().is_none());
    let tx = store.begin().await.unwrap();
    let err = tx.federated_credentials().delete(url.id).await.unwrap_err();
    assert!(matches!(err, RepoError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn federated_credentials_go_with_their_user_and_need_one() {
    use tessera_domain::federation::KeySource;
    let db = TestDb::new().await;
    let (store, _, m) = with_robot(&db).await;
    let c = federated(m.id, "https://k8s.example", "system:serviceaccount:ci:deployer", KeySource::Discovery);
    let tx = store.begin().await.unwrap();
    tx.federated_credentials().insert(&c).await.unwrap();
    tx.audit().append(&audit("federated.added")).await.unwrap();
    tx.commit().await.unwrap();

    let tx = store.begin().await.unwrap();
    tx.users().delete(m.id).await.unwrap();
    tx.audit().append(&audit("user.deleted")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.federated_credentials().get(c.id).await.unwrap().is_none());

    let tx = store.begin().await.unwrap();
    let orphan = federated(UserId::new(), "https://k8s.example", "s", KeySource::Discovery);
    let err = tx.federated_credentials().insert(&orphan).await.unwrap_err();
    assert!(matches!(err, RepoError::MissingReference { entity: "federated credential" }), "{err:?}");
}

#[tokio::test]
async fn ecdsa_and_ed25519_signing_keys_round_trip_with_their_jwk_members() {
    use chrono::SubsecRound as _;
    let db = TestDb::new().await;
    let store = db.store().await;
    // Whole seconds: PostgreSQL keeps microseconds.
    let now = chrono::Utc::now().trunc_subsecs(0);
    let ec = SigningKey {
        algorithm: SigningAlgorithm::Es256,
        // A P-256 point's coordinates are 43 characters each.
        public: PublicJwk::Ec { crv: "P-256".into(), x: "x".repeat(43), y: "y".repeat(43) },
        ..signing_key(now)
    };
    let ed = SigningKey {
        id: SigningKeyId::new(),
        algorithm: SigningAlgorithm::EdDsa,
        public: PublicJwk::Okp { x: "okp".into() },
        ..signing_key(now + Duration::days(30))
    };
    let tx = store.begin().await.unwrap();
    for k in [&ec, &ed] {
        tx.signing_keys().insert(k).await.unwrap();
        tx.audit().append(&AuditEvent::new(now, None, "signing_key.created", "signing_key", k.id, None)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let listed = store.signing_keys().list().await.unwrap();
    assert_eq!(listed, vec![ec, ed]);
}
