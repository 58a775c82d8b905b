//! Repository tests of projects, roles, applications, application keys and
//! authorizations (migration `m0004_projects`), including the read paths of
//! client authentication and role claims. Each runs on a fresh database:
//! SQLite by default, PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set.

use std::collections::BTreeSet;

use chrono::Duration;
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::application::{ApiAuthMethod, AppKey, AppName, AppState, Application};
use tessera_domain::audit::AuditEvent;
use tessera_domain::authorization::{Authorization, AuthorizationState};
use tessera_domain::machine_key::PublicKeyType;
use tessera_domain::names::{Description, DisplayName, OrgName, Username};
use tessera_domain::org::{OrgState, Organization};
use tessera_domain::pat::SecretDigest;
use tessera_domain::permission::{OrgFilter, Role, Scope};
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey};
use tessera_domain::repo::{
    AppFilter, AppKeyFilter, AppKeyQuery, AppQuery, AuthorizationFilter, AuthorizationQuery, Page, ProjectFilter,
    ProjectQuery, ProjectVisibility, RepoError, Repos, RoleFilter, RoleQuery, Store, TextFilter, TextMethod,
};
use tessera_domain::user::{AccessTokenType, Machine, User};
use tessera_domain::{AppKeyId, Clock, OrgId, ProjectId, SystemClock};

use crate::SeaStore;
use crate::testing::TestDb;

fn now() -> tessera_domain::Timestamp {
    SystemClock.now()
}

fn org(name: &str) -> Organization {
    Organization::new(OrgName::parse(name).unwrap(), now())
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
        now(),
    )
}

fn project(org: OrgId, name: &str) -> Project {
    Project::new(org, ProjectName::parse(name).unwrap(), now())
}

fn role(project: ProjectId, key: &str) -> ProjectRole {
    ProjectRole {
        project_id: project,
        key: RoleKey::parse(key).unwrap(),
        display_name: DisplayName::parse("displayName", key).unwrap(),
        group: String::new(),
        created_at: now(),
        updated_at: now(),
    }
}

fn keys(ks: &[&str]) -> BTreeSet<RoleKey> {
    ks.iter().map(|k| RoleKey::parse(k).unwrap()).collect()
}

fn audit(what: &str) -> AuditEvent {
    AuditEvent::new(now(), None, what, "test", "x", None)
}

fn page() -> Page {
    Page { offset: 0, limit: 100, asc: true }
}

/// An organization with a user and a project with roles `reader` and `writer`.
struct World {
    store: SeaStore,
    org: Organization,
    user: User,
    project: Project,
}

async fn world(db: &TestDb) -> World {
    let store = db.store().await;
    let o = org("Acme");
    let u = machine(o.id, "robot");
    let p = project(o.id, "Orders");
    let tx = store.begin().await.unwrap();
    tx.orgs().insert(&o).await.unwrap();
    tx.users().insert(&u).await.unwrap();
    tx.projects().insert(&p).await.unwrap();
    tx.projects().insert_role(&role(p.id, "reader")).await.unwrap();
    tx.projects().insert_role(&role(p.id, "writer")).await.unwrap();
    tx.audit().append(&audit("seed")).await.unwrap();
    tx.commit().await.unwrap();
    World { store, org: o, user: u, project: p }
}

/// Runs `f` in an audited transaction and commits.
macro_rules! write {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let $tx = $store.begin().await.unwrap();
        let out = $body;
        $tx.audit().append(&audit("test")).await.unwrap();
        $tx.commit().await.unwrap();
        out
    }};
}

