//! Repository tests. Each runs on a fresh database: SQLite by default, PostgreSQL
//! when `TESSERA_TEST_POSTGRES_URL` is set (CI runs both).

use chrono::Duration;
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::audit::AuditEvent;
use tessera_domain::instance::Instance;
use tessera_domain::names::{Description, DisplayName, Email, OrgName, Username};
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::pat::{PersonalAccessToken, SecretDigest};
use tessera_domain::permission::{OrgFilter, Role, Scope};
use tessera_domain::repo::{
    AdminFilter, AdminQuery, AdminSort, AdminVisibility, AdminWithNames, Listed, MetadataEntry, OrgQuery,
    OrgQueryFilter, OrgSort, Page, PatFilter, PatQuery, PatSort, RepoError, Repos, Store, TextFilter, TextMethod,
    TimeFilter, UserFilter, UserQuery, UserSort, UserType, Visibility,
};
use tessera_domain::user::{AccessTokenType, Human, Machine, User, UserState};
use tessera_domain::{Clock, InstanceId, OrgId, PatId, SystemClock, UserId};

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
            access_token_type: AccessTokenType::Bearer,
        },
        SystemClock.now(),
    )
}

fn human(org: OrgId, username: &str) -> User {
    User::new_human(
        org,
        Username::parse(username).unwrap(),
        Human {
            given_name: DisplayName::parse("givenName", "Ada").unwrap(),
            family_name: DisplayName::parse("familyName", "Lovelace").unwrap(),
            display_name: DisplayName::parse("displayName", "Ada Lovelace").unwrap(),
            email: Email::parse("ada@example.com").unwrap(),
            email_verified: true,
            password_hash: None,
        },
        SystemClock.now(),
    )
}

fn audit(what: &str) -> AuditEvent {
    AuditEvent::new(SystemClock.now(), None, what, "test", "x", None)
}

fn pat(user: UserId, expires_in: Duration) -> PersonalAccessToken {
    let now = SystemClock.now();
    PersonalAccessToken {
        id: PatId::new(),
        user_id: user,
        digest: SecretDigest::from_bytes([7; 32]),
        expires_at: now + expires_in,
        created_at: now,
        last_used_at: None,
        scope: None,
    }
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

fn all_users(filters: Vec<UserFilter>) -> UserQuery {
    UserQuery { filters, visibility: Visibility::all(), sort: UserSort::Username, page: Page::default() }
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_empty() && status.iter().all(|m| m.applied));

    store.migrate_down(None).await.unwrap();
    assert!(store.migration_status().await.unwrap().iter().all(|m| !m.applied));
    store.migrate_up().await.unwrap();
    assert!(store.migration_status().await.unwrap().iter().all(|m| m.applied));
}

#[tokio::test]
async fn a_change_without_an_audit_event_is_rolled_back() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");

    let tx = store.begin().await.unwrap();
    tx.orgs().insert(&o).await.unwrap();
    let err = tx.commit().await.unwrap_err();

    assert!(matches!(err, RepoError::Unaudited), "{err:?}");
    assert!(store.orgs().get(o.id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_dropped_transaction_rolls_back() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    {
        let tx = store.begin().await.unwrap();
        tx.orgs().insert(&o).await.unwrap();
        tx.audit().append(&audit("org.created")).await.unwrap();
    }
    assert!(store.orgs().get(o.id).await.unwrap().is_none());
}

#[tokio::test]
async fn writes_outside_a_transaction_are_refused() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let err = store.orgs().insert(&org("Acme")).await.unwrap_err();
    assert!(matches!(err, RepoError::Database(_)), "{err:?}");
}

