//! Files the server owns in its data dir: created with owner-only permissions,
//! written atomically (temporary file, fsync, rename, fsync of the directory).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` (and parents) readable by the owner only, if it does not exist.
///
/// # Errors
/// When the directory cannot be created or is not writable.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if !dir.exists() {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    // Prove we can write here now rather than failing half-way through start-up.
    let probe = dir.join(".tessera-write-test");
    File::create(&probe)?;
    fs::remove_file(&probe)
}

/// Opens `path` for writing with mode 0600, truncating it.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    // `mode` only applies on creation; an existing file keeps its bits otherwise.
    #[cfg(unix)]
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}

/// Creates an empty file with mode 0600 unless `path` exists.
///
/// # Errors
/// When the file cannot be created.
pub fn create_private_if_missing(path: &Path) -> io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    create_private(path).map(drop)
}

/// The temporary sibling `path` is staged in before [`commit_staged`].
#[must_use]
pub fn staged_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".new");
    path.with_file_name(name)
}

/// Writes `contents` to the staging file of `path` (mode 0600, synced).
///
/// # Errors
/// When the file cannot be written.
pub fn stage_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let staged = staged_path(path);
    if let Some(parent) = staged.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_private_dir(parent)?;
    }
    let mut file = create_private(&staged)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Moves the staged file into place and syncs the directory.
///
/// # Errors
/// When the rename fails.
pub fn commit_staged(path: &Path) -> io::Result<()> {
    fs::rename(staged_path(path), path)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Writes `contents` to `path` atomically with mode 0600.
///
/// # Errors
/// When the file cannot be written.
pub fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    stage_private(path, contents)?;
    commit_staged(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn private_files_are_0600_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("secret");
        write_private(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(!staged_path(&path).exists());
    }
}
