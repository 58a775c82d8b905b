//! No change is ever lost (DESIGN.md §7, docs/architecture.md): every pair of
//! use cases that touch one row runs against each other, in-process on the real
//! store (SQLite here, PostgreSQL when `TESSERA_TEST_POSTGRES_URL` is set, as CI
//! does in its second pass).
//!
//! Each pair is tested twice:
//! - **forced**: a test hook holds the first use case after its reads and slow
//!   work, right before its writing transaction, while the rival commits — the
//!   interleaving that used to lose the rival's change, every time;
//! - **raced**: both run at once, [`ROUNDS`] times, and no round may lose either
//!   change.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::SecretString;
use tessera_core::applications::{AppStateChange, AppUpdate, NewApp};
use tessera_core::authorizations::{AuthorizationStateChange, NewAuthorization};
use tessera_core::orgs::OrgStateChange;
use tessera_core::projects::{NewProject, ProjectStateChange, ProjectUpdate};
use tessera_core::users::{HumanUpdate, MachineUpdate, NewHuman, NewMachine, UserUpdate};
use tessera_core::{
    Actor, Core, Ctx, Hooks, SeededRandom, applications, authorizations, load_grants, orgs, projects, users,
};
use tessera_core::{ServiceError, pats};
use tessera_domain::application::{ApiAuthMethod, AppName, AppState};
use tessera_domain::authorization::AuthorizationState;
use tessera_domain::names::{Description, DisplayName, Email, OrgName, Username};
use tessera_domain::org::OrgState;
use tessera_domain::permission::{Grants, Role, Scope};
use tessera_domain::project::{ProjectName, ProjectState, RoleKey};
use tessera_domain::repo::Store;
use tessera_domain::user::{AccessTokenType, StateChange, User, UserKind, UserState};
use tessera_domain::{OrgId, SystemClock, UserId};
use tessera_oauth::password::{PasswordHasher, PasswordParams};
use tessera_persistence::testing::TestDb;
use tokio::sync::Notify;

/// Rounds of each raced pair.
const ROUNDS: usize = 500;

/// Holds the use case named `at` before its transaction until released.
struct Gate {
    at: &'static str,
    reached: Notify,
    release: Notify,
    armed: Mutex<bool>,
}

impl Gate {
    fn new(at: &'static str) -> Arc<Self> {
        Arc::new(Self { at, reached: Notify::new(), release: Notify::new(), armed: Mutex::new(true) })
    }
}

#[async_trait]
impl Hooks for Gate {
    async fn before_transaction(&self, use_case: &'static str, _target: uuid::Uuid) {
        let hold = use_case == self.at && std::mem::replace(&mut *self.armed.lock().unwrap(), false);
        if hold {
            self.reached.notify_one();
            self.release.notified().await;
        }
    }
}

/// A fresh instance: one organization and an instance owner to act as.
struct World {
    _db: TestDb,
    core: Core,
    admin: Actor,
    org: OrgId,
}