#[tokio::test]
async fn an_update_writes_only_the_columns_it_changed() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let m = machine(o.id, "bot");
    seed(&store, &o, &[&m]).await;
    // Two changes from the same reading: a deactivation, then a rename made
    // from the stale copy. The rename must not write the state back.
    let mut deactivated = m.clone();
    deactivated.state = UserState::Inactive;
    let mut renamed = m.clone();
    renamed.username = Username::parse("robot").unwrap();
    for after in [&deactivated, &renamed] {
        let tx = store.begin().await.unwrap();
        tx.users().update(&m, after).await.unwrap();
        tx.audit().append(&audit("user.changed")).await.unwrap();
        tx.commit().await.unwrap();
    }
    let stored = store.users().get(m.id).await.unwrap().unwrap();
    assert_eq!((stored.state, stored.username.as_str()), (UserState::Inactive, "robot"));
    // Nothing changed: nothing is written, and the row need not exist.
    let tx = store.begin().await.unwrap();
    tx.users().update(&renamed, &renamed).await.unwrap();
}

#[tokio::test]
async fn locking_reads_happen_inside_a_transaction_only() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    seed(&store, &o, &[]).await;
    assert!(matches!(store.orgs().lock(o.id).await, Err(RepoError::Database(_))));
    let tx = store.begin().await.unwrap();
    assert_eq!(tx.orgs().lock(o.id).await.unwrap(), Some(o));
    assert_eq!(tx.users().lock(UserId::new()).await.unwrap(), None);
}

#[tokio::test]
async fn instance_is_a_singleton() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Default");
    seed(&store, &o, &[]).await;
    let make = || Instance {
        id: InstanceId::new(),
        name: "Tessera".into(),
        default_org_id: o.id,
        created_at: SystemClock.now(),
    };

    let tx = store.begin().await.unwrap();
    tx.instance().insert(&make()).await.unwrap();
    tx.audit().append(&audit("instance.created")).await.unwrap();
    tx.commit().await.unwrap();

    let tx = store.begin().await.unwrap();
    let err = tx.instance().insert(&make()).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { entity: "instance", .. }), "{err:?}");
    assert_eq!(store.instance().get().await.unwrap().unwrap().default_org_id, o.id);
}

#[tokio::test]
async fn organization_names_are_unique_case_insensitively() {
    let db = TestDb::new().await;
    let store = db.store().await;
    seed(&store, &org("Acme"), &[]).await;

    let tx = store.begin().await.unwrap();
    let err = tx.orgs().insert(&org("ACME")).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { entity: "organization", .. }), "{err:?}");
}

#[tokio::test]
async fn organizations_round_trip_and_list() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let mut a = org("Alpha");
    a.pat_max_lifetime = Some(Duration::days(90));
    a.pat_require_scope = true;
    let b = org("Beta");
    seed(&store, &a, &[]).await;
    seed(&store, &b, &[]).await;

    assert_eq!(store.orgs().get(a.id).await.unwrap().unwrap(), a);

    let mut changed = b.clone();
    changed.state = OrgState::Inactive;
    let tx = store.begin().await.unwrap();
    {
        let before = tx.orgs().lock(changed.id).await.unwrap().unwrap();
        tx.orgs().update(&before, &changed).await.unwrap()
    };
    tx.audit().append(&audit("org.deactivated")).await.unwrap();
    tx.commit().await.unwrap();

    let q = |filters, visible| OrgQuery { filters, visible, sort: OrgSort::Name, page: Page::default() };
    let active = store.orgs().list(&q(vec![OrgQueryFilter::State(OrgState::Active)], OrgFilter::All)).await.unwrap();
    assert_eq!(active.items, vec![a.clone()]);
    let named = store
        .orgs()
        .list(&q(
            vec![OrgQueryFilter::Name(TextFilter { value: "et".into(), method: TextMethod::Contains })],
            OrgFilter::All,
        ))
        .await
        .unwrap();
    assert_eq!(named.total, 1);
    let hidden = store.orgs().list(&q(vec![], OrgFilter::Only(vec![]))).await.unwrap();
    assert_eq!(hidden.total, 0);
}

