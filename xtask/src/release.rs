//! `cargo xtask dist` and `cargo xtask release <version> [--dry-run]`: the
//! release tarball and the release commit.
//!
//! `dist` builds the release binary and writes
//! `target/dist/tessera-<version>-<target>.tar.gz` (the binary, `README.md`,
//! `tessera.example.toml` and the licence file when the tree has one, under a
//! `tessera-<version>-<target>/` directory) and a `.sha256` file beside it in
//! `sha256sum` format, so `sha256sum -c` checks it.
//!
//! `release` first refuses a dirty tree, a version that is not semver or not
//! greater than the current one (the current version itself is allowed while
//! no `v<version>` tag exists: the first release of a workspace that starts at
//! 0.1.0), an existing tag, and a failing `cargo test --workspace`. It then
//! bumps the workspace version (Cargo.toml and Cargo.lock), adds a CHANGELOG.md
//! section built from the commit subjects since the last `v*` tag, builds the
//! tarball, commits "Release <version>" and tags `v<version>`. It never pushes.
//! With `--dry-run` it runs every check and builds the tarball, but writes the
//! CHANGELOG section to `target/dist/CHANGELOG-<version>.md` (and prints it)
//! instead of touching the tree; the binary then carries the current version.
//!
//! Changelog grouping: by what a commit subject starts with — the area before
//! a `:` when there is one, else the first words (see [`Group::of`]). Subjects in
//! this repository read `Area: what changed` or `Verb what changed`, so the
//! groups are Features and changes, Fixes, Documentation, Tests, and Build,
//! deployment and tooling.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use flate2::Compression;
use flate2::write::GzEncoder;
use semver::Version;
use sha2::{Digest, Sha256};

/// Options of `cargo xtask release`.
#[derive(clap::Args)]
pub struct ReleaseArgs {
    /// The new version, semver without a leading `v` (e.g. 0.2.0).
    pub version: String,
    /// Run every check and build the tarball, but change nothing in the tree.
    #[arg(long)]
    pub dry_run: bool,
}

