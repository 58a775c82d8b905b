//! First-instance bootstrap (DESIGN.md §2): on an empty database, create the
//! instance, its first organization, an admin machine user holding `IAM_OWNER`
//! with a PAT written to `admin.pat`, and a human console admin holding
//! `IAM_OWNER` with a generated password written to `admin.password`.
//!
//! Crash safety: the two files are staged (`*.new`, mode 0600, synced) *before*
//! the database transaction commits and moved into place after it. A crash before
//! the commit leaves an empty database and the next start begins again; a crash
//! after it leaves staged files that the next start moves into place. Either way
//! the only copy of a secret is never lost. Two nodes racing on one empty database
//! cannot both succeed: the instance row is a singleton.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use tessera_core::{Actor, Core, RngRef};
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::audit::AuditEvent;
use tessera_domain::instance::Instance;
use tessera_domain::names::{Description, DisplayName, Email, OrgName, Username};
use tessera_domain::org::Organization;
use tessera_domain::pat::PersonalAccessToken;
use tessera_domain::permission::{Grants, Role, Scope};
use tessera_domain::repo::{RepoError, Store};
use tessera_domain::user::{AccessTokenType, Human, Machine, User};
use tessera_domain::{InstanceId, ValidationError};
use tessera_oauth::password::{PasswordHasher, generate_password};

use crate::files;
use crate::settings::Settings;

/// What the bootstrap did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The instance was created now; the credentials are in these files.
    Created {
        /// The admin PAT.
        pat_path: PathBuf,
        /// The console password.
        password_path: PathBuf,
    },
    /// The instance already existed; nothing was changed (apart from moving
    /// credentials staged by an interrupted earlier start into place).
    AlreadyDone,
}