#[tokio::test]
async fn usernames_are_unique_per_organization_only() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (org("A"), org("B"));
    seed(&store, &a, &[&machine(a.id, "ci-bot")]).await;
    seed(&store, &b, &[&machine(b.id, "ci-bot")]).await;

    let tx = store.begin().await.unwrap();
    let err = tx.users().insert(&machine(a.id, "CI-Bot")).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { entity: "user", .. }), "{err:?}");
    assert_eq!(store.users().find_by_username_anywhere("ci-BOT").await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_user_in_a_missing_organization_is_a_missing_reference() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tx = store.begin().await.unwrap();
    let err = tx.users().insert(&machine(OrgId::new(), "orphan")).await.unwrap_err();
    assert!(matches!(err, RepoError::MissingReference { entity: "user" }), "{err:?}");
}

#[tokio::test]
async fn users_of_both_kinds_round_trip() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let m = machine(o.id, "robot");
    let h = human(o.id, "ada");
    seed(&store, &o, &[&m, &h]).await;

    assert_eq!(store.users().get(m.id).await.unwrap().unwrap(), m);
    assert_eq!(store.users().get(h.id).await.unwrap().unwrap(), h);
    assert_eq!(store.users().find_by_username(o.id, "ROBOT").await.unwrap().unwrap().id, m.id);
}

#[tokio::test]
async fn user_filters_visibility_and_paging() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (org("A"), org("B"));
    let bots: Vec<User> = (0..5).map(|i| machine(a.id, &format!("bot-{i}"))).collect();
    let mut locked = machine(a.id, "bot_x");
    locked.state = UserState::Locked;
    let other = machine(b.id, "other");
    let person = human(a.id, "ada");
    let mut refs: Vec<&User> = bots.iter().collect();
    refs.extend([&locked, &person]);
    seed(&store, &a, &refs).await;
    seed(&store, &b, &[&other]).await;
    let users = store.users();

    let starts = |v: &str, m| UserFilter::Username(TextFilter { value: v.into(), method: m });
    // `_` in the input is literal, not a LIKE wildcard.
    let page = users.list(&all_users(vec![starts("bot_", TextMethod::StartsWith)])).await.unwrap();
    assert_eq!(page.total, 1);
    // Case-sensitive methods are case-sensitive on every backend.
    assert_eq!(users.list(&all_users(vec![starts("BOT", TextMethod::StartsWith)])).await.unwrap().total, 0);
    assert_eq!(users.list(&all_users(vec![starts("BOT", TextMethod::StartsWithIgnoreCase)])).await.unwrap().total, 6);

    let machines_not_locked = all_users(vec![
        UserFilter::Type(UserType::Machine),
        UserFilter::Not(Box::new(UserFilter::State(UserState::Locked))),
        UserFilter::Org(a.id),
    ]);
    assert_eq!(users.list(&machines_not_locked).await.unwrap().total, 5);

    let mut paged = all_users(vec![UserFilter::Org(a.id)]);
    paged.page = Page { offset: 2, limit: 2, asc: true };
    let page = users.list(&paged).await.unwrap();
    assert_eq!(page.total, 7);
    // Sorted by username: ada, bot-0, bot-1, bot-2, …
    assert_eq!(page.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["bot-1", "bot-2"]);

    let mut only_b_and_me = all_users(vec![]);
    only_b_and_me.visibility = Visibility { orgs: OrgFilter::Only(vec![b.id]), own_user: Some(person.id) };
    let ids: Vec<UserId> = users.list(&only_b_and_me).await.unwrap().items.into_iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&other.id) && ids.contains(&person.id));
}