#[tokio::test]
async fn projects_round_trip_and_names_are_unique_per_org() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let got = w.store.projects().get(w.project.id).await.unwrap().unwrap();
    assert_eq!(got, w.project);

    let tx = w.store.begin().await.unwrap();
    let err = tx.projects().insert(&project(w.org.id, "ORDERS")).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { .. }), "{err:?}");
    drop(tx);
    let other = org("Other");
    write!(w.store, |tx| {
        tx.orgs().insert(&other).await.unwrap();
        tx.projects().insert(&project(other.id, "Orders")).await.unwrap();
    });

    let mut changed = got.clone();
    changed.name = ProjectName::parse("Orders API").unwrap();
    changed.state = ProjectState::Inactive;
    changed.role_assertion = true;
    write!(w.store, |tx| {
        let before = tx.projects().lock(changed.id).await.unwrap().unwrap();
        tx.projects().update(&before, &changed).await.unwrap()
    });
    assert_eq!(w.store.projects().get(w.project.id).await.unwrap().unwrap(), changed);

    let list = |filters, visibility| ProjectQuery { filters, visibility, sort: Default::default(), page: page() };
    let all = w.store.projects().list(&list(vec![], ProjectVisibility::all())).await.unwrap();
    assert_eq!(all.total, 2);
    let by_name = w
        .store
        .projects()
        .list(&list(
            vec![ProjectFilter::Name(TextFilter {
                value: "orders a".into(),
                method: TextMethod::StartsWithIgnoreCase,
            })],
            ProjectVisibility::all(),
        ))
        .await
        .unwrap();
    assert_eq!(by_name.items.iter().map(|p| p.id).collect::<Vec<_>>(), [w.project.id]);
    let only_project =
        ProjectVisibility { orgs: OrgFilter::Only(vec![]), projects: vec![w.project.id], own_user: None };
    let seen = w.store.projects().list(&list(vec![], only_project)).await.unwrap();
    assert_eq!(seen.total, 1);
    let nothing = ProjectVisibility { orgs: OrgFilter::Only(vec![]), projects: vec![], own_user: None };
    assert_eq!(w.store.projects().list(&list(vec![], nothing)).await.unwrap().total, 0);
    let by_org = ProjectVisibility { orgs: OrgFilter::Only(vec![other.id]), projects: vec![], own_user: None };
    assert_eq!(w.store.projects().list(&list(vec![ProjectFilter::Org(other.id)], by_org)).await.unwrap().total, 1);
}

#[tokio::test]
async fn roles_are_unique_per_project_and_listed_by_key() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let tx = w.store.begin().await.unwrap();
    let err = tx.projects().insert_role(&role(w.project.id, "reader")).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { .. }), "{err:?}");
    drop(tx);
    let q = |filters| RoleQuery { project: w.project.id, filters, sort: Default::default(), page: page() };
    let listed = w.store.projects().list_roles(&q(vec![])).await.unwrap();
    assert_eq!(listed.items.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["reader", "writer"]);
    let some = w.store.projects().list_roles(&q(vec![RoleFilter::Keys(vec![RoleKey::parse("writer").unwrap()])])).await;
    assert_eq!(some.unwrap().total, 1);

    let mut r = w.store.projects().get_role(w.project.id, &RoleKey::parse("reader").unwrap()).await.unwrap().unwrap();
    r.group = "ops".into();
    write!(w.store, |tx| {
        let before = tx.projects().get_role(r.project_id, &r.key).await.unwrap().unwrap();
        tx.projects().update_role(&before, &r).await.unwrap()
    });
    let got = w.store.projects().get_role(w.project.id, &r.key).await.unwrap().unwrap();
    assert_eq!(got.group, "ops");
    write!(w.store, |tx| tx.projects().delete_role(w.project.id, &r.key).await.unwrap());
    assert!(w.store.projects().get_role(w.project.id, &r.key).await.unwrap().is_none());
    let tx = w.store.begin().await.unwrap();
    assert!(matches!(tx.projects().delete_role(w.project.id, &r.key).await, Err(RepoError::NotFound { .. })));
}

fn app(project: ProjectId, name: &str, method: ApiAuthMethod) -> Application {
    let mut a = Application::new(project, AppName::parse(name).unwrap(), method, now());
    if method == ApiAuthMethod::Basic {
        a.secret_digest = Some(SecretDigest::from_bytes([9; 32]));
    }
    a
}

fn app_key(app: &Application, expires_in: Duration) -> AppKey {
    AppKey {
        id: AppKeyId::new(),
        app_id: app.id,
        key_type: PublicKeyType::Rsa,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----\n".into(),
        expires_at: now() + expires_in,
        created_at: now(),
    }
}