/// Why the bootstrap failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A configured name is not valid.
    #[error("bootstrap setting rejected: {0}")]
    Invalid(#[from] ValidationError),
    /// The database refused.
    #[error("bootstrap failed in the database: {0}")]
    Store(#[from] RepoError),
    /// A credential file could not be written.
    #[error("cannot write {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Hashing the password failed.
    #[error("cannot hash the console admin password: {0}")]
    Password(String),
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> BootstrapError + '_ {
    move |source| BootstrapError::File { path: path.to_owned(), source }
}

/// Moves credential files staged by an interrupted start into place.
fn recover_staged(paths: &[&Path]) -> Result<(), BootstrapError> {
    for path in paths {
        if files::staged_path(path).exists() && !path.exists() {
            files::commit_staged(path).map_err(file_err(path))?;
            tracing::info!(path = %path.display(), "moved a credential file staged by an interrupted start into place");
        }
    }
    Ok(())
}

/// Creates the first instance unless the database already has one.
///
/// # Errors
/// On invalid bootstrap settings, a database failure or an unwritable file.
pub async fn ensure_first_instance(core: &Core, settings: &Settings) -> Result<Outcome, BootstrapError> {
    let (store, clock, hasher) = (core.store.as_ref(), core.clock.as_ref(), &core.hasher);
    let pat_path = settings.pat_path();
    let password_path = settings.password_path();
    if store.instance().get().await?.is_some() {
        recover_staged(&[&pat_path, &password_path])?;
        return Ok(Outcome::AlreadyDone);
    }

    let now = clock.now();
    let cfg = &settings.bootstrap;
    let org = Organization::new(OrgName::parse(&cfg.org_name)?, now);
    let instance = Instance { id: InstanceId::new(), name: "Tessera".into(), default_org_id: org.id, created_at: now };
    let machine = User::new_machine(
        org.id,
        Username::parse(&cfg.machine_username)?,
        Machine {
            name: DisplayName::parse("name", "Instance administrator (service account)")?,
            description: Description::parse("Created by the first start; its PAT is in admin.pat.")?,
            access_token_type: AccessTokenType::Bearer,
        },
        now,
    );
    let password = generate_password(&mut RngRef::new(core.rng.as_ref()));
    let password_hash = {
        let hasher = hasher.clone();
        let password = password.clone();
        tokio::task::spawn_blocking(move || hasher.hash(&password))
            .await
            .map_err(|e| BootstrapError::Password(e.to_string()))?
            .map_err(|e| BootstrapError::Password(e.to_string()))?
    };
    let human = User::new_human(
        org.id,
        Username::parse(&cfg.human_username)?,
        Human {
            given_name: DisplayName::parse("givenName", "Tessera")?,
            family_name: DisplayName::parse("familyName", "Administrator")?,
            display_name: DisplayName::parse("displayName", "Tessera Administrator")?,
            email: Email::parse(&if cfg.human_username.contains('@') {
                cfg.human_username.clone()
            } else {
                format!("{}@localhost", cfg.human_username)
            })?,
            email_verified: true,
            password_hash: Some(password_hash),
        },
        now,
    );
    // The PAT comes from the same use case as every other PAT; the system
    // acts for the new machine user, which holds IAM_OWNER once committed.
    let system = Actor::system(machine.id, org.id, Grants::new(vec![(Scope::Instance, Role::IamOwner)]));
    let (pat, token) = tessera_core::pats::mint(&core.ctx(system), machine.id, None);

    files::stage_private(&pat_path, format!("{}\n", token.expose_secret()).as_bytes()).map_err(file_err(&pat_path))?;
    files::stage_private(&password_path, format!("{}\n", password.expose_secret()).as_bytes())
        .map_err(file_err(&password_path))?;

    let records = Records { org: &org, instance: &instance, machine: &machine, human: &human, pat: &pat };
    if let Err(err) = records.commit(store).await {
        // Another node bootstrapped the same database first: use its instance.
        if store.instance().get().await?.is_some() {
            for path in [&pat_path, &password_path] {
                let _ = std::fs::remove_file(files::staged_path(path));
            }
            return Ok(Outcome::AlreadyDone);
        }
        return Err(err);
    }
    files::commit_staged(&pat_path).map_err(file_err(&pat_path))?;
    files::commit_staged(&password_path).map_err(file_err(&password_path))?;
    Ok(Outcome::Created { pat_path, password_path })
}

/// A password hasher for the bootstrap, with ZITADEL's (OWASP) defaults.
///
/// # Errors
/// Never with the default parameters.
pub fn default_hasher() -> Result<PasswordHasher, BootstrapError> {
    PasswordHasher::new(tessera_oauth::password::PasswordParams::default())
        .map_err(|e| BootstrapError::Password(e.to_string()))
}

/// Everything the bootstrap writes, committed in one transaction.
struct Records<'a> {
    org: &'a Organization,
    instance: &'a Instance,
    machine: &'a User,
    human: &'a User,
    pat: &'a PersonalAccessToken,
}

impl Records<'_> {
    async fn commit(&self, store: &dyn Store) -> Result<(), BootstrapError> {
        let now = self.instance.created_at;
        let tx = store.begin().await?;
        tx.orgs().insert(self.org).await?;
        tx.instance().insert(self.instance).await?;
        for user in [self.machine, self.human] {
            tx.users().insert(user).await?;
            let roles = RoleSet::for_scope(Scope::Instance, [Role::IamOwner])?;
            tx.admins().insert(&Administrator::new(user.id, Scope::Instance, roles, now)).await?;
        }
        tx.pats().insert(self.pat).await?;
        let event = |action: &str, target_type: &str, target: String| {
            AuditEvent::new(now, None, action, target_type, target, Some(self.org.id))
        };
        for e in [
            event("instance.bootstrapped", "instance", self.instance.id.to_string()),
            event("organization.created", "organization", self.org.id.to_string()),
            event("user.machine.created", "user", self.machine.id.to_string()),
            event("user.human.created", "user", self.human.id.to_string()),
            event("administrator.created", "user", self.machine.id.to_string()),
            event("administrator.created", "user", self.human.id.to_string()),
            event("pat.created", "personal_access_token", self.pat.id.to_string()),
        ] {
            tx.audit().append(&e).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