#[tokio::test]
async fn deleting_a_user_removes_its_tokens_memberships_and_metadata() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let m = machine(o.id, "robot");
    seed(&store, &o, &[&m]).await;
    let token = pat(m.id, Duration::days(1));
    let now = SystemClock.now();
    let tx = store.begin().await.unwrap();
    tx.pats().insert(&token).await.unwrap();
    tx.admins()
        .insert(&Administrator::new(
            m.id,
            Scope::Org(o.id),
            RoleSet::for_scope(Scope::Org(o.id), [Role::OrgOwner]).unwrap(),
            now,
        ))
        .await
        .unwrap();
    tx.metadata()
        .set(m.id, &[MetadataEntry { key: "team".into(), value: b"ops".to_vec(), created_at: now, updated_at: now }])
        .await
        .unwrap();
    tx.audit().append(&audit("setup")).await.unwrap();
    tx.commit().await.unwrap();

    let tx = store.begin().await.unwrap();
    tx.users().delete(m.id).await.unwrap();
    tx.audit().append(&audit("user.deleted")).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.pats().get(token.id).await.unwrap().is_none());
    assert!(store.admins().list_for_user(m.id).await.unwrap().is_empty());
    assert_eq!(store.metadata().list(m.id, None, Page::default()).await.unwrap().total, 0);
}

#[tokio::test]
async fn deleting_an_organization_removes_memberships_held_on_it() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (home, other) = (org("Home"), org("Other"));
    let admin = machine(home.id, "admin");
    seed(&store, &home, &[&admin]).await;
    seed(&store, &other, &[]).await;
    let scope = Scope::Org(other.id);
    let tx = store.begin().await.unwrap();
    tx.admins()
        .insert(&Administrator::new(
            admin.id,
            scope,
            RoleSet::for_scope(scope, [Role::OrgOwner]).unwrap(),
            SystemClock.now(),
        ))
        .await
        .unwrap();
    tx.orgs().delete(other.id).await.unwrap();
    tx.audit().append(&audit("org.deleted")).await.unwrap();
    tx.commit().await.unwrap();

    assert!(store.admins().list_for_user(admin.id).await.unwrap().is_empty());
    assert!(store.users().get(admin.id).await.unwrap().is_some());
}

#[tokio::test]
async fn credential_lookup_reports_owner_state_in_one_read() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let mut m = machine(o.id, "robot");
    seed(&store, &o, &[&m]).await;
    let token = pat(m.id, Duration::days(1));
    let tx = store.begin().await.unwrap();
    tx.pats().insert(&token).await.unwrap();
    tx.audit().append(&audit("pat.added")).await.unwrap();
    tx.commit().await.unwrap();

    let (found, owner) = store.pats().find_for_auth(token.id).await.unwrap().unwrap();
    assert_eq!(found.digest.as_bytes(), token.digest.as_bytes());
    assert_eq!(found.expires_at, token.expires_at);
    assert!(owner.is_active() && owner.is_machine);
    assert_eq!((owner.user_id, owner.org_id), (m.id, o.id));

    m.state = UserState::Inactive;
    let mut o2 = o.clone();
    o2.state = OrgState::Inactive;
    let tx = store.begin().await.unwrap();
    {
        let before = tx.users().lock(m.id).await.unwrap().unwrap();
        tx.users().update(&before, &m).await.unwrap()
    };
    {
        let before = tx.orgs().lock(o2.id).await.unwrap().unwrap();
        tx.orgs().update(&before, &o2).await.unwrap()
    };
    tx.audit().append(&audit("suspended")).await.unwrap();
    tx.commit().await.unwrap();
    let (_, owner) = store.pats().find_for_auth(token.id).await.unwrap().unwrap();
    assert_eq!((owner.user_state, owner.org_state), (UserState::Inactive, OrgState::Inactive));
    assert!(!owner.is_active());

    assert!(store.pats().find_for_auth(PatId::new()).await.unwrap().is_none());

    // A fine-grained token's scope comes back with it, in the check and the list.
    let mut scoped = pat(m.id, Duration::days(1));
    let limit = tessera_domain::token_scope::TokenScope::new(vec![o.id], vec![], &["user.read", "user.write"]);
    scoped.scope = limit.unwrap();
    let tx = store.begin().await.unwrap();
    tx.pats().insert(&scoped).await.unwrap();
    tx.audit().append(&audit("pat.added")).await.unwrap();
    tx.commit().await.unwrap();
    let (found, _) = store.pats().find_for_auth(scoped.id).await.unwrap().unwrap();
    assert_eq!(found.scope, scoped.scope);
    assert!(found.scope.is_some());
    assert_eq!(store.pats().get(scoped.id).await.unwrap().unwrap().pat.scope, scoped.scope);
    assert_eq!(store.pats().get(token.id).await.unwrap().unwrap().pat.scope, None);
}

