//! The files in `deploy/` cannot be executed here (no Docker engine, no
//! Kubernetes cluster, no systemd as PID 1), so they are checked statically:
//! every YAML file parses, every `TESSERA_*` variable they set is a documented
//! configuration variable, and the binary path, commands, port, probes and
//! label selectors agree with the server and with each other. The
//! documentation's relative links are checked here too: they point into the
//! same tree.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tessera_server::settings::Settings;
use yaml_rust2::{Yaml, YamlLoader};

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
    let files = files_under("deploy", &|_| true);
    for expected in ["deploy/container/Dockerfile", "deploy/systemd/tessera.service", "deploy/kubernetes/secret.yaml"] {
        assert!(files.iter().any(|f| f == expected), "the scan misses {expected}");
    }
    let mut seen = 0;
    for file in &files {
        for var in variables(&read(file)) {
            seen += 1;
            // The reference names each variable in a `# TESSERA_…` comment, or
            // (data_dir, masterkey, external_url) as the top-level key's variable.
            assert!(reference.contains(&var), "{file} sets {var}, which tessera.example.toml does not document");
        }
    }
    assert!(!variables("x TESSERA_SERVER y").iter().any(|v| reference.contains(v)), "whole names, not prefixes");
    assert!(seen >= 20, "the scan found too few variables ({seen}): is it still reading the files?");
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

/// Files under `dir` (relative to the root, sorted), as root-relative paths
/// with `/`, for which `keep` holds.
fn files_under(dir: &str, keep: &dyn Fn(&str) -> bool) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, keep, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/");
                if keep(&rel) {
                    out.push(rel);
                }
            }
        }
    }
    let base = root();
    let mut out = Vec::new();
    walk(&base, &base.join(dir), keep, &mut out);
    out.sort();
    out
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

/// Every document of every YAML file under `deploy/`, by file.
fn yaml_documents() -> BTreeMap<String, Vec<Yaml>> {
    files_under("deploy", &is_yaml)
        .into_iter()
        .map(|file| {
            let docs = YamlLoader::load_from_str(&read(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!docs.is_empty(), "{file} holds no YAML document");
            (file, docs)
        })
        .collect()
}

/// The Kubernetes objects under `deploy/kubernetes/`, keyed by `Kind/name`.
fn kubernetes_objects() -> BTreeMap<String, Yaml> {
    let mut out = BTreeMap::new();
    for (file, docs) in yaml_documents() {
        if !file.starts_with("deploy/kubernetes/") {
            continue;
        }
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap_or_else(|| panic!("{file}: a document without kind")).to_owned();
            let name = if kind == "Kustomization" {
                "kustomization".to_owned()
            } else {
                doc["metadata"]["name"].as_str().unwrap_or_else(|| panic!("{file}: {kind} without a name")).to_owned()
            };
            assert!(out.insert(format!("{kind}/{name}"), doc).is_none(), "{kind}/{name} is defined twice");
        }
    }
    out
}

fn str_list(value: &Yaml) -> Vec<&str> {
    value.as_vec().map(|v| v.iter().filter_map(Yaml::as_str).collect()).unwrap_or_default()
}

fn string_map(value: &Yaml) -> BTreeMap<String, String> {
    let hash = value.as_hash().unwrap_or_else(|| panic!("not a mapping: {value:?}"));
    hash.iter().map(|(k, v)| (k.as_str().unwrap().to_owned(), v.as_str().unwrap().to_owned())).collect()
}

/// Whether every pair of `selector` is among `labels` (a non-empty selector).
fn selects(selector: &Yaml, labels: &Yaml) -> bool {
    let (selector, labels) = (string_map(selector), string_map(labels));
    !selector.is_empty() && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The container named `name` of a pod spec's `containers` or `initContainers`.
fn container<'a>(pod: &'a Yaml, list: &str, name: &str) -> &'a Yaml {
    pod[list]
        .as_vec()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {list} {name}"))
}

fn env_value<'a>(container: &'a Yaml, var: &str) -> Option<&'a str> {
    container["env"].as_vec()?.iter().find(|e| e["name"].as_str() == Some(var))?["value"].as_str()
}