/// The workspace root (xtask lives one level below it).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// Runs a command in the workspace root and returns its standard output.
fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .with_context(|| format!("running {program} {}", args.join(" ")))?;
    if !out.status.success() {
        bail!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn git(args: &[&str]) -> Result<String> {
    output("git", args)
}

/// `cargo xtask dist`: the tarball of the current workspace version.
///
/// # Errors
/// When the build or a file operation fails.
pub fn dist() -> Result<()> {
    let version = current_version(&std::fs::read_to_string(root().join("Cargo.toml"))?)?;
    let (archive, checksum) = build_dist(&version)?;
    println!("{}\n{}", archive.display(), checksum.display());
    Ok(())
}

/// Builds the release binary and writes the tarball and its checksum file.
fn build_dist(version: &Version) -> Result<(PathBuf, PathBuf)> {
    let root = root();
    crate::cargo(&["build", "--release", "--locked", "-p", "tessera-server"], &[])?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target_dir.join("release").join(format!("tessera{}", std::env::consts::EXE_SUFFIX));
    let triple = host_triple(&output("rustc", &["-vV"])?)?;
    let base = format!("tessera-{version}-{triple}");
    let dist = target_dir.join("dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;

    let licence = LICENCE_NAMES.iter().map(|n| root.join(n)).find(|p| p.is_file());
    if licence.is_none() {
        eprintln!("xtask: warning: no licence file ({}) in the tree; the tarball has none", LICENCE_NAMES.join(", "));
    }
    let mtime = git(&["log", "-1", "--format=%ct"]).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
    let mut files = vec![(binary, archive_name(&base, "tessera"), 0o755)];
    for extra in [Some(root.join("README.md")), Some(root.join("tessera.example.toml")), licence].into_iter().flatten()
    {
        let name = extra.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        files.push((extra, archive_name(&base, &name), 0o644));
    }
    let archive = dist.join(format!("{base}.tar.gz"));
    write_tarball(&archive, &files, mtime)?;

    let digest = sha256_hex(&std::fs::read(&archive)?);
    let checksum = dist.join(format!("{base}.tar.gz.sha256"));
    std::fs::write(&checksum, sha256sum_line(&digest, &format!("{base}.tar.gz")))?;
    Ok((archive, checksum))
}

/// Licence files the tarball takes, the first that exists.
const LICENCE_NAMES: [&str; 4] = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENSE-APACHE"];

fn archive_name(base: &str, file: &str) -> String {
    format!("{base}/{file}")
}

/// Writes a gzip'd ustar archive of `(source, name in archive, mode)` with a
/// fixed owner and modification time, so the same inputs give the same bytes.
fn write_tarball(path: &Path, files: &[(PathBuf, String, u32)], mtime: u64) -> Result<()> {
    let out = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut builder = tar::Builder::new(GzEncoder::new(out, Compression::best()));
    for (source, name, mode) in files {
        let data = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, data.as_slice())?;
    }
    builder.into_inner()?.finish()?.flush()?;
    Ok(())
}

/// Lowercase hex SHA-256 of `data`.
fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One line of `sha256sum` output (text mode: two spaces).
fn sha256sum_line(hex: &str, file: &str) -> String {
    format!("{hex}  {file}\n")
}

/// The `host:` line of `rustc -vV`.
fn host_triple(rustc_vv: &str) -> Result<String> {
    rustc_vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .context("`rustc -vV` printed no host line")
}

/// `cargo xtask release`.
///
/// # Errors
/// On any refused check or failed step; the tree is restored when a step after
/// the first write fails.
pub fn release(args: &ReleaseArgs) -> Result<()> {
    let root = root();
    let dirty = git(&["status", "--porcelain"])?;
    ensure!(dirty.trim().is_empty(), "the working tree is not clean (git status --porcelain):\n{dirty}");

    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let current = current_version(&manifest)?;
    let tags: Vec<String> = git(&["tag", "--list", "v*"])?.lines().map(str::to_owned).collect();
    let version = check_version(&args.version, &current, &tags)?;
    let last_tag = last_release_tag(&tags);
    eprintln!(
        "xtask: releasing {version} (workspace version {current}; changes since {})",
        last_tag.as_deref().unwrap_or("the first commit")
    );

    crate::cargo(&["test", "--workspace"], &[("INSTA_UPDATE", Some("no"))])?;

    let range = last_tag.as_ref().map_or_else(|| "HEAD".to_owned(), |t| format!("{t}..HEAD"));
    let log = git(&["log", "--no-merges", "--format=%h%x1f%s", &range])?;
    let commits: Vec<(String, String)> =
        log.lines().filter_map(|l| l.split_once('\u{1f}')).map(|(h, s)| (h.to_owned(), s.to_owned())).collect();
    let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let section = changelog_section(&version, &date, &commits);

    if args.dry_run {
        let (archive, checksum) = build_dist(&version)?;
        let preview = archive.with_file_name(format!("CHANGELOG-{version}.md"));
        std::fs::write(&preview, &section)?;
        println!("{section}");
        println!("dry run: nothing written to the tree, no commit, no tag");
        println!("{}\n{}\n{}", archive.display(), checksum.display(), preview.display());
        return Ok(());
    }

    let changed = bump_files(&root, &current, &version, &section)?;
    let (archive, checksum) = match build_dist(&version) {
        Ok(paths) => paths,
        Err(e) => {
            restore(&changed);
            return Err(e.context("building the release; the version bump was undone"));
        }
    };
    let mut add = vec!["add", "--"];
    let names: Vec<String> = changed.iter().map(|(p, _)| p.to_string_lossy().into_owned()).collect();
    add.extend(names.iter().map(String::as_str));
    git(&add)?;
    git(&["commit", "-m", &format!("Release {version}")])?;
    git(&["tag", "-a", &format!("v{version}"), "-m", &format!("Tessera {version}")])?;
    println!("{section}");
    println!("committed \"Release {version}\" and tagged v{version} (not pushed)");
    println!("{}\n{}", archive.display(), checksum.display());
    Ok(())
}

/// Writes the version bump and the CHANGELOG section; returns every file
/// written with its previous content (`None`: it did not exist).
fn bump_files(root: &Path, old: &Version, new: &Version, section: &str) -> Result<Vec<(PathBuf, Option<String>)>> {
    let mut plan = Vec::new();
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)?;
    if old != new {
        plan.push((manifest.clone(), Some(text.clone()), bump_manifest(&text, "workspace.package", old, new)?));
        let mut members = Vec::new();
        for dir in member_dirs(root)? {
            let path = dir.join("Cargo.toml");
            let text = std::fs::read_to_string(&path)?;
            let doc: toml::Table = text.parse()?;
            let package = doc.get("package").and_then(toml::Value::as_table);
            if let Some(name) = package.and_then(|p| p.get("name")).and_then(toml::Value::as_str) {
                members.push(name.to_owned());
            }
            if package.and_then(|p| p.get("version")).is_some_and(toml::Value::is_str) {
                plan.push((path.clone(), Some(text.clone()), bump_manifest(&text, "package", old, new)?));
            }
        }
        let lock = root.join("Cargo.lock");
        let text = std::fs::read_to_string(&lock)?;
        plan.push((lock, Some(text.clone()), bump_lock(&text, &members, old, new)));
    }
    let changelog = root.join("CHANGELOG.md");
    let existing = std::fs::read_to_string(&changelog).ok();
    plan.push((changelog, existing.clone(), insert_section(existing.as_deref(), section)));

    let mut written = Vec::new();
    for (path, original, text) in plan {
        if let Err(e) = std::fs::write(&path, text) {
            restore(&written);
            return Err(e).with_context(|| format!("writing {}", path.display()));
        }
        written.push((path, original));
    }
    Ok(written)
}

