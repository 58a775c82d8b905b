//! The user guides run as written: every fenced block marked `runnable`
//! (```` ```sh runnable ```` or ```` ```python runnable ````) of the README,
//! `docs/service-accounts.md`, `docs/resource-server.md` and
//! `docs/pat-hygiene.md` is executed, in
//! order, in one `bash -euo pipefail` script per document, against a fresh
//! server — so a snippet that fails, or that uses a variable no earlier block
//! set, fails the test.
//!
//! The script runs where a reader would: in a directory holding the server's
//! `tessera-data` (a symlink to the test server's data dir) and `docs/`, with
//! `tessera` and `python3` on `PATH`. `http://localhost:8080`, the documented
//! issuer, becomes the test server's; `RS_PORT` is a free port. A `python`
//! block is written to a file and run with `python3`: it reads what the shell
//! blocks exported.
//!
//! The guides need bash, curl, jq, openssl and Python with `zitadel-client`
//! (`TESSERA_TEST_PYTHON`, as for `python_sdk.rs`), so these tests are
//! `#[ignore]`d; `cargo xtask ci` runs them with `--include-ignored`, and with
//! `CI=true` a missing tool fails them rather than skipping.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{BIN, TestApp};

/// The issuer the guides are written for.
const DOCUMENTED_ISSUER: &str = "http://localhost:8080";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `(language, first line number, body)` of every block whose info string is
/// `<language> runnable`, in document order.
fn runnable_blocks(markdown: &str) -> Vec<(String, usize, String)> {
    enum State {
        Outside,
        Runnable(String, usize, String),
        Other,
    }
    let mut blocks = Vec::new();
    let mut state = State::Outside;
    for (n, line) in markdown.lines().enumerate() {
        let closes = line.trim_end() == "```";
        state = match state {
            State::Outside => match line.strip_prefix("```") {
                Some(info) => match info.split_whitespace().collect::<Vec<_>>()[..] {
                    [language, "runnable"] => State::Runnable(language.to_owned(), n + 2, String::new()),
                    _ => State::Other,
                },
                None => State::Outside,
            },
            State::Runnable(language, first, body) if closes => {
                blocks.push((language, first, body));
                State::Outside
            }
            State::Runnable(language, first, mut body) => {
                body.push_str(line);
                body.push('\n');
                State::Runnable(language, first, body)
            }
            State::Other if closes => State::Outside,
            State::Other => State::Other,
        };
    }
    assert!(matches!(state, State::Outside), "an unterminated code block");
    blocks
}

