//! Replays every committed seed (and every crash once fixed, kept as a seed)
//! through its target, without the fuzzing engine: the parsers' regression
//! test in `cargo test`. `cargo xtask fuzz` is the coverage-guided run.

#![allow(clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        run(&data);
        seeds += 1;
    }
    assert!(seeds > 0, "{target} has no seeds in {}", dir.display());
}

/// One test per target, named after it.
macro_rules! replay_each {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), tessera_fuzz::$target);
            }
        )*
    };
}

replay_each!(credential, jwt, keyfile, oauth_form, connect_json, list_query, config);

/// Every target has a corpus and a libFuzzer entry, and every corpus a target.
#[test]
fn every_target_is_wired() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for entry in std::fs::read_dir(root.join("corpus")).expect("fuzz/corpus") {
        let name = entry.expect("an entry").file_name().into_string().expect("a UTF-8 name");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "corpus/{name} has no [[bin]]");
        assert!(root.join("fuzz_targets").join(format!("{name}.rs")).exists(), "no fuzz_targets/{name}.rs");
    }
}