#[tokio::test]
async fn token_list_filters_and_last_used_batches() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (org("A"), org("B"));
    let (ma, mb) = (machine(a.id, "a-bot"), machine(b.id, "b-bot"));
    seed(&store, &a, &[&ma]).await;
    seed(&store, &b, &[&mb]).await;
    let short = pat(ma.id, Duration::days(1));
    let long = pat(ma.id, Duration::days(365));
    let foreign = pat(mb.id, Duration::days(30));
    let tx = store.begin().await.unwrap();
    for p in [&short, &long, &foreign] {
        tx.pats().insert(p).await.unwrap();
    }
    tx.audit().append(&audit("pats")).await.unwrap();
    tx.commit().await.unwrap();

    let q = |filters, orgs| PatQuery {
        filters,
        visibility: Visibility { orgs, own_user: None },
        sort: PatSort::ExpiresAt,
        page: Page::default(),
    };
    let expiring = store
        .pats()
        .list(&q(
            vec![PatFilter::ExpiresAt(TimeFilter::Before(SystemClock.now() + Duration::days(60)))],
            OrgFilter::All,
        ))
        .await
        .unwrap();
    assert_eq!(expiring.items.iter().map(|p| p.pat.id).collect::<Vec<_>>(), vec![short.id, foreign.id]);
    let in_a = store.pats().list(&q(vec![PatFilter::Org(a.id)], OrgFilter::All)).await.unwrap();
    assert_eq!(in_a.total, 2);
    assert!(in_a.items.iter().all(|p| p.org_id == a.id));
    let visible = store.pats().list(&q(vec![], OrgFilter::Only(vec![b.id]))).await.unwrap();
    assert_eq!(visible.items.iter().map(|p| p.pat.id).collect::<Vec<_>>(), vec![foreign.id]);

    let (t1, t2) = (SystemClock.now(), SystemClock.now() + Duration::seconds(3));
    let tx = store.begin().await.unwrap();
    tx.pats().record_last_used(&[(short.id, t1), (long.id, t2)]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.pats().get(short.id).await.unwrap().unwrap().pat.last_used_at, Some(t1));
    assert_eq!(store.pats().get(long.id).await.unwrap().unwrap().pat.last_used_at, Some(t2));
    assert_eq!(store.pats().get(foreign.id).await.unwrap().unwrap().pat.last_used_at, None);
}