#[tokio::test]
async fn applications_are_found_for_client_authentication_by_client_id() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let basic = app(w.project.id, "api", ApiAuthMethod::Basic);
    let jwt = app(w.project.id, "jwt", ApiAuthMethod::PrivateKeyJwt);
    write!(w.store, |tx| {
        tx.applications().insert(&basic).await.unwrap();
        tx.applications().insert(&jwt).await.unwrap();
    });
    let tx = w.store.begin().await.unwrap();
    let err = tx.applications().insert(&app(w.project.id, "API", ApiAuthMethod::Basic)).await.unwrap_err();
    assert!(matches!(err, RepoError::AlreadyExists { .. }), "{err:?}");
    drop(tx);

    // (a) by client id: the application with its digest and the states above it.
    let found = w.store.applications().find_for_auth(&basic.client_id).await.unwrap().unwrap();
    assert_eq!(found.app.id, basic.id);
    assert_eq!(found.app.project_id, w.project.id);
    assert_eq!(found.org_id, w.org.id);
    assert_eq!(found.app.secret_digest.as_ref().unwrap().as_bytes(), &[9; 32]);
    assert!(found.is_active());
    assert!(w.store.applications().find_for_auth(&jwt.client_id).await.unwrap().unwrap().app.secret_digest.is_none());
    assert!(w.store.applications().find_for_auth("nope").await.unwrap().is_none());

    // Each level's suspension shows.
    let mut p = w.project.clone();
    p.state = ProjectState::Inactive;
    write!(w.store, |tx| {
        let before = tx.projects().lock(p.id).await.unwrap().unwrap();
        tx.projects().update(&before, &p).await.unwrap()
    });
    let found = w.store.applications().find_for_auth(&basic.client_id).await.unwrap().unwrap();
    assert_eq!(found.project_state, ProjectState::Inactive);
    assert!(!found.is_active());
    let mut o = w.org.clone();
    o.state = OrgState::Inactive;
    write!(w.store, |tx| {
        let before = tx.orgs().lock(o.id).await.unwrap().unwrap();
        tx.orgs().update(&before, &o).await.unwrap()
    });
    assert_eq!(
        w.store.applications().find_for_auth(&basic.client_id).await.unwrap().unwrap().org_state,
        OrgState::Inactive
    );
    let mut a = basic.clone();
    a.state = AppState::Inactive;
    a.secret_digest = None;
    write!(w.store, |tx| {
        let before = tx.applications().lock(a.id).await.unwrap().unwrap().app;
        tx.applications().update(&before, &a).await.unwrap()
    });
    let found = w.store.applications().find_for_auth(&basic.client_id).await.unwrap().unwrap();
    assert_eq!(found.app.state, AppState::Inactive);
    assert!(found.app.secret_digest.is_none());

    // Listing with filters and visibility.
    let q = |filters, visibility| AppQuery { filters, visibility, sort: Default::default(), page: page() };
    let listed =
        w.store.applications().list(&q(vec![AppFilter::Project(w.project.id)], ProjectVisibility::all())).await;
    assert_eq!(listed.unwrap().total, 2);
    let by_client = q(vec![AppFilter::ClientId(jwt.client_id.clone())], ProjectVisibility::all());
    assert_eq!(w.store.applications().list(&by_client).await.unwrap().items[0].app.id, jwt.id);
    let hidden = ProjectVisibility { orgs: OrgFilter::Only(vec![OrgId::new()]), projects: vec![], own_user: None };
    assert_eq!(w.store.applications().list(&q(vec![], hidden)).await.unwrap().total, 0);

    // Deleting the project deletes its applications.
    write!(w.store, |tx| tx.projects().delete(w.project.id).await.unwrap());
    assert!(w.store.applications().get(basic.id).await.unwrap().is_none());
}

#[tokio::test]
async fn application_keys_are_found_with_their_application() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let jwt = app(w.project.id, "jwt", ApiAuthMethod::PrivateKeyJwt);
    let key = app_key(&jwt, Duration::days(1));
    let expired = app_key(&jwt, Duration::seconds(-1));
    write!(w.store, |tx| {
        tx.applications().insert(&jwt).await.unwrap();
        tx.applications().insert_key(&key).await.unwrap();
        tx.applications().insert_key(&expired).await.unwrap();
    });

    // (b) by key id: public key, expiry and the application's state.
    let found = w.store.applications().find_key_for_auth(key.id).await.unwrap().unwrap();
    assert_eq!(found.key, key);
    assert_eq!(found.app.app.id, jwt.id);
    assert_eq!(found.app.app.client_id, jwt.client_id);
    assert_eq!(found.app.org_id, w.org.id);
    assert!(found.app.is_active());
    let found = w.store.applications().find_key_for_auth(expired.id).await.unwrap().unwrap();
    assert!(found.key.is_expired(now()));
    assert!(w.store.applications().find_key_for_auth(AppKeyId::new()).await.unwrap().is_none());

    let got = w.store.applications().get_key(key.id).await.unwrap().unwrap();
    assert_eq!((got.project_id, got.org_id), (w.project.id, w.org.id));
    let q =
        |filters| AppKeyQuery { filters, visibility: ProjectVisibility::all(), sort: Default::default(), page: page() };
    assert_eq!(w.store.applications().list_keys(&q(vec![AppKeyFilter::App(jwt.id)])).await.unwrap().total, 2);
    assert_eq!(w.store.applications().list_keys(&q(vec![AppKeyFilter::Org(OrgId::new())])).await.unwrap().total, 0);

    write!(w.store, |tx| tx.applications().delete_key(key.id).await.unwrap());
    assert!(w.store.applications().find_key_for_auth(key.id).await.unwrap().is_none());
    write!(w.store, |tx| tx.applications().delete(jwt.id).await.unwrap());
    assert!(w.store.applications().get_key(expired.id).await.unwrap().is_none(), "keys go with their application");
}

