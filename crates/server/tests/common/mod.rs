//! `spawn_app`: a Tessera server on port 0 against a fresh database (SQLite in a
//! temp dir, or a fresh PostgreSQL database when `TESSERA_TEST_POSTGRES_URL` is
//! set). Two ways:
//! - [`Spawn::in_process`]: `tessera_server::start::build` inside the test, on
//!   a [`FixedClock`] the test advances (`app.clock().advance(…)`) and a seeded
//!   generator: for anything time-based, with no waiting;
//! - [`Spawn::start`]: the real `tessera` binary as a subprocess, with its logs
//!   captured, for what only a process has (logs, signals, exit codes, the CLI).

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support: a failed step must fail the test")]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tessera_domain::time::FixedClock;
use tessera_persistence::testing::TestDb;
use tessera_server::settings::Settings;
use tessera_server::start::Running;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_tessera");

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The database (dropped after the server).
    pub db: Arc<TestDb>,
    child: Option<Child>,
    running: Option<Running>,
    clock: Option<Arc<FixedClock>>,
    logs: Arc<Mutex<String>>,
    _dir: Option<Arc<tempfile::TempDir>>,
    /// A client for requests to the server.
    pub client: reqwest::Client,
}

/// How to start a server.
pub struct Spawn {
    db: Option<Arc<TestDb>>,
    dir: Option<Arc<tempfile::TempDir>>,
    env: Vec<(String, String)>,
    tweaks: Vec<Tweak>,
}

/// A change to an in-process server's settings.
type Tweak = Box<dyn FnOnce(&mut Settings)>;

impl Spawn {
    /// A fresh database and data dir.
    pub fn new() -> Self {
        Self { db: None, dir: None, env: Vec::new(), tweaks: Vec::new() }
    }

    /// Reuse the database and data dir of an earlier server.
    pub fn reusing(app: &TestApp) -> Self {
        Self { db: Some(app.db.clone()), dir: app._dir.clone(), env: Vec::new(), tweaks: Vec::new() }
    }

    /// Changes the settings of an in-process server ([`Spawn::in_process`]).
    pub fn settings(mut self, tweak: impl FnOnce(&mut Settings) + 'static) -> Self {
        self.tweaks.push(Box::new(tweak));
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Starts the server and waits until it listens.
    pub async fn start(self) -> TestApp {
        assert!(self.tweaks.is_empty(), "Spawn::settings is for in-process servers: use Spawn::env");
        let db = match self.db {
            Some(db) => db,
            None => Arc::new(TestDb::new().await),
        };
        let dir = self.dir.unwrap_or_else(|| Arc::new(tempfile::tempdir().expect("temp dir")));
        let data_dir = dir.path().join("data");
        let mut cmd = base_command(&data_dir, db.url());
        cmd.arg("start");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let (child, address, logs) = launch(cmd);
        TestApp {
            address,
            data_dir,
            db,
            child: Some(child),
            running: None,
            clock: None,
            logs,
            _dir: Some(dir),
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        }
    }
}

impl Spawn {
    /// Builds the server inside this test on a frozen clock (now, truncated)
    /// and a seeded generator, and waits until it listens. Environment
    /// variables set with [`Spawn::env`] are not read: use the binary for
    /// configuration tests.
    pub async fn in_process(self) -> TestApp {
        assert!(self.env.is_empty(), "in-process servers read no environment: use Spawn::start");
        let db = match self.db {
            Some(db) => db,
            None => Arc::new(TestDb::new().await),
        };
        let dir = self.dir.unwrap_or_else(|| Arc::new(tempfile::tempdir().expect("temp dir")));
        let data_dir = dir.path().join("data");
        let mut settings = Settings { data_dir: data_dir.clone(), ..Settings::default() };
        settings.database.url = Some(db.url().to_owned().into());
        settings.server.port = 0;
        settings.server.workers = 1;
        for tweak in self.tweaks {
            tweak(&mut settings);
        }
        let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
        let rng = Arc::new(tessera_core::SeededRandom::new(42));
        let running = tessera_server::start::build(settings, clock.clone(), rng).await.expect("build the server");
        TestApp {
            address: format!("http://{}", running.address),
            data_dir,
            db,
            child: None,
            running: Some(running),
            clock: Some(clock),
            logs: Arc::default(),
            _dir: Some(dir),
            client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client"),
        }
    }
}

/// A `tessera` command with a clean environment pointing at `data_dir` and `db_url`.
pub fn base_command(data_dir: &Path, db_url: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TESSERA_DATA_DIR", data_dir)
        .env("TESSERA_DATABASE__URL", db_url)
        .env("TESSERA_SERVER__PORT", "0")
        .env("TESSERA_SERVER__WORKERS", "1")
        .env("TESSERA_LOG__LEVEL", "info,access=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn launch(mut cmd: Command) -> (Child, String, Arc<Mutex<String>>) {
    let mut child = cmd.spawn().expect("spawn tessera");
    let logs = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut logs = sink.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = logs.clone();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("tessera listening on ") {
                let addr = rest.split_whitespace().next().unwrap_or_default().to_owned();
                let _ = tx.send(addr);
            }
            sink.lock().unwrap().push_str(&format!("[stdout] {line}\n"));
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => (child, address, logs),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait();
            panic!("tessera did not start ({status:?}); logs:\n{}", logs.lock().unwrap());
        }
    }
}

