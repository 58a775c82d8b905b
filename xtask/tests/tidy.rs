//! Repository hygiene checks (CONVENTIONS.md §1, §9): the crate graph of
//! DESIGN.md §1, the external dependencies each layer may not use, module docs,
//! and to-do notes that name their issue.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_owned()
}

/// Internal and external dependencies (normal and dev) of a crate manifest.
fn deps(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).expect("read manifest");
    let doc: toml::Table = text.parse().expect("parse manifest");
    let mut out = BTreeSet::new();
    for section in ["dependencies", "dev-dependencies"] {
        if let Some(table) = doc.get(section).and_then(toml::Value::as_table) {
            out.extend(table.keys().cloned());
        }
    }
    out
}

fn crates() -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates dir") {
        let dir = entry.expect("entry").path();
        let name = format!("tessera-{}", dir.file_name().unwrap().to_string_lossy());
        out.insert(name, dir);
    }
    out
}

#[test]
fn crates_depend_only_along_the_allowed_edges() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("tessera-domain", &[][..]),
        ("tessera-proto", &[][..]),
        ("tessera-persistence", &["tessera-domain"][..]),
        ("tessera-oauth", &["tessera-domain"][..]),
        ("tessera-core", &["tessera-domain", "tessera-oauth"][..]),
        ("tessera-http", &["tessera-domain", "tessera-oauth", "tessera-core", "tessera-proto"][..]),
        (
            "tessera-server",
            &[
                "tessera-domain",
                "tessera-persistence",
                "tessera-oauth",
                "tessera-core",
                "tessera-http",
                "tessera-proto",
            ][..],
        ),
    ]);
    let crates = crates();
    assert_eq!(crates.keys().map(String::as_str).collect::<Vec<_>>(), allowed.keys().copied().collect::<Vec<_>>());
    for (name, dir) in &crates {
        for dep in deps(&dir.join("Cargo.toml")).iter().filter(|d| d.starts_with("tessera-")) {
            assert!(allowed[name.as_str()].contains(&dep.as_str()), "{name} must not depend on {dep} (DESIGN.md §1)");
        }
    }
}

#[test]
fn layers_stay_free_of_foreign_concerns() {
    let forbidden: &[(&str, &[&str])] = &[
        ("tessera-domain", &["sea-orm", "sea-orm-migration", "actix-web", "tokio", "reqwest"]),
        ("tessera-oauth", &["sea-orm", "sea-orm-migration", "actix-web"]),
        ("tessera-persistence", &["actix-web"]),
        ("tessera-core", &["sea-orm", "sea-orm-migration", "sea-query", "sqlx", "actix-web", "actix-http", "reqwest"]),
        ("tessera-http", &["sea-orm", "sea-orm-migration"]),
    ];
    let crates = crates();
    for (name, bad) in forbidden {
        let deps = deps(&crates[*name].join("Cargo.toml"));
        for b in *bad {
            assert!(!deps.contains(*b), "{name} must not use {b} (DESIGN.md §1)");
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target" || n == "snapshots") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_says_what_it_is_for_and_todos_name_an_issue() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("xtask"), &mut files);
    rust_files(&root().join("fuzz"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
        assert!(first.starts_with("//!"), "{} must start with a //! line (CONVENTIONS.md §9)", file.display());
        for (n, line) in text.lines().enumerate() {
            if let Some(at) = line.find(concat!("TO", "DO")) {
                let rest = &line[at..];
                assert!(rest.contains('#'), "{}:{}: a to-do note must name its issue (#N)", file.display(), n + 1);
            }
        }
    }
}

/// The modules of `crates/http/src/api` that each one imports: `super::x` in
/// `api/m.rs` or `api/m/mod.rs`, `super::super::x` deeper, `crate::api::x`
/// anywhere. Comments are skipped (a doc link is not an import).
fn api_imports() -> BTreeMap<String, BTreeSet<String>> {
    let api = root().join("crates/http/src/api");
    let mut files = Vec::new();
    rust_files(&api, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&api).unwrap();
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let module = parts[0].trim_end_matches(".rs").to_owned();
        if module == "mod" {
            continue;
        }
        let nested = parts.len() > 1 && parts[1] != "mod.rs";
        let sibling = if nested { "super::super::" } else { "super::" };
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for prefix in [sibling, "crate::api::"] {
                for (at, _) in line.match_indices(prefix) {
                    let rest = &line[at + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
                        .collect();
                    // `super::super::x` seen as `super::` + `super`: not a module of api/.
                    if !name.is_empty() && name != "super" && name != module {
                        edges.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// Issue 17: the API modules import each other along a tree-like order (the
/// transports and route tables on top, handlers below them, the shared call
/// and wire pieces at the bottom), never in a circle.
#[test]
fn api_modules_import_each_other_without_a_circle() {
    let graph = api_imports();
    assert!(graph.contains_key("connect") && graph["connect"].contains("user"), "{graph:?}");
    // Depth-first search; a module met again while still on the path closes a circle.
    fn visit<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        module: &'a str,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(at) = path.iter().position(|m| *m == module) {
            panic!("api/ modules import each other in a circle: {} -> {module}", path[at..].join(" -> "));
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            visit(graph, next, path, done);
        }
        path.pop();
        done.insert(module);
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(&graph, module, &mut Vec::new(), &mut done);
    }
}