#[tokio::test]
async fn role_claims_come_from_active_authorizations_of_active_projects() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let second = project(w.org.id, "Billing");
    write!(w.store, |tx| {
        tx.projects().insert(&second).await.unwrap();
        tx.projects().insert_role(&role(second.id, "payer")).await.unwrap();
    });
    let on_orders = Authorization::new(w.user.id, w.project.id, w.org.id, keys(&["writer", "reader"]), now());
    let on_billing = Authorization::new(w.user.id, second.id, w.org.id, keys(&["payer"]), now());
    write!(w.store, |tx| {
        tx.authorizations().insert(&on_orders).await.unwrap();
        tx.authorizations().insert(&on_billing).await.unwrap();
    });
    let tx = w.store.begin().await.unwrap();
    let dup = Authorization::new(w.user.id, w.project.id, w.org.id, keys(&[]), now());
    assert!(matches!(tx.authorizations().insert(&dup).await, Err(RepoError::AlreadyExists { .. })));
    drop(tx);
    let tx = w.store.begin().await.unwrap();
    let other_user = machine(w.org.id, "other");
    tx.users().insert(&other_user).await.unwrap();
    let bad = Authorization::new(other_user.id, w.project.id, w.org.id, keys(&["nope"]), now());
    assert!(matches!(tx.authorizations().insert(&bad).await, Err(RepoError::MissingReference { .. })));
    drop(tx);

    // (c) on one project and on all.
    let on_project = w.store.authorizations().user_roles_on_project(w.user.id, w.project.id).await.unwrap();
    let pairs = |g: &[tessera_domain::repo::RoleGrant]| {
        g.iter()
            .map(|r| (r.project_id, r.role_key.as_str().to_owned(), r.org_id, r.org_name.to_string()))
            .collect::<Vec<_>>()
    };
    let acme = "Acme".to_owned();
    assert_eq!(
        pairs(&on_project),
        [
            (w.project.id, "reader".into(), w.org.id, acme.clone()),
            (w.project.id, "writer".into(), w.org.id, acme.clone())
        ]
    );
    let everywhere = w.store.authorizations().user_roles(w.user.id).await.unwrap();
    assert_eq!(everywhere.len(), 3);
    assert!(pairs(&everywhere).contains(&(second.id, "payer".into(), w.org.id, acme.clone())));

    // A removed role, an inactive authorization, an inactive project: gone at once.
    write!(w.store, |tx| tx.projects().delete_role(w.project.id, &RoleKey::parse("writer").unwrap()).await.unwrap());
    let on_project = w.store.authorizations().user_roles_on_project(w.user.id, w.project.id).await.unwrap();
    assert_eq!(pairs(&on_project), [(w.project.id, "reader".into(), w.org.id, acme.clone())]);
    let mut a = w.store.authorizations().get(on_orders.id).await.unwrap().unwrap().authorization;
    assert_eq!(a.roles, keys(&["reader"]));
    a.state = AuthorizationState::Inactive;
    write!(w.store, |tx| {
        let before = tx.authorizations().lock(a.id).await.unwrap().unwrap().authorization;
        tx.authorizations().update(&before, &a).await.unwrap()
    });
    assert!(w.store.authorizations().user_roles_on_project(w.user.id, w.project.id).await.unwrap().is_empty());
    let mut billing = second.clone();
    billing.state = ProjectState::Inactive;
    write!(w.store, |tx| {
        let before = tx.projects().lock(billing.id).await.unwrap().unwrap();
        tx.projects().update(&before, &billing).await.unwrap()
    });
    assert!(w.store.authorizations().user_roles(w.user.id).await.unwrap().is_empty());

    // Updating replaces the roles.
    a.state = AuthorizationState::Active;
    a.roles = keys(&[]);
    write!(w.store, |tx| {
        let before = tx.authorizations().lock(a.id).await.unwrap().unwrap().authorization;
        tx.authorizations().update(&before, &a).await.unwrap()
    });
    let got = w.store.authorizations().get(a.id).await.unwrap().unwrap();
    assert!(got.roles.is_empty());
    assert_eq!(got.project_name.as_str(), "Orders");
    assert_eq!(got.org_name.as_str(), "Acme");
    assert_eq!(got.username.as_str(), "robot");
}