#[tokio::test]
async fn administrators_round_trip_and_filter_by_exact_role() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let (owner, viewer) = (machine(o.id, "owner"), machine(o.id, "viewer"));
    seed(&store, &o, &[&owner, &viewer]).await;
    let scope = Scope::Org(o.id);
    let now = SystemClock.now();
    let a1 = Administrator::new(
        owner.id,
        scope,
        RoleSet::for_scope(scope, [Role::OrgOwner, Role::OrgUserManager]).unwrap(),
        now,
    );
    let a2 = Administrator::new(viewer.id, scope, RoleSet::for_scope(scope, [Role::OrgOwnerViewer]).unwrap(), now);
    let inst = Administrator::new(
        owner.id,
        Scope::Instance,
        RoleSet::for_scope(Scope::Instance, [Role::IamOwner]).unwrap(),
        now,
    );
    let tx = store.begin().await.unwrap();
    for a in [&a1, &a2, &inst] {
        tx.admins().insert(a).await.unwrap();
    }
    tx.audit().append(&audit("admins")).await.unwrap();
    tx.commit().await.unwrap();
    // A failed statement aborts a PostgreSQL transaction, so the duplicate gets its own.
    let dup = Administrator::new(
        owner.id,
        Scope::Instance,
        RoleSet::for_scope(Scope::Instance, [Role::IamOwnerViewer]).unwrap(),
        now,
    );
    let tx = store.begin().await.unwrap();
    let err = tx.admins().insert(&dup).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { entity: "administrator", .. }), "{err:?}");
    drop(tx);

    assert_eq!(store.admins().get(owner.id, scope).await.unwrap().unwrap(), a1);
    assert_eq!(store.admins().list_for_user(owner.id).await.unwrap().len(), 2);
    let q = |filters| AdminQuery {
        filters,
        visibility: AdminVisibility::all(),
        sort: AdminSort::CreatedAt,
        page: Page::default(),
    };
    let memberships = |l: Listed<AdminWithNames>| l.items.into_iter().map(|a| a.admin).collect::<Vec<_>>();
    let owners = store.admins().list(&q(vec![AdminFilter::Role(Role::OrgOwner)])).await.unwrap();
    assert_eq!(memberships(owners), vec![a1.clone()]);
    let in_org = store.admins().list(&q(vec![AdminFilter::Scope(scope)])).await.unwrap();
    assert_eq!(in_org.total, 2);
    let by_name = store
        .admins()
        .list(&q(vec![AdminFilter::Username(TextFilter { value: "view".into(), method: TextMethod::StartsWith })]))
        .await
        .unwrap();
    assert_eq!(memberships(by_name), vec![a2]);
}

#[tokio::test]
async fn administrator_listings_carry_names_and_honour_filters() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (home, other) = (org("Home"), org("Other"));
    let (bot, person) = (machine(home.id, "bot"), human(other.id, "ada"));
    seed(&store, &home, &[&bot]).await;
    seed(&store, &other, &[&person]).await;
    let now = SystemClock.now();
    let on_other = Administrator::new(
        bot.id,
        Scope::Org(other.id),
        RoleSet::for_scope(Scope::Org(other.id), [Role::OrgOwner]).unwrap(),
        now,
    );
    let inst = Administrator::new(
        person.id,
        Scope::Instance,
        RoleSet::for_scope(Scope::Instance, [Role::IamOwnerViewer]).unwrap(),
        now + Duration::seconds(1),
    );
    let tx = store.begin().await.unwrap();
    tx.admins().insert(&on_other).await.unwrap();
    tx.admins().insert(&inst).await.unwrap();
    tx.audit().append(&audit("admins")).await.unwrap();
    tx.commit().await.unwrap();

    let q = |filters, sort| AdminQuery { filters, visibility: AdminVisibility::all(), sort, page: Page::default() };
    let all = store.admins().list(&q(vec![], AdminSort::CreatedAt)).await.unwrap();
    assert_eq!(all.total, 2);
    let first = &all.items[0];
    assert_eq!(first.admin, on_other);
    assert_eq!((first.username.as_str(), first.display_name.as_str()), ("bot", "bot"));
    assert_eq!(first.user_org_id, home.id);
    assert_eq!(first.org_name.as_ref().map(OrgName::as_str), Some("Other"));
    let second = &all.items[1];
    assert_eq!((second.display_name.as_str(), second.org_name.as_ref()), ("Ada Lovelace", None));

    let ids = |l: Listed<AdminWithNames>| l.items.into_iter().map(|a| a.admin.id).collect::<Vec<_>>();
    let store_ref = &store;
    let filtered = |filters: Vec<AdminFilter>| async move {
        ids(store_ref.admins().list(&q(filters, AdminSort::CreatedAt)).await.unwrap())
    };
    assert_eq!(filtered(vec![AdminFilter::UserOrg(home.id)]).await, vec![on_other.id]);
    assert_eq!(filtered(vec![AdminFilter::Users(vec![person.id, UserId::new()])]).await, vec![inst.id]);
    assert_eq!(filtered(vec![AdminFilter::Users(vec![])]).await, vec![]);
    let ada = TextFilter { value: "ada lov".into(), method: TextMethod::StartsWithIgnoreCase };
    assert_eq!(filtered(vec![AdminFilter::DisplayName(ada)]).await, vec![inst.id]);
    assert_eq!(filtered(vec![AdminFilter::ChangedAt(TimeFilter::After(now))]).await, vec![inst.id]);
    assert_eq!(
        filtered(vec![AdminFilter::Not(Box::new(AdminFilter::Scope(Scope::Instance)))]).await,
        vec![on_other.id]
    );
    let newest_first = AdminQuery { page: Page { asc: false, ..Page::default() }, ..q(vec![], AdminSort::ChangedAt) };
    assert_eq!(ids(store.admins().list(&newest_first).await.unwrap()), vec![inst.id, on_other.id]);
}