/// Puts back files written by [`bump_files`] (best effort: it runs on the way
/// out of a failure that is already being reported).
fn restore(written: &[(PathBuf, Option<String>)]) {
    for (path, original) in written {
        let _ = match original {
            Some(text) => std::fs::write(path, text),
            None => std::fs::remove_file(path),
        };
    }
}

/// `crates/*` and `xtask`.
fn member_dirs(root: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.push(root.join("xtask"));
    dirs.sort();
    Ok(dirs)
}

/// The `[workspace.package]` version of the root manifest.
fn current_version(manifest: &str) -> Result<Version> {
    let doc: toml::Table = manifest.parse().context("parsing Cargo.toml")?;
    let version = doc
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .context("Cargo.toml has no [workspace.package] version")?;
    Version::parse(version).with_context(|| format!("the workspace version {version} is not semver"))
}

/// The highest `v<semver>` tag.
fn last_release_tag(tags: &[String]) -> Option<String> {
    tags.iter()
        .filter_map(|t| Some((Version::parse(t.strip_prefix('v')?).ok()?, t)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.clone())
}

/// Accepts `requested` when it is semver, not yet tagged, and greater than
/// `current` — or equal to it while no tag names it (the first release).
fn check_version(requested: &str, current: &Version, tags: &[String]) -> Result<Version> {
    let version = Version::parse(requested)
        .with_context(|| format!("{requested} is not a semantic version (MAJOR.MINOR.PATCH, no leading v)"))?;
    let tagged = |v: &Version| tags.iter().any(|t| t == &format!("v{v}"));
    ensure!(!tagged(&version), "v{version} is already tagged");
    ensure!(
        version > *current || (version == *current && !tagged(current)),
        "{version} is not greater than the current version {current}"
    );
    Ok(version)
}

/// Replaces `version = "<old>"` in the `[table]` section of a manifest,
/// keeping every other byte.
fn bump_manifest(text: &str, table: &str, old: &Version, new: &Version) -> Result<String> {
    let header = format!("[{table}]");
    let mut in_table = false;
    let mut done = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_table = trimmed == header;
        }
        if in_table && !done && trimmed == format!("version = \"{old}\"") {
            out.push_str(&line.replacen(&old.to_string(), &new.to_string(), 1));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    ensure!(done, "no `version = \"{old}\"` line in {header}");
    Ok(out)
}

/// Replaces the version of the workspace's own packages in Cargo.lock.
fn bump_lock(text: &str, members: &[String], old: &Version, new: &Version) -> String {
    let mut out = String::with_capacity(text.len());
    let mut member = false;
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.trim().strip_prefix("name = ") {
            member = members.iter().any(|m| name.trim_matches('"') == m);
        }
        if member && line.trim() == format!("version = \"{old}\"") {
            out.push_str(&line.replacen(&old.to_string(), &new.to_string(), 1));
            member = false;
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A changelog group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Features,
    Fixes,
    Documentation,
    Tests,
    Tooling,
}

impl Group {
    fn title(self) -> &'static str {
        match self {
            Self::Features => "Features and changes",
            Self::Fixes => "Fixes",
            Self::Documentation => "Documentation",
            Self::Tests => "Tests",
            Self::Tooling => "Build, deployment and tooling",
        }
    }

    /// The group of a commit subject, from its area (the text before `: ` when
    /// short) or else its first three words ("Repository tests for …").
    fn of(subject: &str) -> Self {
        let lead = subject
            .split_once(": ")
            .map(|(area, _)| area.to_owned())
            .filter(|a| a.len() <= 32)
            .unwrap_or_else(|| subject.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .to_lowercase();
        let first = lead.split_whitespace().next().unwrap_or_default();
        if ["fix", "fixes", "fixed", "mend", "revert"].contains(&first) {
            Self::Fixes
        } else if first.starts_with("doc") || first == "readme" || lead.ends_with(".md") {
            Self::Documentation
        } else if lead.split([' ', '-']).any(|w| w == "test" || w == "tests") {
            Self::Tests
        } else if ["deploy", "deploy/", "xtask", "cargo", "ci", "clippy", "tidy", "build", "release"].contains(&first) {
            Self::Tooling
        } else {
            Self::Features
        }
    }
}

/// The CHANGELOG section of a release: `(short hash, subject)` per commit,
/// newest first as `git log` gives them, grouped; release commits left out.
fn changelog_section(version: &Version, date: &str, commits: &[(String, String)]) -> String {
    let mut groups: std::collections::BTreeMap<Group, Vec<String>> = std::collections::BTreeMap::new();
    for (hash, subject) in commits {
        if subject.starts_with("Release ") {
            continue;
        }
        groups.entry(Group::of(subject)).or_default().push(format!("- {subject} ({hash})"));
    }
    let mut out = format!("## {version} — {date}\n");
    if groups.is_empty() {
        out.push_str("\nNo changes.\n");
    }
    for (group, lines) in groups {
        let _ = write!(out, "\n### {}\n\n{}\n", group.title(), lines.join("\n"));
    }
    out
}

const CHANGELOG_HEADER: &str = "# Changelog\n\nWritten by `cargo xtask release` from the commit subjects since the \
previous release, grouped by what each subject starts with (xtask/src/release.rs).\n";

/// CHANGELOG.md with `section` as the newest release.
fn insert_section(existing: Option<&str>, section: &str) -> String {
    let existing = existing.unwrap_or(CHANGELOG_HEADER);
    match existing.find("\n## ") {
        Some(pos) => format!("{}\n{section}\n{}", &existing[..=pos], &existing[pos + 1..]),
        None => format!("{}\n{section}", existing.trim_end_matches('\n').to_owned() + "\n"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test: a failed step must fail it")]

    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_must_be_semver_and_move_forward() {
        let none: Vec<String> = vec![];
        assert_eq!(check_version("0.2.0", &v("0.1.0"), &none).unwrap(), v("0.2.0"));
        assert_eq!(check_version("1.0.0-rc.1", &v("0.9.3"), &none).unwrap(), v("1.0.0-rc.1"));
        // The first release of the version the workspace starts with.
        assert_eq!(check_version("0.1.0", &v("0.1.0"), &none).unwrap(), v("0.1.0"));
        let tagged = vec!["v0.1.0".to_owned()];
        assert!(check_version("0.1.0", &v("0.1.0"), &tagged).unwrap_err().to_string().contains("already tagged"));
        assert!(check_version("0.0.9", &v("0.1.0"), &none).unwrap_err().to_string().contains("not greater"));
        assert!(check_version("0.1.1", &v("0.2.0"), &none).is_err());
        for bad in ["v0.2.0", "0.2", "latest", "0.2.0.1", ""] {
            assert!(check_version(bad, &v("0.1.0"), &none).unwrap_err().to_string().contains("semantic"), "{bad}");
        }
    }

    #[test]
    fn the_last_tag_is_the_highest_version_not_the_last_listed() {
        let tags = ["v0.10.0", "v0.9.0", "vnext", "v0.2.0"].map(String::from);
        assert_eq!(last_release_tag(&tags).as_deref(), Some("v0.10.0"));
        assert_eq!(last_release_tag(&[]), None);
    }

    #[test]
    fn the_manifest_bump_touches_only_the_workspace_version() {
        let text = "[workspace.package]\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace.dependencies]\nx = { version = \"0.1.0\" }\n[dependencies]\nversion = \"0.1.0\"\n";
        let out = bump_manifest(text, "workspace.package", &v("0.1.0"), &v("0.2.0")).unwrap();
        assert_eq!(out, text.replacen("version = \"0.1.0\"\nedition", "version = \"0.2.0\"\nedition", 1));
        assert_eq!(current_version(&out).unwrap(), v("0.2.0"));
        assert!(bump_manifest(text, "package", &v("0.1.0"), &v("0.2.0")).is_err(), "no such table");
    }

    #[test]
    fn the_lock_bump_touches_only_workspace_members() {
        let text = "[[package]]\nname = \"tessera-domain\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"other\"\nversion = \"0.1.0\"\nsource = \"registry\"\n";
        let out = bump_lock(text, &["tessera-domain".to_owned()], &v("0.1.0"), &v("0.2.0"));
        assert_eq!(out, text.replacen("0.1.0", "0.2.0", 1));
    }

    #[test]
    fn subjects_are_grouped_by_area_or_first_word() {
        let cases = [
            ("Add the Kubernetes manifests", Group::Features),
            ("Console: projects pages (roles, API applications)", Group::Features),
            ("Token introspection (RFC 7662) and revocation (RFC 7009); proves it", Group::Features),
            ("Fix the readiness probe", Group::Fixes),
            ("Mend: one application lookup per revocation client", Group::Fixes),
            ("docs/console.md: the data-testid hooks", Group::Documentation),
            ("Document master-key sealing", Group::Documentation),
            ("README: point at the quick start", Group::Documentation),
            ("Console tests: nothing in browser storage", Group::Tests),
            ("Two-node test: a change through one node", Group::Tests),
            ("End-to-end tests and snapshots for projects", Group::Tests),
            ("UserService end-to-end tests with reviewed snapshots", Group::Tests),
            ("Official Python SDK drives the PAT life cycle in the test suite", Group::Features),
            ("Console: repository test for sessions", Group::Features),
            ("Test that JSON logs are one object per line", Group::Tests),
            ("deploy/: container image, Compose on PostgreSQL", Group::Tooling),
            ("cargo xtask bench: seeded population", Group::Tooling),
            ("clippy", Group::Tooling),
        ];
        for (subject, group) in cases {
            assert_eq!(Group::of(subject), group, "{subject}");
        }
    }

    #[test]
    fn the_changelog_section_groups_in_a_fixed_order_and_skips_releases() {
        let commits = [
            ("aaa1111", "Fix the probe"),
            ("bbb2222", "Release 0.1.0"),
            ("ccc3333", "Add a Job"),
            ("ddd4444", "docs/kubernetes.md: step by step"),
            ("eee5555", "Add a Service"),
        ]
        .map(|(h, s)| (h.to_owned(), s.to_owned()));
        let section = changelog_section(&v("0.2.0"), "2026-11-30", &commits);
        assert_eq!(
            section,
            "## 0.2.0 — 2026-11-30\n\n### Features and changes\n\n- Add a Job (ccc3333)\n- Add a Service (eee5555)\n\n\
             ### Fixes\n\n- Fix the probe (aaa1111)\n\n### Documentation\n\n- docs/kubernetes.md: step by step (ddd4444)\n"
        );
        assert!(changelog_section(&v("0.2.0"), "d", &[]).contains("No changes."));
    }

    #[test]
    fn new_sections_go_above_older_ones() {
        let first = insert_section(None, "## 0.1.0 — d\n\n- a\n");
        assert!(first.starts_with("# Changelog\n"));
        assert!(first.ends_with("\n\n## 0.1.0 — d\n\n- a\n"));
        let second = insert_section(Some(&first), "## 0.2.0 — e\n\n- b\n");
        let (new, old) = (second.find("## 0.2.0").unwrap(), second.find("## 0.1.0").unwrap());
        assert!(new < old && second.starts_with(CHANGELOG_HEADER));
        assert!(second.contains("- b\n\n## 0.1.0"));
    }

    #[test]
    fn the_tarball_lists_its_files_under_one_directory_with_a_checkable_sum() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (name, mode) in [("tessera", 0o755), ("README.md", 0o644), ("tessera.example.toml", 0o644)] {
            let source = dir.path().join(name);
            std::fs::write(&source, format!("content of {name}")).unwrap();
            files.push((source, archive_name("tessera-0.2.0-x86_64-unknown-linux-gnu", name), mode));
        }
        let archive = dir.path().join("t.tar.gz");
        write_tarball(&archive, &files, 1_700_000_000).unwrap();

        let mut listing = Vec::new();
        let mut reader = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&archive).unwrap()));
        for entry in reader.entries().unwrap() {
            let entry = entry.unwrap();
            let header = entry.header();
            listing.push((entry.path().unwrap().to_string_lossy().into_owned(), header.mode().unwrap()));
            assert_eq!((header.uid().unwrap(), header.mtime().unwrap()), (0, 1_700_000_000));
        }
        assert_eq!(
            listing,
            [
                ("tessera-0.2.0-x86_64-unknown-linux-gnu/tessera".to_owned(), 0o755),
                ("tessera-0.2.0-x86_64-unknown-linux-gnu/README.md".to_owned(), 0o644),
                ("tessera-0.2.0-x86_64-unknown-linux-gnu/tessera.example.toml".to_owned(), 0o644),
            ]
        );
        // Same inputs, same bytes.
        let again = dir.path().join("u.tar.gz");
        write_tarball(&again, &files, 1_700_000_000).unwrap();
        assert_eq!(std::fs::read(&archive).unwrap(), std::fs::read(&again).unwrap());

        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(sha256sum_line("ab12", "t.tar.gz"), "ab12  t.tar.gz\n");
    }

    #[test]
    fn the_target_triple_comes_from_rustc() {
        let vv = "rustc 1.95.0 (abc 2026-01-01)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        assert_eq!(host_triple(vv).unwrap(), "x86_64-unknown-linux-gnu");
        assert!(host_triple("rustc 1.95.0").is_err());
    }
}