#[tokio::test]
async fn authorizations_are_listed_with_names_filters_and_visibility() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let other = machine(w.org.id, "other");
    let a1 = Authorization::new(w.user.id, w.project.id, w.org.id, keys(&["reader"]), now());
    let a2 = Authorization::new(other.id, w.project.id, w.org.id, keys(&["reader", "writer"]), now());
    write!(w.store, |tx| {
        tx.users().insert(&other).await.unwrap();
        tx.authorizations().insert(&a1).await.unwrap();
        tx.authorizations().insert(&a2).await.unwrap();
    });
    let q = |filters, visibility| AuthorizationQuery { filters, visibility, sort: Default::default(), page: page() };
    let all = w.store.authorizations().list(&q(vec![], ProjectVisibility::all())).await.unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[1].roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["reader", "writer"]);
    let writers = w
        .store
        .authorizations()
        .list(&q(
            vec![AuthorizationFilter::RoleKey(TextFilter { value: "writer".into(), method: TextMethod::Equals })],
            ProjectVisibility::all(),
        ))
        .await
        .unwrap();
    assert_eq!(writers.items.iter().map(|v| v.authorization.id).collect::<Vec<_>>(), [a2.id]);
    let own = ProjectVisibility { orgs: OrgFilter::Only(vec![]), projects: vec![], own_user: Some(w.user.id) };
    let mine = w.store.authorizations().list(&q(vec![], own)).await.unwrap();
    assert_eq!(mine.items.iter().map(|v| v.authorization.id).collect::<Vec<_>>(), [a1.id]);
    let by_project = ProjectVisibility { orgs: OrgFilter::Only(vec![]), projects: vec![w.project.id], own_user: None };
    assert_eq!(w.store.authorizations().list(&q(vec![], by_project)).await.unwrap().total, 2);

    // Deleting the user deletes its authorizations; deleting the project, the rest
    // and the memberships on it.
    write!(w.store, |tx| tx.users().delete(other.id).await.unwrap());
    assert!(w.store.authorizations().get(a2.id).await.unwrap().is_none());
    let member = Administrator::new(
        w.user.id,
        Scope::Project(w.project.id),
        RoleSet::for_scope(Scope::Project(w.project.id), [Role::ProjectOwner]).unwrap(),
        now(),
    );
    write!(w.store, |tx| tx.admins().insert(&member).await.unwrap());
    write!(w.store, |tx| tx.projects().delete(w.project.id).await.unwrap());
    assert!(w.store.authorizations().get(a1.id).await.unwrap().is_none());
    assert!(w.store.admins().get_by_id(member.id).await.unwrap().is_none());
}

#[tokio::test]
async fn deleting_an_organization_deletes_its_projects_and_their_memberships() {
    let db = TestDb::new().await;
    let w = world(&db).await;
    let other = org("Other");
    let elsewhere = project(other.id, "Elsewhere");
    let scope = Scope::Project(w.project.id);
    let member = Administrator::new(w.user.id, scope, RoleSet::for_scope(scope, [Role::ProjectOwner]).unwrap(), now());
    let other_scope = Scope::Project(elsewhere.id);
    let kept = Administrator::new(
        w.user.id,
        other_scope,
        RoleSet::for_scope(other_scope, [Role::ProjectOwner]).unwrap(),
        now(),
    );
    let doomed = org("Doomed");
    let doomed_project = project(doomed.id, "Doomed project");
    let doomed_scope = Scope::Project(doomed_project.id);
    let gone = Administrator::new(
        w.user.id,
        doomed_scope,
        RoleSet::for_scope(doomed_scope, [Role::ProjectOwnerViewer]).unwrap(),
        now(),
    );
    write!(w.store, |tx| {
        tx.orgs().insert(&other).await.unwrap();
        tx.orgs().insert(&doomed).await.unwrap();
        tx.projects().insert(&elsewhere).await.unwrap();
        tx.projects().insert(&doomed_project).await.unwrap();
        tx.admins().insert(&member).await.unwrap();
        tx.admins().insert(&kept).await.unwrap();
        tx.admins().insert(&gone).await.unwrap();
    });
    write!(w.store, |tx| tx.orgs().delete(doomed.id).await.unwrap());
    assert!(w.store.projects().get(doomed_project.id).await.unwrap().is_none());
    assert!(w.store.admins().get_by_id(gone.id).await.unwrap().is_none());
    assert!(w.store.admins().get_by_id(member.id).await.unwrap().is_some());
    assert!(w.store.admins().get_by_id(kept.id).await.unwrap().is_some());
}