impl TestApp {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Starts a server on a fresh database.
    pub async fn spawn() -> Self {
        Spawn::new().start().await
    }

    /// A server built in this test ([`Spawn::in_process`]) on a frozen clock.
    pub async fn in_process() -> Self {
        Spawn::new().in_process().await
    }

    /// The server's clock, which only moves when the test advances it.
    ///
    /// # Panics
    /// For a subprocess server, which runs on the wall clock.
    pub fn clock(&self) -> &FixedClock {
        self.clock.as_deref().expect("an in-process server (TestApp::in_process) has a test clock")
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The actions of the audit trail's most recent 100 events, newest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        use tessera_domain::repo::Repos;
        let store = tessera_persistence::SeaStore::connect(&tessera_persistence::DatabaseOptions::new(self.db.url()))
            .await
            .expect("the test database");
        let events = store.audit().recent(100).await.expect("the audit trail");
        store.close().await;
        events.into_iter().map(|e| e.action).collect()
    }

    /// The webhook worker of an in-process server, whose passes a test
    /// drives on the mock clock.
    pub fn webhooks(&self) -> &tessera_core::webhooks::Worker {
        self.running.as_ref().and_then(|r| r.webhooks.as_ref()).expect("an in-process server with webhooks")
    }

    /// Runs an in-process server's signing-key refresh (and rotation plan) now.
    pub async fn refresh_keys(&self) {
        self.running.as_ref().expect("an in-process server").refresh_keys().await.expect("refresh the signing keys");
    }

    /// Writes an in-process server's batched last-use notes now.
    pub async fn flush_usage(&self) -> bool {
        self.running.as_ref().expect("an in-process server").flush_usage().await
    }

    /// Stops an in-process server and waits until it has (the database and
    /// data dir stay for [`Spawn::reusing`]).
    pub async fn stop_in_process(&mut self) {
        let running = self.running.take().expect("an in-process server");
        running.stop().await.expect("a clean stop");
    }