#[tokio::test]
async fn administrator_listings_show_only_visible_rows_and_count_only_those() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let (a, b) = (org("A"), org("B"));
    let (ua, ub, me) = (machine(a.id, "in-a"), machine(b.id, "in-b"), machine(b.id, "me"));
    seed(&store, &a, &[&ua]).await;
    seed(&store, &b, &[&ub, &me]).await;
    let now = SystemClock.now();
    let member = |user: &User, scope: Scope, role: Role, at| {
        Administrator::new(user.id, scope, RoleSet::for_scope(scope, [role]).unwrap(), now + Duration::seconds(at))
    };
    let on_a = member(&ua, Scope::Org(a.id), Role::OrgOwner, 0);
    let on_b = member(&ub, Scope::Org(b.id), Role::OrgOwner, 1);
    let inst = member(&ua, Scope::Instance, Role::IamOwner, 2);
    let mine = member(&me, Scope::Org(a.id), Role::OrgUserManager, 3);
    let tx = store.begin().await.unwrap();
    for m in [&on_a, &on_b, &inst, &mine] {
        tx.admins().insert(m).await.unwrap();
    }
    tx.audit().append(&audit("admins")).await.unwrap();
    tx.commit().await.unwrap();

    let list = |visibility, limit| {
        let store = &store;
        async move {
            let q = AdminQuery {
                filters: vec![],
                visibility,
                sort: AdminSort::CreatedAt,
                page: Page { offset: 0, limit, asc: true },
            };
            let l = store.admins().list(&q).await.unwrap();
            (l.total, l.items.into_iter().map(|a| a.admin.id).collect::<Vec<_>>())
        }
    };
    let vis = |instance, orgs, own_user| AdminVisibility { instance, orgs, projects: Some(vec![]), own_user };

    assert_eq!(list(vis(false, OrgFilter::Only(vec![]), None), 100).await, (0, vec![]));
    assert_eq!(list(vis(false, OrgFilter::Only(vec![]), Some(me.id)), 100).await, (1, vec![mine.id]));
    assert_eq!(list(vis(false, OrgFilter::Only(vec![b.id]), Some(me.id)), 100).await, (2, vec![on_b.id, mine.id]));
    assert_eq!(list(vis(true, OrgFilter::Only(vec![]), None), 100).await, (1, vec![inst.id]));
    assert_eq!(list(vis(false, OrgFilter::All, None), 100).await, (3, vec![on_a.id, on_b.id, mine.id]));
    // Paging counts visible rows only.
    assert_eq!(list(vis(false, OrgFilter::Only(vec![a.id]), None), 1).await, (2, vec![on_a.id]));
    assert_eq!(list(AdminVisibility::all(), 100).await.0, 4);
}