/// Pod and container hardening of issue #8: non-root, read-only root
/// filesystem, no capabilities, the runtime's seccomp profile.
fn assert_hardened(what: &str, pod: &Yaml) {
    let ctx = &pod["securityContext"];
    assert_eq!(ctx["runAsNonRoot"].as_bool(), Some(true), "{what}: runAsNonRoot");
    assert_eq!(ctx["runAsUser"].as_i64(), Some(10001), "{what}: the image's user (USER 10001)");
    assert_eq!(ctx["seccompProfile"]["type"].as_str(), Some("RuntimeDefault"), "{what}: seccomp");
    assert_eq!(
        pod["automountServiceAccountToken"].as_bool(),
        Some(false),
        "{what}: Tessera never calls the Kubernetes API"
    );
    for list in ["initContainers", "containers"] {
        for c in pod[list].as_vec().map(Vec::as_slice).unwrap_or_default() {
            let name = c["name"].as_str().unwrap();
            let ctx = &c["securityContext"];
            assert_eq!(ctx["readOnlyRootFilesystem"].as_bool(), Some(true), "{what}/{name}: readOnlyRootFilesystem");
            assert_eq!(
                ctx["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{what}/{name}: allowPrivilegeEscalation"
            );
            assert_eq!(str_list(&ctx["capabilities"]["drop"]), ["ALL"], "{what}/{name}: drop ALL capabilities");
            assert!(c["resources"]["requests"]["memory"].as_str().is_some(), "{what}/{name}: a memory request");
            assert!(c["resources"]["limits"]["memory"].as_str().is_some(), "{what}/{name}: a memory limit");
            assert_eq!(str_list(&c["command"]), ["/usr/local/bin/tessera"], "{what}/{name}: the image's binary");
            // Every secret a container reads comes from the Secret template.
            for source in c["envFrom"].as_vec().map(Vec::as_slice).unwrap_or_default() {
                assert_eq!(source["secretRef"]["name"].as_str(), Some("tessera"), "{what}/{name}: envFrom the Secret");
            }
        }
    }
}

#[test]
fn every_yaml_file_under_deploy_parses() {
    let docs = yaml_documents();
    for expected in
        ["deploy/compose/compose.yaml", "deploy/kubernetes/deployment.yaml", "deploy/kubernetes/kustomization.yaml"]
    {
        assert!(docs.contains_key(expected), "{expected} was not found");
    }
    // A syntax error is caught, not ignored.
    assert!(YamlLoader::load_from_str("a: [1, 2").is_err());
    assert_eq!(YamlLoader::load_from_str("a: 1\n---\nb: 2\n").unwrap().len(), 2, "multi-document aware");
}

#[test]
fn compose_serves_on_the_default_port() {
    let compose = &yaml_documents()["deploy/compose/compose.yaml"][0];
    let tessera = &compose["services"]["tessera"];
    let port = Settings::default().server.port.to_string();
    assert_eq!(tessera["environment"]["TESSERA_SERVER__PORT"].as_str(), Some(port.as_str()));
    assert_eq!(str_list(&tessera["ports"]), [format!("{port}:{port}")]);
    assert_eq!(
        tessera["build"]["dockerfile"].as_str(),
        Some("deploy/container/Dockerfile"),
        "the image runs `tessera start`"
    );
    assert_eq!(tessera["depends_on"]["postgres"]["condition"].as_str(), Some("service_healthy"));
}

#[test]
fn the_kustomization_lists_existing_files_and_leaves_out_secret_and_job() {
    let objects = kubernetes_objects();
    let resources = str_list(&objects["Kustomization/kustomization"]["resources"]);
    for file in &resources {
        assert!(root().join("deploy/kubernetes").join(file).is_file(), "kustomization.yaml lists missing {file}");
    }
    for file in ["deployment.yaml", "service.yaml", "pdb.yaml"] {
        assert!(resources.contains(&file), "kustomization.yaml leaves out {file}");
    }
    // The Job must finish before the Deployment rolls; the Secret is a template.
    assert!(!resources.contains(&"migration-job.yaml") && !resources.contains(&"secret.yaml"));
}

#[test]
fn the_deployment_runs_start_with_probes_on_the_default_port() {
    let objects = kubernetes_objects();
    let deployment = &objects["Deployment/tessera"];
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"].as_i64(), Some(2));
    let pod = &spec["template"]["spec"];
    assert_hardened("Deployment", pod);
    assert!(
        selects(&spec["selector"]["matchLabels"], &spec["template"]["metadata"]["labels"]),
        "selector vs pod labels"
    );

    let server = container(pod, "containers", "tessera");
    assert_eq!(str_list(&server["args"]), ["start"]);
    let port = i64::from(Settings::default().server.port);
    let ports = server["ports"].as_vec().unwrap();
    assert_eq!(ports.len(), 1);
    assert_eq!((ports[0]["name"].as_str(), ports[0]["containerPort"].as_i64()), (Some("http"), Some(port)));
    assert_eq!(env_value(server, "TESSERA_SERVER__PORT"), Some(port.to_string().as_str()));
    assert_eq!(env_value(server, "TESSERA_SERVER__HOST"), Some("0.0.0.0"), "reachable from the Service");
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &server[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert!(get["port"].as_str() == Some("http") || get["port"].as_i64() == Some(port), "{probe} port");
    }
    // The data dir is the one writable path (bootstrap files).
    let data_dir = env_value(server, "TESSERA_DATA_DIR").unwrap();
    let mounts = server["volumeMounts"].as_vec().unwrap();
    assert!(mounts.iter().any(|m| m["mountPath"].as_str() == Some(data_dir)), "the data dir is a volume");

    // Replicas never migrate: the init container only checks.
    let check = container(pod, "initContainers", "schema-check");
    assert_eq!(str_list(&check["args"]), ["migrate", "up", "--check"]);
    assert_eq!(check["image"], server["image"], "the check uses the server's image");
}

#[test]
fn the_migration_job_runs_migrate_with_the_deployments_image() {
    let objects = kubernetes_objects();
    let pod = &objects["Job/tessera-migrate"]["spec"]["template"]["spec"];
    assert_hardened("Job", pod);
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    let migrate = container(pod, "containers", "migrate");
    assert_eq!(str_list(&migrate["args"]).first(), Some(&"migrate"));
    assert!(!str_list(&migrate["args"]).contains(&"--check"));
    let server = container(&objects["Deployment/tessera"]["spec"]["template"]["spec"], "containers", "tessera");
    assert_eq!(migrate["image"], server["image"]);
}

#[test]
fn service_and_budget_select_the_deployments_pods() {
    let objects = kubernetes_objects();
    let deployment = &objects["Deployment/tessera"]["spec"];
    let pod_labels = &deployment["template"]["metadata"]["labels"];

    let service = &objects["Service/tessera"]["spec"];
    assert!(selects(&service["selector"], pod_labels), "the Service selects the Deployment's pods");
    let migrate_labels = &objects["Job/tessera-migrate"]["spec"]["template"]["metadata"]["labels"];
    assert!(!selects(&service["selector"], migrate_labels), "the Service must not route to the migration Job");
    let target = &service["ports"][0]["targetPort"];
    assert!(target.as_str() == Some("http") || target.as_i64() == Some(i64::from(Settings::default().server.port)));

    let pdb = &objects["PodDisruptionBudget/tessera"]["spec"];
    assert_eq!(pdb["selector"]["matchLabels"], deployment["selector"]["matchLabels"], "the PDB covers the Deployment");
    assert!(pdb["minAvailable"].as_i64().is_some_and(|n| n >= 1 && n < deployment["replicas"].as_i64().unwrap()));
}

#[test]
fn the_secret_template_holds_only_placeholders_for_the_two_secrets() {
    let objects = kubernetes_objects();
    let data = string_map(&objects["Secret/tessera"]["stringData"]);
    assert_eq!(data.keys().map(String::as_str).collect::<Vec<_>>(), ["TESSERA_DATABASE__URL", "TESSERA_MASTERKEY"]);
    for (key, value) in &data {
        assert!(value.contains("REPLACE_ME"), "{key} must be a marked placeholder, never a usable value");
    }
}

/// Relative link targets of a Markdown text (`[text](target)`), outside code.
fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code spans may show link syntax; drop them.
        let line: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        let mut rest = line.as_str();
        while let Some(pos) = rest.find("](") {
            let after = &rest[pos + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or_default();
            if !target.contains("://")
                && !target.starts_with("mailto:")
                && !target.starts_with('#')
                && !target.is_empty()
            {
                out.push(target.split('#').next().unwrap().to_owned());
            }
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn every_relative_markdown_link_points_to_a_file() {
    // Written in a parallel branch: allowed to be missing until it merges,
    // checked like any other link once it exists.
    const PARALLEL: [&str; 3] =
        ["docs/operator/backups.md", "docs/operator/upgrades.md", "docs/operator/key-rotation.md"];
    assert_eq!(
        markdown_links("[a](x.md#s) `[b](y.md)` [c](https://e) [d](#top) ![e](img.png \"t\")"),
        ["x.md", "img.png"]
    );
    let mut pages = files_under("docs", &|p| p.ends_with(".md"));
    pages.extend(["README.md".to_owned(), "deploy/README.md".to_owned()]);
    let mut checked = 0;
    for page in &pages {
        let dir = root().join(page).parent().unwrap().to_owned();
        for link in markdown_links(&read(page)) {
            let target = dir.join(&link);
            let normalized = normalize(&target);
            let rel = normalized.strip_prefix(normalize(&root())).map(|p| p.to_string_lossy().replace('\\', "/"));
            let allowed = rel.as_deref().is_ok_and(|r| PARALLEL.contains(&r));
            assert!(target.exists() || allowed, "{page} links to {link}, which does not exist");
            checked += 1;
        }
    }
    assert!(checked >= 30, "too few links checked ({checked})");
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