/// The interpreter for `python` blocks.
fn python() -> String {
    std::env::var("TESSERA_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// What the guides need and this machine lacks.
fn missing_tools() -> Vec<String> {
    let mut missing: Vec<String> = ["bash", "curl", "jq", "openssl"]
        .into_iter()
        .filter(|t| {
            !Command::new("sh").args(["-c", &format!("command -v {t}")]).output().is_ok_and(|o| o.status.success())
        })
        .map(str::to_owned)
        .collect();
    let sdk = Command::new(python()).args(["-c", "import zitadel_client"]).output();
    if !sdk.is_ok_and(|o| o.status.success()) {
        missing.push(format!("{} with zitadel-client", python()));
    }
    missing
}

/// Whether the test may run; says why not (and fails under `CI=true`).
fn tools_present() -> bool {
    let missing = missing_tools();
    if missing.is_empty() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but the doc tests need {missing:?}");
    eprintln!("skipping the documentation test: {missing:?} not installed");
    false
}

/// Runs the runnable blocks of `markdown` (named `name` in messages) in
/// `workdir`, with `issuer` for the documented one and `data_dir` as
/// `tessera-data`.
fn run_markdown(name: &str, markdown: &str, issuer: &str, data_dir: &Path, workdir: &Path) -> Output {
    symlink(data_dir, workdir.join("tessera-data")).unwrap();
    symlink(repository().join("docs"), workdir.join("docs")).unwrap();
    let bin = workdir.join(".bin");
    std::fs::create_dir(&bin).unwrap();
    symlink(BIN, bin.join("tessera")).unwrap();
    // A wrapper, not a symlink: a virtualenv's interpreter must be called by its own path.
    let shim = bin.join("python3");
    std::fs::write(&shim, format!("#!/bin/sh\nexec '{}' \"$@\"\n", python())).unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut script = String::from("set -euo pipefail\n");
    for (i, (language, line, body)) in runnable_blocks(markdown).into_iter().enumerate() {
        let body = body.replace(DOCUMENTED_ISSUER, issuer);
        script.push_str(&format!("echo '--- {name}:{line}' >&2\n"));
        match language.as_str() {
            "sh" | "bash" => script.push_str(&body),
            "python" => {
                let file = format!(".block-{i}.py");
                std::fs::write(workdir.join(&file), body).unwrap();
                script.push_str(&format!("python3 {file}\n"));
            }
            other => panic!("{name}:{line}: runnable blocks are sh or python, not {other}"),
        }
    }
    let free_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(workdir)
        .env("PATH", path)
        .env("RS_PORT", free_port.to_string())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so what a block started in the background
        // (the resource server) is stopped with it.
        .process_group(0)
        .spawn()
        .unwrap();
    // Read both pipes on threads, wait for the script, then stop its process
    // group: a background process a failed block left running (the resource
    // server) would otherwise hold the pipes open forever.
    let mut child = child;
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = child.wait().unwrap();
    let _ = Command::new("kill").arg("--").arg(format!("-{}", child.id())).stderr(Stdio::null()).status();
    Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Runs the guide `doc` (relative to the repository) against a fresh server.
async fn run_doc(doc: &str) {
    if !tools_present() {
        return;
    }
    let app = TestApp::spawn().await;
    let port = app.address.rsplit(':').next().unwrap();
    let issuer = format!("http://localhost:{port}");
    let markdown = std::fs::read_to_string(repository().join(doc)).unwrap();
    assert!(!runnable_blocks(&markdown).is_empty(), "{doc} has no runnable block");
    let workdir = tempfile::tempdir().unwrap();
    let out = run_markdown(doc, &markdown, &issuer, &app.data_dir, workdir.path());
    let admin = app.admin_pat();
    let shown = |b: &[u8]| String::from_utf8_lossy(b).replace(&admin, "[admin pat]");
    assert!(
        out.status.success(),
        "a runnable block of {doc} failed ({}); the last `--- file:line` names it\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        shown(&out.stdout),
        shown(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "needs bash, curl, jq, openssl and Python with zitadel-client; cargo xtask ci runs it with --include-ignored"]
async fn the_readme_runs_as_written() {
    run_doc("README.md").await;
}

#[tokio::test]
#[ignore = "needs bash, curl, jq, openssl and Python with zitadel-client; cargo xtask ci runs it with --include-ignored"]
async fn the_service_account_quick_start_runs_as_written() {
    run_doc("docs/service-accounts.md").await;
}

#[tokio::test]
#[ignore = "needs bash, curl, jq, openssl and Python with zitadel-client; cargo xtask ci runs it with --include-ignored"]
async fn the_resource_server_quick_start_runs_as_written() {
    run_doc("docs/resource-server.md").await;
}

#[tokio::test]
#[ignore = "needs bash, curl, jq, openssl and Python with zitadel-client; cargo xtask ci runs it with --include-ignored"]
async fn the_pat_hygiene_guide_runs_as_written() {
    run_doc("docs/pat-hygiene.md").await;
}

/// The harness itself: it finds only the marked blocks, keeps their order, and
/// a broken snippet — a failing command, or a variable no block set (the
/// shell's `NameError`) — fails the run.
#[test]
fn a_broken_snippet_fails_the_run() {
    let markdown = "# Guide\n\n```sh runnable\nexport A=1\n```\n\n```sh\nexit 3\n```\n\n```text\n```sh runnable\n```\n\n\
                    ```sh runnable\necho \"$A\" > seen\n```\n";
    let blocks = runnable_blocks(markdown);
    assert_eq!(blocks.iter().map(|(l, n, _)| (l.as_str(), *n)).collect::<Vec<_>>(), [("sh", 4), ("sh", 16)]);

    let data = tempfile::tempdir().unwrap();
    let ok_dir = tempfile::tempdir().unwrap();
    let ok = run_markdown("ok.md", markdown, "http://x", data.path(), ok_dir.path());
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(std::fs::read_to_string(ok_dir.path().join("seen")).unwrap(), "1\n");

    for broken in [
        "```sh runnable\nfalse\necho never\n```\n",
        "```sh runnable\necho \"$USER_ID\"\n```\n",
        // A block that fails while something it started still runs.
        "```sh runnable\nsleep 600 &\nfalse\n```\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run_markdown("broken.md", broken, "http://x", data.path(), dir.path());
        assert!(!out.status.success(), "{broken}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--- broken.md:2"), "the block is named");
    }
}
