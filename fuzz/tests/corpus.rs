//! Replays every committed seed (and every crash once fixed, kept as a seed)
//! through its target, without the fuzzing engine: the parsers' regression
//! test in `cargo test`. `cargo xtask fuzz` is the coverage-guided run.

#![allow(clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::collections::BTreeSet;
use std::path::Path;

fn replay(target: &str, run: tessera_fuzz::Target) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("{target} fails on the seed {}", path.display());
        }
        seeds += 1;
    }
    assert!(seeds > 0, "{target} has no seeds in {}", dir.display());
}

#[test]
fn every_seed_of_every_target() {
    for (target, run) in tessera_fuzz::TARGETS {
        replay(target, *run);
    }
}

/// Every target has a corpus folder, a `[[bin]]` and a libFuzzer entry, and
/// nothing else has any of them.
#[test]
fn every_target_is_wired() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let names: BTreeSet<String> = tessera_fuzz::TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    let listed = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(root.join(dir))
            .expect("a fuzz folder")
            .map(|e| e.expect("an entry").path())
            .map(|p| p.file_stem().expect("a name").to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(listed("corpus"), names, "fuzz/corpus/ and TARGETS");
    assert_eq!(listed("fuzz_targets"), names, "fuzz/fuzz_targets/ and TARGETS");
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .expect("fuzz/Cargo.toml")
        .parse()
        .expect("fuzz/Cargo.toml parses");
    let bins: BTreeSet<String> = manifest["bin"]
        .as_array()
        .expect("[[bin]]s")
        .iter()
        .map(|b| b["name"].as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(bins, names, "fuzz/Cargo.toml's [[bin]]s and TARGETS");
}
