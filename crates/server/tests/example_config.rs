//! `tessera.example.toml` documents every configuration key, with its default and
//! its environment variable, and nothing else (DESIGN.md §2, CONVENTIONS.md §5).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_reflection::{ContainerFormat, Format, Registry, Tracer, TracerConfig};
use tessera_server::settings::{KNOWN_KEYS, LogFormat, Settings, env_var_of};

fn example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tessera.example.toml");
    std::fs::read_to_string(path).expect("tessera.example.toml at the repository root")
}

/// The example with its commented-out keys switched on.
fn uncommented(text: &str) -> String {
    text.lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_')) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Dotted keys of every leaf setting, from the `Settings` type itself.
fn settings_keys() -> BTreeSet<String> {
    let mut tracer = Tracer::new(TracerConfig::default());
    // Enums must be traced on their own before the structs that hold them.
    tracer.trace_simple_type::<LogFormat>().expect("trace LogFormat");
    tracer.trace_simple_type::<Settings>().expect("trace Settings");
    let registry = tracer.registry().expect("registry");
    let mut keys = BTreeSet::new();
    collect(&registry, "Settings", "", &mut keys);
    keys
}

fn collect(registry: &Registry, name: &str, prefix: &str, out: &mut BTreeSet<String>) {
    let Some(ContainerFormat::Struct(fields)) = registry.get(name) else { return };
    for field in fields {
        let key = format!("{prefix}{}", field.name);
        let inner = match &field.value {
            Format::Option(inner) => inner.as_ref(),
            other => other,
        };
        match inner {
            Format::TypeName(t) if matches!(registry.get(t), Some(ContainerFormat::Struct(_))) => {
                collect(registry, t, &format!("{key}."), out);
            }
            _ => {
                out.insert(key);
            }
        }
    }
}

fn file_keys(text: &str) -> BTreeSet<String> {
    let table: toml::Table = text.parse().expect("the example parses");
    let mut keys = BTreeSet::new();
    for (k, v) in &table {
        match v.as_table() {
            Some(section) => keys.extend(section.keys().map(|s| format!("{k}.{s}"))),
            None => {
                keys.insert(k.clone());
            }
        }
    }
    keys
}

#[test]
fn the_example_lists_exactly_the_known_keys() {
    assert_eq!(file_keys(&uncommented(&example())), settings_keys());
}

#[test]
fn the_example_loads_and_its_active_values_are_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.toml");
    std::fs::write(&path, example()).unwrap();
    let loaded = Settings::load_from(Some(&path), HashMap::new()).unwrap();
    let defaults = Settings::default();
    assert_eq!(format!("{loaded:?}"), format!("{defaults:?}"));
}

#[test]
fn every_key_names_its_environment_variable() {
    let text = uncommented(&example());
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = format!("{name}.");
        } else if let Some((key, rest)) = line.split_once(" = ") {
            let full = format!("{section}{key}");
            assert!(rest.contains(&format!("# {}", env_var_of(&full))), "{full} must name {}", env_var_of(&full));
        }
    }
}

#[test]
fn the_known_keys_behind_the_unknown_variable_warning_are_the_settings() {
    let known: BTreeSet<String> = KNOWN_KEYS.iter().map(|k| (*k).to_owned()).collect();
    assert_eq!(known, settings_keys());
}
