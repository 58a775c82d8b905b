//! The files in `deploy/` cannot be executed here (no Docker engine, no
//! systemd as PID 1), so they are checked statically: every `TESSERA_*`
//! variable they set is a documented configuration variable, and the binary
//! path, port and health endpoint agree with the server.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `TESSERA_[A-Z0-9_]+` word in `text`.
fn variables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("TESSERA_") {
        let start = i + pos;
        let mut end = start + "TESSERA_".len();
        while end < bytes.len()
            && (bytes[end].is_ascii_uppercase() || bytes[end].is_ascii_digit() || bytes[end] == b'_')
        {
            end += 1;
        }
        let boundary = start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if boundary && end > start + "TESSERA_".len() {
            out.push(text[start..end].to_owned());
        }
        i = end;
    }
    out
}

#[test]
fn every_variable_in_deploy_is_a_documented_setting() {
    let reference = variables(&read("tessera.example.toml"));
    let files = [
        "deploy/container/Dockerfile",
        "deploy/compose/compose.yaml",
        "deploy/compose/tessera.env.example",
        "deploy/systemd/tessera.service",
    ];
    let mut seen = 0;
    for file in files {
        for var in variables(&read(file)) {
            seen += 1;
            // The reference names each variable in a `# TESSERA_…` comment, or
            // (data_dir, masterkey, external_url) as the top-level key's variable.
            assert!(reference.contains(&var), "{file} sets {var}, which tessera.example.toml does not document");
        }
    }
    assert!(!variables("x TESSERA_SERVER y").iter().any(|v| reference.contains(v)), "whole names, not prefixes");
    assert!(seen >= 8, "the scan found too few variables ({seen}): is it still reading the files?");
}

#[test]
fn the_container_runs_the_binary_it_builds_on_the_port_it_exposes() {
    let dockerfile = read("deploy/container/Dockerfile");
    assert!(dockerfile.contains("COPY --from=build /src/target/release/tessera /usr/local/bin/tessera"));
    assert!(dockerfile.contains(r#"ENTRYPOINT ["/usr/local/bin/tessera"]"#));
    assert!(dockerfile.contains(r#"CMD ["start"]"#));
    assert!(dockerfile.contains("TESSERA_SERVER__PORT=8080") && dockerfile.contains("EXPOSE 8080"));
    assert!(dockerfile.contains("http://127.0.0.1:8080/healthz"), "the health check uses /healthz on the same port");
    assert!(dockerfile.contains("USER 10001"), "never root");
    // The build stage's toolchain is the one the workspace pins.
    let manifest = read("Cargo.toml");
    let pinned = manifest.lines().find_map(|l| l.strip_prefix("rust-version = ")).unwrap().trim_matches('"');
    assert!(dockerfile.contains(&format!("FROM rust:{pinned}")), "the builder image uses rust {pinned}");

    let unit = read("deploy/systemd/tessera.service");
    assert!(unit.contains("ExecStart=/usr/local/bin/tessera start"));
    for hardening in ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=tessera", "NoNewPrivileges=yes"] {
        assert!(unit.contains(hardening), "the unit lacks {hardening}");
    }

    let compose = read("deploy/compose/compose.yaml");
    assert!(compose.contains("dockerfile: deploy/container/Dockerfile"));
    assert!(compose.contains("condition: service_healthy"), "Tessera waits for PostgreSQL");
}