#[tokio::test]
async fn metadata_is_upserted_listed_and_deleted() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let m = machine(o.id, "robot");
    seed(&store, &o, &[&m]).await;
    let now = SystemClock.now();
    let entry =
        |k: &str, v: &[u8]| MetadataEntry { key: k.into(), value: v.to_vec(), created_at: now, updated_at: now };
    let tx = store.begin().await.unwrap();
    tx.metadata().set(m.id, &[entry("team", b"ops"), entry("env", b"prod")]).await.unwrap();
    tx.metadata().set(m.id, &[entry("team", b"sre")]).await.unwrap();
    tx.audit().append(&audit("metadata")).await.unwrap();
    tx.commit().await.unwrap();

    let all = store.metadata().list(m.id, None, Page::default()).await.unwrap();
    assert_eq!(
        all.items.iter().map(|e| (e.key.as_str(), e.value.as_slice())).collect::<Vec<_>>(),
        [("env", &b"prod"[..]), ("team", &b"sre"[..])]
    );

    let tx = store.begin().await.unwrap();
    assert_eq!(tx.metadata().delete(m.id, &["team".into(), "missing".into()]).await.unwrap(), 1);
    tx.audit().append(&audit("metadata.deleted")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.metadata().list(m.id, None, Page::default()).await.unwrap().total, 1);
}

#[tokio::test]
async fn audit_events_are_stored_with_their_details() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let o = org("Acme");
    let event =
        AuditEvent::new(SystemClock.now(), Some(UserId::new()), "org.created", "organization", o.id, Some(o.id))
            .with_details(serde_json::json!({"name": "Acme"}));
    let tx = store.begin().await.unwrap();
    tx.orgs().insert(&o).await.unwrap();
    tx.audit().append(&event).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.audit().recent(10).await.unwrap(), vec![event]);
}

/// A full or read-only SQLite file (issue 16, docs/architecture.md): writes
/// are `Unavailable` (503 to clients, who retry), the failed transaction
/// leaves nothing behind, reads go on, and writes work again once the file
/// has room or is writable. Both conditions are real SQLite errors
/// (`SQLITE_FULL` from `max_page_count`, `SQLITE_READONLY` from `query_only`)
/// set on the writer connection: the tests run as root, whom file modes and
/// quotas do not stop.
#[tokio::test]
async fn a_full_or_read_only_sqlite_file_is_unavailable_and_recovers() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = TestDb::sqlite();
    let store = db.store().await;
    let o = org("Acme");
    seed(&store, &o, &[]).await;
    let count = |store: &SeaStore| {
        let store = store.clone();
        async move { store.users().list(&all_users(vec![])).await.unwrap().total }
    };
    let pragma = |sql: String| {
        let store = store.clone();
        async move { store.writer().execute_unprepared(&sql).await.map(|_| ()) }
    };

    // Full: the database may not grow by a single page.
    let row = store
        .writer()
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA page_count"))
        .await
        .unwrap()
        .unwrap();
    let pages: i64 = row.try_get_by_index(0).unwrap();
    pragma(format!("PRAGMA max_page_count = {pages}")).await.unwrap();
    let tx = store.begin().await.unwrap();
    let mut failed = None;
    for i in 0..5_000 {
        if let Err(e) = tx.users().insert(&machine(o.id, &format!("robot{i}"))).await {
            failed = Some(e);
            break;
        }
    }
    drop(tx);
    let err = failed.expect("the file filled up");
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert_eq!(count(&store).await, 0, "nothing of the failed transaction remains");
    assert!(store.orgs().get(o.id).await.unwrap().is_some(), "reads go on");
    pragma("PRAGMA max_page_count = 1073741823".into()).await.unwrap();
    seed(&store, &org("Room"), &[&machine(o.id, "after")]).await;
    assert_eq!(count(&store).await, 1);

    // Read-only.
    pragma("PRAGMA query_only = ON".into()).await.unwrap();
    let tx = store.begin().await.unwrap();
    let err = tx.users().insert(&machine(o.id, "refused")).await.unwrap_err();
    drop(tx);
    assert!(matches!(err, RepoError::Unavailable(_)), "{err:?}");
    assert_eq!(count(&store).await, 1);
    pragma("PRAGMA query_only = OFF".into()).await.unwrap();
    // Committed for real, not into a transaction left open by the failures
    // above: the readers see it.
    seed(&store, &org("Writable"), &[&machine(o.id, "again")]).await;
    assert_eq!(count(&store).await, 2);
}
