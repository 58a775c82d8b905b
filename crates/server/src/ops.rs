//! The operator commands that work on a server's database, stopped or running:
//! `tessera backup`, `tessera keys list|rotate` and `tessera masterkey rotate`
//! (docs/operator/backups.md, docs/operator/key-rotation.md). They read the
//! server configuration like `migrate`, never generate a master key, and
//! never print key material.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use tessera_domain::repo::Repos;
use tessera_domain::{Clock, SigningKeyId, SystemClock, Timestamp};
use tessera_oauth::keyring::{self, KeyRingError};
use tessera_oauth::sealing::Sealer;
use tessera_oauth::signing::{self, KeyKind};
use tessera_persistence::{BackupError, SeaStore};

use crate::cli::{Expiry, KeyKindArgs, KeysAction, MasterkeyAction};
use crate::masterkey::{self, MasterKeyError};
use crate::settings::Settings;
use crate::start::{self, StartError};

/// An operator command's failure, worded as one line.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Opening the database failed (the same wording as `start`).
    #[error(transparent)]
    Start(#[from] StartError),
    /// The default SQLite database does not exist yet.
    #[error("no database at {0} (data_dir, TESSERA_DATA_DIR); nothing to work on")]
    NoDatabase(PathBuf),
    /// `backup` never overwrites.
    #[error("{0} already exists; a backup never overwrites a file, choose a new name")]
    BackupExists(PathBuf),
    /// The backup file could not be written.
    #[error("cannot write the backup {path}: {source}")]
    BackupIo {
        /// The backup file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// On PostgreSQL, `pg_dump` is the backup tool.
    #[error(
        "tessera backup copies the embedded SQLite database; on PostgreSQL use pg_dump, e.g. `pg_dump --format=custom --file=tessera.dump \"$TESSERA_DATABASE__URL\"` (docs/operator/backups.md)"
    )]
    UsePgDump,
    /// SQLite failed to copy.
    #[error("backup failed: {0}")]
    Backup(BackupError),
    /// Key commands need the current schema.
    #[error("the database schema is not up to date; run `tessera migrate` first")]
    SchemaBehind,
    /// The master key is missing or unreadable.
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    /// The new master key file is missing.
    #[error("new master key file {0} does not exist (--new-key-file)")]
    NewKeyMissing(PathBuf),
    /// The new master key equals the current one.
    #[error("the new master key is the one in use; nothing to do")]
    SameKey,
    /// The signing keys could not be read, opened or written.
    #[error("{0} (masterkey, TESSERA_MASTERKEY)")]
    Keys(#[from] KeyRingError),
    /// A value in the settings is invalid.
    #[error("{0}")]
    Settings(String),
    /// A key change was refused (no such key, the active key, too many keys).
    #[error("{0}")]
    KeyChange(KeyRingError),
    /// `--sign-from` lies in the past.
    #[error("--sign-from must not be in the past")]
    SignFromPast,
}

/// Opens the configured database without creating it.
async fn open_existing(settings: &Settings) -> Result<SeaStore, OpsError> {
    if settings.database.url.is_none() {
        let path = settings.data_dir.join("tessera.db");
        if !path.exists() {
            return Err(OpsError::NoDatabase(path));
        }
    }
    Ok(start::open_store(settings).await?)
}

/// Opens the database and checks that every migration is applied.
async fn open_current(settings: &Settings) -> Result<SeaStore, OpsError> {
    let store = open_existing(settings).await?;
    let status = store.migration_status().await.map_err(StartError::from);
    match status {
        Ok(s) if s.iter().all(|m| m.applied) => Ok(store),
        Ok(_) => {
            store.close().await;
            Err(OpsError::SchemaBehind)
        }
        Err(e) => {
            store.close().await;
            Err(e.into())
        }
    }
}

/// Runs `body` on `store`, then closes it whatever happened.
async fn with_store<T, F>(store: SeaStore, body: impl FnOnce(Arc<SeaStore>) -> F) -> Result<T, OpsError>
where
    F: std::future::Future<Output = Result<T, OpsError>>,
{
    let store = Arc::new(store);
    let result = body(store.clone()).await;
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await;
    }
    result
}

