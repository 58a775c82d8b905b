//! The master key (DESIGN.md §2): from `TESSERA_MASTERKEY`, or else from the file
//! `masterkey` in the data dir, generated (mode 0600) on first start.

use std::path::PathBuf;

use rand::RngCore;
use secrecy::SecretString;

use crate::files;
use crate::settings::{MIN_MASTERKEY_LEN, Settings};

/// Where a master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The `masterkey` setting.
    Configured,
    /// The data dir file, read.
    File(PathBuf),
    /// The data dir file, just generated.
    Generated(PathBuf),
}

/// Why no master key is available.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The key file could not be read or written.
    #[error("cannot use master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file holds fewer than 32 characters.
    #[error("master key file {0} holds fewer than 32 characters")]
    TooShort(PathBuf),
    /// Neither the setting nor the data dir file exists (operator commands do
    /// not generate a key: it would not open the existing signing keys).
    #[error("no master key: set TESSERA_MASTERKEY (masterkey) or provide {0}")]
    Missing(PathBuf),
}

/// Reads a master key file: its content without surrounding whitespace, at
/// least 32 characters. `Ok(None)` when the file does not exist.
///
/// # Errors
/// When the file cannot be read or holds too short a key.
pub fn read_file(path: &std::path::Path) -> Result<Option<SecretString>, MasterKeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = text.trim();
            if key.chars().count() < MIN_MASTERKEY_LEN {
                return Err(MasterKeyError::TooShort(path.to_owned()));
            }
            Ok(Some(SecretString::from(key.to_owned())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MasterKeyError::Io { path: path.to_owned(), source }),
    }
}

/// The master key in use, without generating one: for the operator commands
/// that open existing signing keys.
///
/// # Errors
/// When no key is configured and the data dir file is missing or unusable.
pub fn existing(settings: &Settings) -> Result<(SecretString, Origin), MasterKeyError> {
    if let Some(key) = &settings.masterkey {
        return Ok((key.clone(), Origin::Configured));
    }
    let path = settings.data_dir.join("masterkey");
    match read_file(&path)? {
        Some(key) => Ok((key, Origin::File(path))),
        None => Err(MasterKeyError::Missing(path)),
    }
}

/// Returns the master key and where it came from.
///
/// # Errors
/// When the key file cannot be read or created.
pub fn resolve(settings: &Settings) -> Result<(SecretString, Origin), MasterKeyError> {
    if let Some(key) = &settings.masterkey {
        return Ok((key.clone(), Origin::Configured));
    }
    let path = settings.data_dir.join("masterkey");
    if let Some(key) = read_file(&path)? {
        return Ok((key, Origin::File(path)));
    }
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    files::write_private(&path, format!("{key}\n").as_bytes())
        .map_err(|source| MasterKeyError::Io { path: path.clone(), source })?;
    Ok((SecretString::from(key), Origin::Generated(path)))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data_dir: dir.path().to_owned(), ..Settings::default() };
        let (first, origin) = resolve(&settings).unwrap();
        assert!(matches!(origin, Origin::Generated(_)));
        assert_eq!(first.expose_secret().len(), 64);
        let (second, origin) = resolve(&settings).unwrap();
        assert!(matches!(origin, Origin::File(_)));
        assert_eq!(first.expose_secret(), second.expose_secret());
    }

    #[test]
    fn configured_key_wins_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_owned(),
            masterkey: Some(SecretString::from("k".repeat(40))),
            ..Settings::default()
        };
        let (_, origin) = resolve(&settings).unwrap();
        assert_eq!(origin, Origin::Configured);
        assert!(!dir.path().join("masterkey").exists());
    }
}