impl World {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let store: Arc<dyn Store> = Arc::new(db.store().await);
        // Cheap argon2: the pairs test ordering, not hashing cost.
        let hasher = PasswordHasher::new(PasswordParams { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap();
        let core = Core::new(store.clone(), Arc::new(SystemClock), Arc::new(SeededRandom::new(42)), hasher);
        let org = tessera_domain::org::Organization::new(OrgName::parse("acme").unwrap(), chrono::Utc::now());
        let owner = User::new_machine(
            org.id,
            Username::parse("owner").unwrap(),
            tessera_domain::user::Machine {
                name: DisplayName::parse("name", "owner").unwrap(),
                description: Description::parse("").unwrap(),
                access_token_type: AccessTokenType::Bearer,
            },
            chrono::Utc::now(),
        );
        let roles = tessera_domain::admin::RoleSet::for_scope(Scope::Instance, [Role::IamOwner]).unwrap();
        let tx = store.begin().await.unwrap();
        tx.orgs().insert(&org).await.unwrap();
        tx.users().insert(&owner).await.unwrap();
        tx.admins()
            .insert(&tessera_domain::admin::Administrator::new(owner.id, Scope::Instance, roles, chrono::Utc::now()))
            .await
            .unwrap();
        tx.audit()
            .append(&tessera_domain::audit::AuditEvent::new(
                chrono::Utc::now(),
                None,
                "test.setup",
                "org",
                org.id,
                None,
            ))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let grants = load_grants(store.as_ref(), owner.id).await.unwrap();
        Self { _db: db, core, admin: Actor::system(owner.id, org.id, grants), org: org.id }
    }

    fn ctx(&self) -> Ctx {
        self.core.ctx(self.admin.clone())
    }

    /// Runs `a` and `b` at the same moment on two tasks, each with its own
    /// administrator context, and returns both answers.
    async fn race<A, B, FA, FB>(&self, a: impl FnOnce(Ctx) -> FA, b: impl FnOnce(Ctx) -> FB) -> (A, B)
    where
        FA: Future<Output = A> + Send + 'static,
        FB: Future<Output = B> + Send + 'static,
        A: Send + 'static,
        B: Send + 'static,
    {
        let (a, b) = tokio::join!(tokio::spawn(a(self.ctx())), tokio::spawn(b(self.ctx())));
        (a.expect("the first task"), b.expect("the second task"))
    }

    /// A context whose use cases stop at `gate`.
    fn gated(&self, gate: &Arc<Gate>) -> Ctx {
        self.core.clone().with_hooks(gate.clone()).ctx(self.admin.clone())
    }

    async fn user(&self, id: UserId) -> Option<User> {
        self.core.store.users().get(id).await.unwrap()
    }

    async fn machine(&self, name: &str) -> User {
        users::create_machine(
            &self.ctx(),
            NewMachine {
                org_id: Some(self.org),
                user_id: None,
                username: Some(Username::parse(name).unwrap()),
                name: DisplayName::parse("name", name).unwrap(),
                description: Description::parse("").unwrap(),
                access_token_type: AccessTokenType::Bearer,
            },
        )
        .await
        .unwrap()
    }

    async fn human(&self, name: &str) -> User {
        users::create_human(
            &self.ctx(),
            NewHuman {
                org_id: Some(self.org),
                user_id: None,
                username: Some(Username::parse(name).unwrap()),
                given_name: DisplayName::parse("givenName", "Ada").unwrap(),
                family_name: DisplayName::parse("familyName", "Lovelace").unwrap(),
                display_name: None,
                email: Email::parse(&format!("{name}@example.com")).unwrap(),
                email_verified: true,
                password: Some(SecretString::from("first password")),
            },
        )
        .await
        .unwrap()
    }
}

fn rename_machine(to: &str) -> UserUpdate {
    UserUpdate {
        machine: Some(MachineUpdate { description: Some(Description::parse(to).unwrap()), ..Default::default() }),
        ..Default::default()
    }
}

fn new_password(p: &str) -> UserUpdate {
    UserUpdate {
        human: Some(HumanUpdate { password: Some(SecretString::from(p.to_owned())), ..Default::default() }),
        ..Default::default()
    }
}

fn description(u: &User) -> String {
    match &u.kind {
        UserKind::Machine(m) => m.description.as_str().to_owned(),
        UserKind::Human(_) => String::new(),
    }
}

fn password_phc(u: &User) -> String {
    match &u.kind {
        UserKind::Human(h) => h.password_hash.as_ref().map(|p| p.as_phc().to_owned()).unwrap_or_default(),
        UserKind::Machine(_) => String::new(),
    }
}

/// The state a change leaves, and the change that undoes it.
fn undo(change: StateChange) -> (UserState, StateChange) {
    match change {
        StateChange::Deactivate => (UserState::Inactive, StateChange::Reactivate),
        StateChange::Lock => (UserState::Locked, StateChange::Unlock),
        StateChange::Reactivate | StateChange::Unlock => unreachable!("only suspensions are raced"),
    }
}

// ---- users ---------------------------------------------------------------------

/// Forced: a human's password change is held between its hashing and its
/// transaction while the user is suspended; both changes survive.
async fn forced_password_change_against(change: StateChange) {
    let w = World::new().await;
    let user = w.human("ada").await;
    let before = password_phc(&user);
    let gate = Gate::new("user.update");
    let ctx = w.gated(&gate);
    let update = tokio::spawn(async move { users::update(&ctx, user.id, new_password("second password")).await });
    gate.reached.notified().await;
    users::change_state(&w.ctx(), user.id, change).await.unwrap();
    gate.release.notify_one();
    update.await.unwrap().unwrap();
    let after = w.user(user.id).await.unwrap();
    assert_eq!(after.state, undo(change).0, "the suspension was undone by the password change");
    assert_ne!(password_phc(&after), before, "the password change was lost");
}

#[tokio::test]
async fn a_password_change_never_undoes_a_deactivation() {
    forced_password_change_against(StateChange::Deactivate).await;
}

#[tokio::test]
async fn a_password_change_never_undoes_a_lock() {
    forced_password_change_against(StateChange::Lock).await;
}

/// Forced: a machine's update is held while the user is suspended.
async fn forced_machine_update_against(change: StateChange) {
    let w = World::new().await;
    let user = w.machine("deployer").await;
    let gate = Gate::new("user.update");
    let ctx = w.gated(&gate);
    let update = tokio::spawn(async move { users::update(&ctx, user.id, rename_machine("changed")).await });
    gate.reached.notified().await;
    users::change_state(&w.ctx(), user.id, change).await.unwrap();
    gate.release.notify_one();
    update.await.unwrap().unwrap();
    let after = w.user(user.id).await.unwrap();
    assert_eq!(after.state, undo(change).0);
    assert_eq!(description(&after), "changed");
}

#[tokio::test]
async fn a_machine_update_never_undoes_a_deactivation() {
    forced_machine_update_against(StateChange::Deactivate).await;
}

#[tokio::test]
async fn a_machine_update_never_undoes_a_lock() {
    forced_machine_update_against(StateChange::Lock).await;
}

#[tokio::test]
async fn an_update_held_across_a_deletion_finds_the_user_gone() {
    let w = World::new().await;
    let user = w.machine("doomed").await;
    let gate = Gate::new("user.update");
    let ctx = w.gated(&gate);
    let update = tokio::spawn(async move { users::update(&ctx, user.id, rename_machine("changed")).await });
    gate.reached.notified().await;
    users::delete(&w.ctx(), user.id).await.unwrap();
    gate.release.notify_one();
    assert!(matches!(update.await.unwrap(), Err(ServiceError::NotFound(_))));
    assert!(w.user(user.id).await.is_none(), "the update brought the deleted user back");
}

/// Raced: update and suspension at once, [`ROUNDS`] times on one user.
async fn raced_update_against(human: bool, change: StateChange) {
    let w = World::new().await;
    let user = if human { w.human("grace").await } else { w.machine("runner").await };
    let (suspended, resume) = undo(change);
    for round in 0..ROUNDS {
        let label = format!("r{round}");
        let update = if human { new_password(&label) } else { rename_machine(&label) };
        let before = w.user(user.id).await.unwrap();
        let (updated, changed) = w
            .race(
                move |a| async move { users::update(&a, user.id, update).await },
                move |b| async move { users::change_state(&b, user.id, change).await },
            )
            .await;
        updated.unwrap();
        changed.unwrap();
        let after = w.user(user.id).await.unwrap();
        assert_eq!(after.state, suspended, "round {round}: the suspension was lost");
        if human {
            assert_ne!(password_phc(&after), password_phc(&before), "round {round}: the password change was lost");
        } else {
            assert_eq!(description(&after), label, "round {round}: the update was lost");
        }
        users::change_state(&w.ctx(), user.id, resume).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_machine_update_and_deactivation_lose_nothing() {
    raced_update_against(false, StateChange::Deactivate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_machine_update_and_lock_lose_nothing() {
    raced_update_against(false, StateChange::Lock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_password_change_and_deactivation_lose_nothing() {
    raced_update_against(true, StateChange::Deactivate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_password_change_and_lock_lose_nothing() {
    raced_update_against(true, StateChange::Lock).await;
}

/// Raced: update and deletion at once, [`ROUNDS`] times, each on a new user.
async fn raced_update_against_deletion(human: bool) {
    let w = World::new().await;
    for round in 0..ROUNDS {
        let name = format!("temp{round}");
        let user = if human { w.human(&name).await } else { w.machine(&name).await };
        let update = if human { new_password("late password") } else { rename_machine("late") };
        let (updated, deleted) = w
            .race(
                move |a| async move { users::update(&a, user.id, update).await },
                move |b| async move { users::delete(&b, user.id).await },
            )
            .await;
        deleted.unwrap();
        match updated {
            Ok(_) | Err(ServiceError::NotFound(_)) => {}
            Err(e) => panic!("round {round}: {e:?}"),
        }
        assert!(w.user(user.id).await.is_none(), "round {round}: the deleted user came back");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_update_and_deletion_never_resurrect_a_user() {
    raced_update_against_deletion(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_password_change_and_deletion_never_resurrect_a_user() {
    raced_update_against_deletion(true).await;
}

/// A machine user with no roles updating itself with its own credential, in a
/// loop, while an administrator deactivates it: the credential cannot keep
/// itself alive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_update_loop_never_undoes_a_deactivation() {
    let w = World::new().await;
    let user = w.machine("selfish").await;
    let own = w.core.ctx(Actor::system(user.id, user.org_id, Grants::none()));
    for round in 0..ROUNDS {
        let looping = own.clone();
        let updates = tokio::spawn(async move {
            for i in 0..3 {
                // Refused (not_found is impossible, the user stays) or applied.
                let _ = users::update(&looping, user.id, rename_machine(&format!("{round}-{i}"))).await;
            }
        });
        users::change_state(&w.ctx(), user.id, StateChange::Deactivate).await.unwrap();
        updates.await.unwrap();
        assert_eq!(w.user(user.id).await.unwrap().state, UserState::Inactive, "round {round}");
        users::change_state(&w.ctx(), user.id, StateChange::Reactivate).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_pat_creation_and_removal_keep_every_answer_true() {
    let w = World::new().await;
    let user = w.machine("tokens").await;
    for round in 0..ROUNDS / 5 {
        let (pat, _) = pats::add(&w.ctx(), user.id, None, None).await.unwrap();
        let (added, removed) = w
            .race(
                move |a| async move { pats::add(&a, user.id, None, None).await },
                move |b| async move { pats::remove(&b, user.id, pat.id).await },
            )
            .await;
        let (added, _) = added.unwrap();
        removed.unwrap();
        let store = &w.core.store;
        assert!(store.pats().get(pat.id).await.unwrap().is_none(), "round {round}: the removed PAT is back");
        assert!(store.pats().get(added.id).await.unwrap().is_some(), "round {round}: the new PAT is lost");
    }
}

// ---- applications ------------------------------------------------------------

async fn basic_app(w: &World) -> (tessera_domain::ProjectId, tessera_domain::ApplicationId) {
    let project = projects::create(
        &w.ctx(),
        NewProject {
            org_id: Some(w.org),
            id: None,
            name: ProjectName::parse("api").unwrap(),
            role_assertion: false,
            authorization_required: false,
            project_access_required: false,
        },
    )
    .await
    .unwrap();
    let (app, _) = applications::create(
        &w.ctx(),
        NewApp {
            project_id: project.id,
            id: None,
            name: AppName::parse("backend").unwrap(),
            auth_method: ApiAuthMethod::Basic,
        },
    )
    .await
    .unwrap();
    (project.id, app.app.id)
}

fn digest(app: &tessera_domain::application::Application) -> Option<Vec<u8>> {
    app.secret_digest.as_ref().map(|d| d.as_bytes().to_vec())
}

fn rename_app(to: &str) -> AppUpdate {
    AppUpdate { name: Some(AppName::parse(to).unwrap()), auth_method: None }
}

#[tokio::test]
async fn an_application_update_never_undoes_a_secret_rotation() {
    let w = World::new().await;
    let (_, app) = basic_app(&w).await;
    let gate = Gate::new("application.changed");
    let ctx = w.gated(&gate);
    let update = tokio::spawn(async move { applications::update(&ctx, app, None, rename_app("renamed")).await });
    gate.reached.notified().await;
    let (rotated, _secret) = applications::generate_secret(&w.ctx(), app, None).await.unwrap();
    gate.release.notify_one();
    update.await.unwrap().unwrap();
    let stored = w.core.store.applications().get(app).await.unwrap().unwrap().app;
    assert_eq!(stored.name.as_str(), "renamed");
    assert_eq!(digest(&stored), digest(&rotated.app), "the rotated-out secret is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_application_update_and_secret_rotation_lose_nothing() {
    let w = World::new().await;
    let (_, app) = basic_app(&w).await;
    for round in 0..ROUNDS {
        let name = format!("app-{round}");
        let to = rename_app(&name);
        let (updated, rotated) = w
            .race(
                move |a| async move { applications::update(&a, app, None, to).await },
                move |b| async move { applications::generate_secret(&b, app, None).await },
            )
            .await;
        updated.unwrap();
        let (rotated, _) = rotated.unwrap();
        let stored = w.core.store.applications().get(app).await.unwrap().unwrap().app;
        assert_eq!(stored.name.as_str(), name, "round {round}: the rename was lost");
        assert_eq!(digest(&stored), digest(&rotated.app), "round {round}: the rotation was lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_application_update_and_deactivation_lose_nothing() {
    let w = World::new().await;
    let (_, app) = basic_app(&w).await;
    for round in 0..ROUNDS {
        let name = format!("app-{round}");
        let to = rename_app(&name);
        let (updated, deactivated) = w
            .race(
                move |a| async move { applications::update(&a, app, None, to).await },
                move |b| async move { applications::change_state(&b, app, None, AppStateChange::Deactivate).await },
            )
            .await;
        updated.unwrap();
        deactivated.unwrap();
        let stored = w.core.store.applications().get(app).await.unwrap().unwrap().app;
        assert_eq!(stored.name.as_str(), name, "round {round}: the rename was lost");
        assert_eq!(stored.state, AppState::Inactive, "round {round}: the deactivation was lost");
        applications::change_state(&w.ctx(), app, None, AppStateChange::Reactivate).await.unwrap();
    }
}

// ---- organizations, projects, authorizations -------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_organization_rename_and_deactivation_lose_nothing() {
    let w = World::new().await;
    let org =
        orgs::add(&w.ctx(), orgs::NewOrg { id: None, name: OrgName::parse("tenant").unwrap(), admins: Vec::new() })
            .await
            .unwrap()
            .org;
    for round in 0..ROUNDS {
        let name = format!("tenant-{round}");
        let to = OrgName::parse(&name).unwrap();
        let (renamed, deactivated) = w
            .race(
                move |a| async move { orgs::rename(&a, org.id, to).await },
                move |b| async move { orgs::change_state(&b, org.id, OrgStateChange::Deactivate).await },
            )
            .await;
        renamed.unwrap();
        deactivated.unwrap();
        let stored = w.core.store.orgs().get(org.id).await.unwrap().unwrap();
        assert_eq!(stored.name.as_str(), name, "round {round}: the rename was lost");
        assert_eq!(stored.state, OrgState::Inactive, "round {round}: the deactivation was lost");
        orgs::change_state(&w.ctx(), org.id, OrgStateChange::Activate).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_project_update_and_deactivation_lose_nothing() {
    let w = World::new().await;
    let (project, _) = basic_app(&w).await;
    for round in 0..ROUNDS {
        let name = format!("api-{round}");
        let to = ProjectUpdate { name: Some(ProjectName::parse(&name).unwrap()), ..Default::default() };
        let (updated, deactivated) = w
            .race(
                move |a| async move { projects::update(&a, project, to).await },
                move |b| async move { projects::change_state(&b, project, ProjectStateChange::Deactivate).await },
            )
            .await;
        updated.unwrap();
        deactivated.unwrap();
        let stored = w.core.store.projects().get(project).await.unwrap().unwrap();
        assert_eq!(stored.name.as_str(), name, "round {round}: the update was lost");
        assert_eq!(stored.state, ProjectState::Inactive, "round {round}: the deactivation was lost");
        projects::change_state(&w.ctx(), project, ProjectStateChange::Activate).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raced_authorization_update_and_deactivation_lose_nothing() {
    let w = World::new().await;
    let (project, _) = basic_app(&w).await;
    for key in ["reader", "writer"] {
        let (name, group) = (DisplayName::parse("displayName", key).unwrap(), String::new());
        projects::add_role(&w.ctx(), project, RoleKey::parse(key).unwrap(), name, group).await.unwrap();
    }
    let user = w.machine("granted").await;
    let grant = authorizations::create(
        &w.ctx(),
        NewAuthorization { user_id: user.id, project_id: project, org_id: None, roles: Default::default() },
    )
    .await
    .unwrap()
    .authorization;
    for round in 0..ROUNDS {
        let key = if round % 2 == 0 { "reader" } else { "writer" };
        let roles = [RoleKey::parse(key).unwrap()].into_iter().collect();
        let (updated, deactivated) = w
            .race(
                move |a| async move { authorizations::update(&a, grant.id, roles).await },
                move |b| async move {
                    authorizations::change_state(&b, grant.id, AuthorizationStateChange::Deactivate).await
                },
            )
            .await;
        updated.unwrap();
        deactivated.unwrap();
        let stored = w.core.store.authorizations().get(grant.id).await.unwrap().unwrap().authorization;
        assert!(stored.roles.iter().map(RoleKey::as_str).eq([key]), "round {round}: the update was lost");
        assert_eq!(stored.state, AuthorizationState::Inactive, "round {round}: the deactivation was lost");
        authorizations::change_state(&w.ctx(), grant.id, AuthorizationStateChange::Activate).await.unwrap();
    }
}