/// `tessera backup FILE`: a consistent online copy of the SQLite database
/// (`VACUUM INTO` a hidden sibling with mode 0600, synced, then linked into
/// place so that an existing file is never replaced).
///
/// # Errors
/// On PostgreSQL, when FILE exists, or when the copy cannot be written.
pub async fn backup(settings: &Settings, file: &Path) -> Result<(), OpsError> {
    if !settings.is_sqlite() {
        return Err(OpsError::UsePgDump);
    }
    if file.symlink_metadata().is_ok() {
        return Err(OpsError::BackupExists(file.to_owned()));
    }
    let store = open_existing(settings).await?;
    let io_err = |source| OpsError::BackupIo { path: file.to_owned(), source };
    let staging = staging_path(file).map_err(io_err)?;
    let result = with_store(store, |store| async move {
        create_private_empty(&staging).map_err(io_err)?;
        let copied = async {
            store.backup_sqlite_into(&staging).await.map_err(OpsError::Backup)?;
            File::open(&staging).and_then(|f| f.sync_all()).map_err(io_err)?;
            // A hard link fails when the target exists: no check-then-rename race.
            fs::hard_link(&staging, file).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OpsError::BackupExists(file.to_owned())
                } else {
                    io_err(e)
                }
            })
        }
        .await;
        let _ = fs::remove_file(&staging);
        copied?;
        if let Some(dir) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io_err)?;
        }
        Ok(())
    })
    .await;
    result?;
    println!("wrote a consistent copy of the database to {}", file.display());
    let key = if settings.masterkey.is_some() {
        "TESSERA_MASTERKEY (masterkey)".to_owned()
    } else {
        settings.data_dir.join("masterkey").display().to_string()
    };
    println!(
        "the master key is not in the backup: keep a copy of {key} apart from it; without it the signing keys in the backup cannot be opened"
    );
    Ok(())
}

/// A hidden, unique sibling of `file` to write the copy into.
fn staging_path(file: &Path) -> io::Result<PathBuf> {
    let name = file
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy()
        .into_owned();
    Ok(file.with_file_name(format!(".{name}.{}.partial", uuid::Uuid::now_v7().simple())))
}

/// Creates an empty file with mode 0600 (`VACUUM INTO` accepts an empty file
/// and keeps its mode); fails when it exists.
fn create_private_empty(path: &Path) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// `tessera keys list|rotate`.
///
/// # Errors
/// On database failures; for `rotate` also a missing or wrong master key.
pub async fn keys(settings: &Settings, action: &KeysAction) -> Result<(), OpsError> {
    let clock = SystemClock;
    match action {
        KeysAction::List => {
            let store = open_existing(settings).await?;
            let keys = with_store(store, |store| async move {
                store.signing_keys().list().await.map_err(|e| OpsError::Keys(e.into()))
            })
            .await?;
            print!("{}", key_table(&keys, clock.now()));
            Ok(())
        }
        KeysAction::Rotate { sign_from, kind } => rotate_keys(settings, &clock, *sign_from, kind).await,
        KeysAction::Create { kind } => create_key(settings, &clock, kind).await,
        KeysAction::Activate { kid } => {
            let id = key_id(kid)?;
            let policy = settings.rotation_policy().map_err(|e| OpsError::Settings(e.to_string()))?;
            let store = open_current(settings).await?;
            let key = with_store(store, |store| async move {
                keyring::activate(store.as_ref(), &clock, &policy, id, None).await.map_err(OpsError::KeyChange)
            })
            .await?;
            println!("signing key {} ({}) signs from now on", key.id, key.algorithm.as_str());
            println!("{}", nodes_follow(settings));
            println!("the previous key stays published until every token it signed has expired (`tessera keys list`)");
            Ok(())
        }
        KeysAction::Delete { kid } => {
            let id = key_id(kid)?;
            let store = open_current(settings).await?;
            let deleted = with_store(store, |store| async move {
                keyring::delete(store.as_ref(), &clock, id, None).await.map_err(OpsError::KeyChange)
            })
            .await?;
            if deleted {
                println!("deleted signing key {id}: tokens it signed no longer verify");
                println!("{}", nodes_follow(settings));
            } else {
                println!("no signing key {id}; nothing to delete");
            }
            Ok(())
        }
    }
}

/// The key `kid` names.
fn key_id(kid: &str) -> Result<SigningKeyId, OpsError> {
    SigningKeyId::parse(kid.trim()).map_err(|_| OpsError::KeyChange(KeyRingError::NotFound))
}

/// When running nodes see a change.
fn nodes_follow(settings: &Settings) -> String {
    format!(
        "running nodes load it at their next key refresh, within signing_keys.refresh_interval_secs ({} s); restart them to load it at once",
        settings.signing_keys.refresh_interval_secs
    )
}

/// The kind `args` ask for, the settings' where they say nothing.
fn key_kind(settings: &Settings, args: &KeyKindArgs) -> Result<KeyKind, OpsError> {
    let configured = settings.rotation_policy().map_err(|e| OpsError::Settings(e.to_string()))?.kind();
    KeyKind::new(args.algorithm.unwrap_or(configured.algorithm), args.rsa_bits.unwrap_or(configured.rsa_bits))
        .map_err(|e| OpsError::Settings(format!("--rsa-bits: {e}")))
}

async fn create_key(settings: &Settings, clock: &dyn Clock, args: &KeyKindArgs) -> Result<(), OpsError> {
    let kind = key_kind(settings, args)?;
    let (master, _) = masterkey::existing(settings)?;
    let sealer = Sealer::for_signing_keys(&master).map_err(|e| OpsError::Keys(KeyRingError::Signing(e.into())))?;
    let store = open_current(settings).await?;
    let key = with_store(store, |store| async move {
        keyring::create(store.as_ref(), clock, Arc::new(sealer), kind, None).await.map_err(|e| match e {
            e @ (KeyRingError::TooMany | KeyRingError::Collision) => OpsError::KeyChange(e),
            e => OpsError::Keys(e),
        })
    })
    .await?;
    println!("created signing key {} ({}): published now, signs once activated", key.id, key.algorithm.as_str());
    println!("activate it with `tessera keys activate {}` once every JWKS cache knows it", key.id);
    println!("{}", nodes_follow(settings));
    Ok(())
}