    /// The bootstrap admin's PAT.
    pub fn admin_pat(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("admin.pat")).expect("admin.pat").trim().to_owned()
    }

    /// The logs once `ready` holds of them, or after 5 s: a subprocess's lines
    /// reach [`TestApp::logs`] through a reader thread, a moment after the
    /// response that caused them (not time-based behaviour, only the capture).
    pub async fn logs_once(&self, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let logs = self.logs();
            if ready(&logs) || Instant::now() >= deadline {
                return logs;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Sends `signal` (e.g. `TERM`) and waits for the process to exit.
    pub fn stop_with(&mut self, signal: &str) -> ExitStatus {
        let mut child = self.child.take().expect("server running");
        let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                // Let the log threads drain.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(Instant::now() < deadline, "tessera did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server with SIGTERM.
    pub fn stop(&mut self) -> ExitStatus {
        self.stop_with("TERM")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.request_stop();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `tessera` to completion with `args`; returns exit status, stdout, stderr.
pub fn run(mut cmd: Command) -> (ExitStatus, String, String) {
    let mut child = cmd.spawn().expect("spawn tessera");
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut out).expect("read stdout");
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("read stderr");
    (child.wait().expect("wait"), out, err)
}

/// A copy of `v` with ids, timestamps and credentials replaced by placeholders, for
/// snapshots: UUIDs become `[uuid]`, RFC 3339 timestamps `[timestamp]` (far-future
/// ones `[timestamp:9999]` so the default expiration stays visible), opaque
/// credentials `[tsr_…]`, JWTs `[jwt]`, epoch-second claims `[epoch]`.
pub fn redacted(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if uuid::Uuid::try_parse(s).is_ok() {
                Value::String("[uuid]".into())
            } else if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
                Value::String(if s.starts_with("9999-") { "[timestamp:9999]" } else { "[timestamp]" }.into())
            } else if s.starts_with("eyJ") && s.split('.').count() == 3 {
                Value::String("[jwt]".into())
            } else if let Some(rest) = s.strip_prefix("tsr_") {
                Value::String(format!("[tsr_{}]", rest.split('_').next().unwrap_or_default()))
            } else {
                v.clone()
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    // Epoch-second claims (JWT and OIDC).
                    ("updated_at" | "iat" | "exp" | "nbf" | "auth_time", Value::Number(_)) => {
                        (k.clone(), Value::String("[epoch]".into()))
                    }
                    _ => (k.clone(), redacted(v)),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Posts a Connect call to `service/method` with an optional bearer token; returns
/// (status, `WWW-Authenticate` header, JSON body).
pub async fn connect(
    app: &TestApp,
    token: Option<&str>,
    service: &str,
    method: &str,
    body: serde_json::Value,
) -> (u16, Option<String>, serde_json::Value) {
    let mut req = app.client.post(app.url(&format!("/{service}/{method}"))).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, challenge, body)
}

/// The pinned Node packages of `tests/node`.
pub const NODE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");

/// The node binary (`TESSERA_TEST_NODE`) when `packages` are installed under
/// [`NODE_DIR`]; else `None`, after saying why, so that the test is skipped.
///
/// # Panics
/// When something is missing and `CI=true` (`.ci/run` sets both up).
#[allow(dead_code, reason = "only the Node client tests use it")]
pub fn node_with(packages: &[&str]) -> Option<String> {
    let package = packages.iter().find(|p| !Path::new(NODE_DIR).join("node_modules").join(p).is_dir());
    let missing = match (std::env::var("TESSERA_TEST_NODE"), package) {
        (Err(_), _) => "TESSERA_TEST_NODE does not name a node binary".to_owned(),
        (Ok(_), Some(p)) => format!("{p} is not installed: run `npm ci` in {NODE_DIR}"),
        (Ok(node), None) => return Some(node),
    };
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {missing} (.ci/run sets both up)");
    eprintln!("skipping a Node client test: {missing}");
    None
}

/// The interpreter of `TESSERA_TEST_PYTHON` (default `python3`) when it can
/// import `module`; otherwise `None`, after saying why — unless `CI` is
/// `true`, where the check must run (`.ci/run` installs the packages into
/// `target/ci-venv`) and a missing module fails the test.
pub async fn python_with(module: &str) -> Option<String> {
    let python = std::env::var("TESSERA_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe = tokio::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .output()
        .await;
    if probe.is_ok_and(|o| o.status.success()) {
        return Some(python);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "`{python}` cannot import {module}; with CI=true this check must run (.ci/run installs it into target/ci-venv)"
    );
    eprintln!("skipping the {module} check: install it and set TESSERA_TEST_PYTHON to that interpreter");
    None
}

/// Runs `script` with `python`, `input` as JSON on its standard input;
/// returns whether it succeeded, and its standard output and error.
pub async fn run_python(python: &str, script: &str, input: &serde_json::Value) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(python)
        .args(["-c", script])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    {
        let mut stdin = child.stdin.take().expect("python's stdin");
        stdin.write_all(input.to_string().as_bytes()).await.expect("write to python");
    }
    let out = child.wait_with_output().await.expect("wait for python");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}