async fn rotate_keys(
    settings: &Settings,
    clock: &dyn Clock,
    sign_from: Option<Expiry>,
    args: &KeyKindArgs,
) -> Result<(), OpsError> {
    let now = clock.now();
    let sign_from = sign_from.map(|e| e.resolve(now));
    if sign_from.is_some_and(|t| t < now) {
        return Err(OpsError::SignFromPast);
    }
    let kind = key_kind(settings, args)?;
    let policy = settings.rotation_policy().map_err(|e| OpsError::Settings(e.to_string()))?;
    let (master, _) = masterkey::existing(settings)?;
    let sealer = Sealer::for_signing_keys(&master).map_err(|e| OpsError::Keys(KeyRingError::Signing(e.into())))?;
    let store = open_current(settings).await?;
    let key = with_store(store, |store| async move {
        Ok(keyring::rotate_now(store.as_ref(), clock, Arc::new(sealer), &policy, kind, sign_from).await?)
    })
    .await?;
    let starts =
        if key.schedule.sign_from() <= key.created_at { "now".to_owned() } else { rfc3339(key.schedule.sign_from()) };
    println!("created signing key {} ({}, published now, signs from {starts})", key.id, key.algorithm.as_str());
    println!("{}", nodes_follow(settings));
    println!("older keys stay published until every token they signed has expired (`tessera keys list`)");
    Ok(())
}

/// `tessera masterkey rotate`.
///
/// # Errors
/// When either key is missing or invalid, the current key does not open every
/// signing key (nothing is written then), or the database fails.
pub async fn masterkey(settings: &Settings, action: &MasterkeyAction) -> Result<(), OpsError> {
    let MasterkeyAction::Rotate { new_key_file } = action;
    let new = masterkey::read_file(new_key_file)?.ok_or_else(|| OpsError::NewKeyMissing(new_key_file.clone()))?;
    let (old, origin) = masterkey::existing(settings)?;
    if old.expose_secret() == new.expose_secret() {
        return Err(OpsError::SameKey);
    }
    let seal =
        |k: &SecretString| Sealer::for_signing_keys(k).map_err(|e| OpsError::Keys(KeyRingError::Signing(e.into())));
    let (old_sealer, new_sealer) = (seal(&old)?, seal(&new)?);
    let store = open_current(settings).await?;
    let count = with_store(store, |store| async move {
        Ok(keyring::reseal_all(store.as_ref(), &SystemClock, &old_sealer, &new_sealer).await?)
    })
    .await?;
    let current = match origin {
        masterkey::Origin::Configured => "TESSERA_MASTERKEY (masterkey)".to_owned(),
        masterkey::Origin::File(p) | masterkey::Origin::Generated(p) => p.display().to_string(),
    };
    println!("re-sealed {count} signing key(s) under the new master key");
    println!(
        "now, on every node: stop tessera, replace {current} with the content of {}, and start it again; until then nodes cannot reload their signing keys",
        new_key_file.display()
    );
    Ok(())
}

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The `keys list` table: one row per key, no private material.
fn key_table(keys: &[tessera_domain::signing_key::SigningKey], now: Timestamp) -> String {
    let current = signing::signing_key_at(keys, now);
    let mut out = format!(
        "{:<36}  {:<5}  {:<10}  {:<20}  {:<20}  {:<20}  {:<20}\n",
        "KID", "ALG", "STATE", "CREATED", "SIGNS FROM", "SIGNS UNTIL", "PUBLISHED UNTIL"
    );
    for k in keys {
        let s = &k.schedule;
        let state = if Some(k.id) == current {
            "signing"
        } else if s.is_awaiting() {
            "created"
        } else if s.is_retired(now) {
            "retired"
        } else if s.sign_from() > now {
            "next"
        } else if s.may_sign(now) {
            "superseded"
        } else {
            "verifying"
        };
        out.push_str(&format!(
            "{:<36}  {:<5}  {:<10}  {:<20}  {:<20}  {:<20}  {:<20}\n",
            k.id.to_string(),
            k.algorithm.as_str(),
            state,
            rfc3339(k.created_at),
            // A key awaiting activation has no signing window yet, and stays
            // published until it is deleted.
            if s.is_awaiting() { "-".to_owned() } else { rfc3339(s.sign_from()) },
            if s.is_awaiting() { "-".to_owned() } else { rfc3339(s.sign_until()) },
            if s.is_awaiting() { "-".to_owned() } else { rfc3339(s.retire_at()) },
        ));
    }
    out
}
