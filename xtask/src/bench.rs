//! `cargo xtask bench`: starts a release `tessera`, seeds a population through
//! the API, and drives keep-alive HTTP load at fixed concurrency against each
//! scenario of issue #7, verifying every response body. The load comes from
//! `wrk` when it is installed (a Lua script sends the scenario's request and
//! checks each answer), because the in-process reqwest generator saturates
//! before the server on `/healthz`; scenarios whose request changes every time
//! (a fresh assertion per grant) and machines without `wrk` use the in-process
//! one. The binary is found under `CARGO_TARGET_DIR` when that is set. Prints a Markdown table
//! (requests/s, p50/p99, errors, ratio to the `/healthz` baseline of the same
//! run, the server's peak RSS) and, outside `--smoke`, writes it to
//! `docs/benchmarks.md`. `--smoke` (what CI runs) uses a tiny population and a
//! second per scenario and asserts zero errors, never speeds.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::join_all;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// Options of a run.
#[derive(clap::Args, Clone)]
pub struct BenchArgs {
    /// Database URL (default: the embedded SQLite file in a temporary data dir).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Machine users to create (each with a PAT, a registered key and a secret).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Extra opaque access tokens to store before measuring (the scale run).
    #[arg(long, default_value_t = 0)]
    pub tokens: usize,
    /// Seconds of measurement per scenario.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up per scenario (not measured).
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// A short run that checks every scenario answers correctly (CI).
    #[arg(long)]
    pub smoke: bool,
    /// Use this server binary instead of building the release one.
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Load generator: `auto` (wrk when installed, else the in-process one),
    /// `wrk`, or `in-process`. wrk drives every scenario whose request is the
    /// same each time; the grants that need a fresh assertion per request stay
    /// in-process (they are far below what it can generate).
    #[arg(long, value_enum, default_value_t = GeneratorChoice::Auto)]
    pub generator: GeneratorChoice,
    /// Only the scenarios whose name contains this (e.g. to profile one);
    /// the baseline always runs. Does not write docs/benchmarks.md.
    #[arg(long)]
    pub only: Option<String>,
}

impl BenchArgs {
    /// The smoke run CI does, against `binary`.
    #[must_use]
    pub fn smoke(binary: PathBuf) -> Self {
        Self {
            database_url: None,
            users: 10,
            tokens: 10,
            duration: 1,
            warmup: 0,
            concurrency: 4,
            smoke: true,
            binary: Some(binary),
            generator: GeneratorChoice::Auto,
            only: None,
        }
    }
}

/// `--generator`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GeneratorChoice {
    /// wrk when it runs, else in-process.
    Auto,
    /// wrk (fails when it is not installed).
    Wrk,
    /// The in-process reqwest generator.
    InProcess,
}

/// The external load generator of a run, if any.
struct Wrk {
    version: String,
    threads: usize,
}

impl Wrk {
    /// wrk when `choice` allows it and it runs.
    fn find(choice: GeneratorChoice, concurrency: usize) -> Result<Option<Self>> {
        if choice == GeneratorChoice::InProcess {
            return Ok(None);
        }
        // `wrk --version` prints its banner and exits 1.
        let found = Command::new("wrk").arg("--version").output().ok().and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
            text.lines().next().filter(|l| l.starts_with("wrk")).map(str::to_owned)
        });
        match (found, choice) {
            (Some(banner), _) => {
                let version = banner.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
                let cores = std::thread::available_parallelism().map_or(2, usize::from);
                Ok(Some(Self { version, threads: cores.clamp(1, 2).min(concurrency.max(1)) }))
            }
            (None, GeneratorChoice::Wrk) => bail!("--generator wrk, but wrk does not run (apt-get install wrk)"),
            (None, _) => Ok(None),
        }
    }

    /// Drives `request` (sent unchanged every time) for `secs` seconds and
    /// reads wrk's summary; answers must be 200 and contain `needle`.
    fn run(&self, request: &reqwest::Request, needle: Option<&str>, secs: u64, concurrency: usize) -> Result<Figures> {
        let lua_str = |v: &str| {
            ensure!(!v.contains("]==]"), "cannot quote a request part for wrk");
            Ok(format!("[==[{v}]==]"))
        };
        let mut script = format!("wrk.method = {}\n", lua_str(request.method().as_str())?);
        if let Some(body) = request.body().and_then(reqwest::Body::as_bytes) {
            script.push_str(&format!("wrk.body = {}\n", lua_str(std::str::from_utf8(body)?)?));
        }
        for (name, value) in request.headers() {
            script.push_str(&format!("wrk.headers[ {} ] = {}\n", lua_str(name.as_str())?, lua_str(value.to_str()?)?));
        }
        script.push_str("local threads = {}\nfunction setup(thread) table.insert(threads, thread) end\n");
        script.push_str("function init(args) bad = 0 end\n");
        if let Some(needle) = needle {
            script.push_str(&format!(
                "local needle = {}\nfunction response(status, headers, body)\n  if status ~= 200 or not string.find(body, needle, 1, true) then bad = bad + 1 end\nend\n",
                lua_str(needle)?
            ));
        }
        // With a `response` check, a bad status is counted there already.
        let status_errors = if needle.is_some() { "0" } else { "e.status" };
        script.push_str(&format!(
            "function done(summary, latency, requests)\n  local bad = 0\n  for _, t in ipairs(threads) do bad = bad + (t:get(\"bad\") or 0) end\n  local e = summary.errors\n  io.write(string.format(\"TESSERA_WRK %d %d %d %d %d\\n\", summary.requests, summary.duration, bad + {status_errors} + e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))\nend\n",
        ));
        let file = tempfile::Builder::new().suffix(".lua").tempfile()?;
        std::fs::write(file.path(), script)?;
        let out = Command::new("wrk")
            .arg(format!("-t{}", self.threads))
            .arg(format!("-c{}", concurrency.max(self.threads)))
            .arg(format!("-d{secs}s"))
            .arg("-s")
            .arg(file.path())
            .arg(request.url().as_str())
            .stdin(Stdio::null())
            .output()
            .context("running wrk")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout.lines().find_map(|l| l.strip_prefix("TESSERA_WRK ")).with_context(|| {
            format!("wrk gave no summary ({}): {stdout}{}", out.status, String::from_utf8_lossy(&out.stderr))
        })?;
        let n: Vec<f64> = line.split_whitespace().map(str::parse).collect::<Result<_, _>>()?;
        let [requests, micros, errors, p50, p99] = n[..] else { bail!("wrk's summary is not five numbers: {line}") };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "counts wrk printed as integers")]
        Ok(Figures {
            name: String::new(),
            rps: requests / (micros / 1e6).max(1e-9),
            p50_ms: p50 / 1000.0,
            p99_ms: p99 / 1000.0,
            errors: errors as usize,
            requests: requests as usize,
            generator: self.version.clone(),
        })
    }
}

/// The request of a scenario when it is the same every time (wrk can send it).
fn fixed_request(s: &Scenario) -> Option<reqwest::Request> {
    if s.http2 {
        return None;
    }
    let client = reqwest::Client::new();
    let first = (s.make)(&client, 0).build().ok()?;
    let second = (s.make)(&client, 1).build().ok()?;
    let body = |r: &reqwest::Request| r.body().and_then(reqwest::Body::as_bytes).map(<[u8]>::to_vec);
    (body(&first) == body(&second) && first.url() == second.url()).then_some(first)
}

const API_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Runs the benchmark.
pub fn run(mut args: BenchArgs) -> Result<()> {
    if args.smoke {
        args.users = args.users.min(10);
        args.tokens = args.tokens.min(10);
        args.duration = 1;
        args.warmup = 0;
        args.concurrency = args.concurrency.min(4);
    }
    let binary = match args.binary.clone() {
        Some(b) => b,
        None => {
            crate::cargo(&["build", "--release", "-p", "tessera-server"], &[])?;
            crate::target_dir().join("release/tessera")
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(bench(args, &binary))
}

/// A running server.
struct Server {
    child: Child,
    base: String,
    admin: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &Path, database_url: Option<&str>) -> Result<Self> {
        use std::io::{BufRead, BufReader};
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let mut cmd = Command::new(binary);
        cmd.arg("start")
            .env("TESSERA_DATA_DIR", &data)
            .env("TESSERA_SERVER__PORT", "0")
            .env("TESSERA_LOG__LEVEL", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = database_url {
            cmd.env("TESSERA_DATABASE__URL", url);
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("tessera listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let address = rx.recv_timeout(Duration::from_secs(60)).context("the server did not start")?;
        let admin = std::fs::read_to_string(data.join("admin.pat"))?.trim().to_owned();
        Ok(Self { child, base: address, admin, _dir: dir })
    }

    /// Peak resident set size (`VmHWM`), in MiB.
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Current resident set size (`VmRSS`), in MiB.
    fn rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

/// Everything the scenarios need, created through the API.
struct Seed {
    user_id: String,
    username: String,
    pat: String,
    secret: String,
    key_id: String,
    private_pem: String,
    app_id: String,
    app_secret: String,
    app_key: Value,
    project: String,
    issuer: String,
}

async fn call(client: &reqwest::Client, base: &str, token: &str, method: &str, body: Value) -> Result<Value> {
    let res = client.post(format!("{base}/{method}")).bearer_auth(token).json(&body).send().await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    ensure!(status.is_success(), "{method}: {status} {body}");
    Ok(body)
}

async fn seed(server: &Server, args: &BenchArgs) -> Result<Seed> {
    const USERS: &str = "zitadel.user.v2.UserService";
    let client = reqwest::Client::new();
    let (base, admin) = (server.base.as_str(), server.admin.as_str());
    let issuer = format!("http://localhost:{}", base.rsplit(':').next().unwrap_or_default());
    let org = call(
        &client,
        base,
        admin,
        "zitadel.org.v2.OrganizationService/ListOrganizations",
        json!({"queries": [{"defaultQuery": {}}]}),
    )
    .await?["result"][0]["id"]
        .as_str()
        .context("default organization")?
        .to_owned();
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)?;
    let public_b64 = STANDARD.encode(private.to_public_key().to_public_key_pem(LineEnding::LF)?);
    let private_pem = private.to_pkcs1_pem(LineEnding::LF)?.to_string();

    // The population: users with a PAT, a registered key and a secret each.
    let next = Arc::new(AtomicUsize::new(0));
    let seeded = join_all((0..16).map(|_| {
        let (client, next, public_b64, org) = (client.clone(), next.clone(), public_b64.clone(), org.clone());
        async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.users.max(1) {
                    return Ok::<_, anyhow::Error>(out);
                }
                let username = format!("bench-{i:06}");
                let user = call(
                    &client,
                    base,
                    admin,
                    &format!("{USERS}/CreateUser"),
                    json!({"organizationId": org, "username": username, "machine": {"name": username}}),
                )
                .await?["id"]
                    .as_str()
                    .context("user id")?
                    .to_owned();
                call(
                    &client,
                    base,
                    admin,
                    "zitadel.internal_permission.v2.InternalPermissionService/CreateAdministrator",
                    json!({"userId": user, "resource": {"organizationId": org}, "roles": ["ORG_USER_MANAGER"]}),
                )
                .await?;
                let pat =
                    call(&client, base, admin, &format!("{USERS}/AddPersonalAccessToken"), json!({"userId": user}))
                        .await?["token"]
                        .as_str()
                        .context("pat")?
                        .to_owned();
                let key = call(
                    &client,
                    base,
                    admin,
                    &format!("{USERS}/AddKey"),
                    json!({"userId": user, "publicKey": public_b64}),
                )
                .await?["keyId"]
                    .as_str()
                    .context("key id")?
                    .to_owned();
                let secret = call(&client, base, admin, &format!("{USERS}/AddSecret"), json!({"userId": user})).await?
                    ["clientSecret"]
                    .as_str()
                    .context("secret")?
                    .to_owned();
                out.push((user, username, pat, key, secret));
            }
        }
    }))
    .await;
    let mut population = Vec::new();
    for s in seeded {
        population.extend(s?);
    }
    let (user_id, username, pat, key_id, secret) = population.pop().context("no users seeded")?;

    // One project with an API application (secret and key) and the user's role.
    let project = call(
        &client,
        base,
        admin,
        "zitadel.project.v2.ProjectService/CreateProject",
        json!({"organizationId": org, "name": "bench"}),
    )
    .await?["projectId"]
        .as_str()
        .context("project")?
        .to_owned();
    call(
        &client,
        base,
        admin,
        "zitadel.project.v2.ProjectService/AddProjectRole",
        json!({"projectId": project, "roleKey": "reader", "displayName": "Reader"}),
    )
    .await?;
    call(
        &client,
        base,
        admin,
        "zitadel.authorization.v2.AuthorizationService/CreateAuthorization",
        json!({"userId": user_id, "projectId": project, "roleKeys": ["reader"]}),
    )
    .await?;
    let app = call(&client, base, admin, "zitadel.application.v2.ApplicationService/CreateApplication", json!({"projectId": project, "name": "bench-api", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}})).await?;
    let keyed = call(&client, base, admin, "zitadel.application.v2.ApplicationService/CreateApplication", json!({"projectId": project, "name": "bench-api-jwt", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}})).await?;
    let key = call(
        &client,
        base,
        admin,
        "zitadel.application.v2.ApplicationService/CreateApplicationKey",
        json!({"applicationId": keyed["applicationId"], "projectId": project}),
    )
    .await?;
    let app_key: Value = serde_json::from_slice(&STANDARD.decode(key["keyDetails"].as_str().context("key file")?)?)?;
    let seed = Seed {
        user_id,
        username,
        pat,
        secret,
        key_id,
        private_pem,
        app_id: app["apiConfiguration"]["clientId"].as_str().context("client id")?.to_owned(),
        app_secret: app["apiConfiguration"]["clientSecret"].as_str().context("client secret")?.to_owned(),
        app_key,
        project,
        issuer,
    };

    // The scale run: many stored tokens besides the ones measured.
    let next = Arc::new(AtomicUsize::new(0));
    let filled = join_all((0..16).map(|_| {
        let (client, next, seed) = (client.clone(), next.clone(), &seed);
        async move {
            while next.fetch_add(1, Ordering::Relaxed) < args.tokens {
                let body = token_request(
                    &client,
                    base,
                    seed,
                    &[("grant_type", "client_credentials"), ("scope", API_AUD)],
                    true,
                )
                .await?;
                ensure!(body.get("access_token").is_some(), "token: {body}");
            }
            Ok::<_, anyhow::Error>(())
        }
    }))
    .await;
    for f in filled {
        f?;
    }
    Ok(seed)
}

async fn token_request(
    client: &reqwest::Client,
    base: &str,
    seed: &Seed,
    form: &[(&str, &str)],
    basic: bool,
) -> Result<Value> {
    let mut req = client.post(format!("{base}/oauth/v2/token")).form(form);
    if basic {
        req = req.basic_auth(&seed.username, Some(&seed.secret));
    }
    Ok(req.send().await?.json().await?)
}

impl Seed {
    fn user_assertion(&self, jti: Option<String>) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let mut claims =
            json!({"iss": self.user_id, "sub": self.user_id, "aud": self.issuer, "iat": now, "exp": now + 3000});
        if let Some(jti) = jti {
            claims["jti"] = json!(jti);
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key_id.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(self.private_pem.as_bytes())?)?)
    }

    fn app_assertion(&self) -> Result<String> {
        let now = chrono::Utc::now().timestamp();
        let client = self.app_key["clientId"].as_str().context("clientId")?;
        let claims = json!({"iss": client, "sub": client, "aud": self.issuer, "iat": now, "exp": now + 3000});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.app_key["keyId"].as_str().context("keyId")?.to_owned());
        let key = EncodingKey::from_rsa_pem(self.app_key["key"].as_str().context("key")?.as_bytes())?;
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }
}

/// A token endpoint scenario: the `n`-th request posts the form `bodies[n]`
/// (each used once while there are enough: a replayed `jti` is refused).
fn token_scenario(name: &str, url: String, bodies: Arc<Vec<String>>) -> Scenario {
    Scenario {
        name: name.into(),
        make: Arc::new(move |c, n| {
            c.post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(bodies[n % bodies.len()].clone())
        }),
        check: token_body,
        needle: Some("\"access_token\""),
        http2: false,
    }
}

/// Builds the `n`-th request of a scenario on a connection's client.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// One kind of request, with the check its answer must pass.
#[derive(Clone)]
struct Scenario {
    name: String,
    make: MakeRequest,
    check: fn(u16, &[u8]) -> bool,
    /// What an answer's body must contain when an external load generator,
    /// which cannot run `check`, drives the scenario (its status must be 200).
    needle: Option<&'static str>,
    /// Sent over HTTP/2 with prior knowledge (gRPC), by the in-process
    /// generator only.
    http2: bool,
}

struct Figures {
    name: String,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    requests: usize,
    /// The load generator that measured it.
    generator: String,
}

fn ok_status(status: u16, _: &[u8]) -> bool {
    status == 200
}

fn active(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<Value>(body)
            .is_ok_and(|v| v["active"] == true && v.get("urn:zitadel:iam:org:project:roles").is_some())
}

fn user_body(status: u16, body: &[u8]) -> bool {
    status == 200 && serde_json::from_slice::<Value>(body).is_ok_and(|v| v["user"]["userId"].is_string())
}

/// A gRPC answer with a message: a successful call (an error is a
/// Trailers-Only answer, without one). The status trailer itself is not
/// visible to reqwest.
fn grpc_message(status: u16, body: &[u8]) -> bool {
    status == 200
        && body.len() > 5
        && body[0] == 0
        && body[1..5] == u32::try_from(body.len() - 5).unwrap_or(0).to_be_bytes()
}

fn token_body(status: u16, body: &[u8]) -> bool {
    status == 200 && serde_json::from_slice::<Value>(body).is_ok_and(|v| v["access_token"].is_string())
}

async fn measure(s: &Scenario, args: &BenchArgs, clients: &[reqwest::Client], h2: &[reqwest::Client]) -> Figures {
    let clients = if s.http2 { h2 } else { clients };
    let counter = Arc::new(AtomicUsize::new(0));
    let run = |secs: u64, record: bool| {
        let counter = counter.clone();
        join_all(clients.iter().cloned().map(move |client| {
            let (s, counter) = (s.clone(), counter.clone());
            async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                let end = Instant::now() + Duration::from_secs(secs);
                while Instant::now() < end {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    let good = match (s.make)(&client, n).send().await {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            match res.bytes().await {
                                Ok(body) => (s.check)(status, &body),
                                Err(_) => false,
                            }
                        }
                        Err(_) => false,
                    };
                    if record {
                        latencies.push(start.elapsed());
                        errors += usize::from(!good);
                    }
                }
                (latencies, errors)
            }
        }))
    };
    if args.warmup > 0 {
        run(args.warmup, false).await;
    }
    let started = Instant::now();
    let results = run(args.duration, true).await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut all: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for (l, e) in results {
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct =
        |p: f64| all.get(((all.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    Figures {
        name: s.name.clone(),
        rps: all.len() as f64 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
        requests: all.len(),
        generator: "in-process".into(),
    }
}

async fn bench(args: BenchArgs, binary: &Path) -> Result<()> {
    let server = Server::start(binary, args.database_url.as_deref())?;
    let idle_rss = server.rss_mib();
    eprintln!("xtask bench: seeding {} users and {} extra tokens…", args.users, args.tokens);
    let seed = Arc::new(seed(&server, &args).await?);
    let base = server.base.clone();

    // Tokens to introspect: an opaque one and a JWT one, both with the project audience.
    let aud = format!("openid urn:zitadel:iam:org:project:id:{}:aud {API_AUD}", seed.project);
    let http = reqwest::Client::new();
    let opaque = token_request(&http, &base, &seed, &[("grant_type", "client_credentials"), ("scope", &aud)], true)
        .await?["access_token"]
        .as_str()
        .context("opaque token")?
        .to_owned();
    call(
        &http,
        &base,
        &server.admin,
        "zitadel.user.v2.UserService/UpdateUser",
        json!({"userId": seed.user_id, "machine": {"accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}}),
    )
    .await?;
    let jwt = token_request(&http, &base, &seed, &[("grant_type", "client_credentials"), ("scope", &aud)], true)
        .await?["access_token"]
        .as_str()
        .context("JWT token")?
        .to_owned();
    ensure!(jwt.split('.').count() == 3, "expected a JWT access token");
    let app_assertion = seed.app_assertion()?;

    // Fresh assertions with distinct jti for the jwt-bearer scenarios, signed
    // before the clock starts: enough for 12,000 grants/s over warm-up and
    // measurement (a reused one would be refused as a replay and counted, and
    // the refusals would trip the failed-authentication limit of the address).
    // The smoke run too: its one second reached 2,500 grants/s once.
    let per_run = usize::try_from((args.warmup + args.duration) * 12_000)?;
    let sign_pool = |tag: &'static str| -> Result<Arc<Vec<String>>> {
        let seed = seed.clone();
        let chunks: Vec<_> = (0..2)
            .map(|t| {
                let seed = seed.clone();
                std::thread::spawn(move || {
                    (0..per_run / 2)
                        .map(|i| seed.user_assertion(Some(format!("{tag}-{t}-{i}"))))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(per_run);
        for c in chunks {
            all.extend(c.join().map_err(|_| anyhow::anyhow!("signing thread panicked"))??);
        }
        Ok(Arc::new(all))
    };

    let form_of = |pairs: Vec<(&'static str, String)>| serde_urlencoded_pairs(&pairs);
    // (scenario, JWT access tokens for the user, the signing algorithm it needs)
    let mut scenarios: Vec<(Scenario, bool, Option<&'static str>)> = Vec::new();
    let url = |p: &str| format!("{base}{p}");
    let healthz = url("/healthz");
    scenarios.push((
        Scenario {
            name: "GET /healthz (baseline)".into(),
            make: Arc::new(move |c, _| c.get(&healthz)),
            check: ok_status,
            needle: None,
            http2: false,
        },
        false,
        None,
    ));
    for (name, token) in [
        ("introspect PAT (client_secret_basic)", seed.pat.clone()),
        ("introspect opaque AT (client_secret_basic)", opaque.clone()),
        ("introspect JWT AT (client_secret_basic)", jwt.clone()),
    ] {
        let (u, id, secret, body) = (
            url("/oauth/v2/introspect"),
            seed.app_id.clone(),
            seed.app_secret.clone(),
            form_of(vec![("token", token)]),
        );
        scenarios.push((
            Scenario {
                name: name.into(),
                make: Arc::new(move |c, _| {
                    c.post(&u)
                        .basic_auth(&id, Some(&secret))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                }),
                check: active,
                needle: Some("\"active\":true"),
                http2: false,
            },
            false,
            None,
        ));
    }
    {
        let (u, body) = (
            url("/oauth/v2/introspect"),
            form_of(vec![
                ("token", seed.pat.clone()),
                ("client_assertion_type", CLIENT_ASSERTION.into()),
                ("client_assertion", app_assertion),
            ]),
        );
        scenarios.push((
            Scenario {
                name: "introspect PAT (private_key_jwt)".into(),
                make: Arc::new(move |c, _| {
                    c.post(&u).header("content-type", "application/x-www-form-urlencoded").body(body.clone())
                }),
                check: active,
                needle: Some("\"active\":true"),
                http2: false,
            },
            false,
            None,
        ));
    }
    {
        let (u, pat, body) = (
            url("/zitadel.user.v2.UserService/GetUserByID"),
            seed.pat.clone(),
            json!({"userId": seed.user_id}).to_string(),
        );
        scenarios.push((
            Scenario {
                name: "GetUserByID (PAT)".into(),
                make: Arc::new(move |c, _| {
                    c.post(&u).bearer_auth(&pat).header("content-type", "application/json").body(body.clone())
                }),
                check: user_body,
                needle: Some("\"userId\""),
                http2: false,
            },
            false,
            None,
        ));
    }
    {
        // The same call over gRPC (h2c): GetUserByIDRequest { user_id = 1 }
        // in its 5-byte gRPC frame.
        let u = url("/zitadel.user.v2.UserService/GetUserByID");
        let pat = seed.pat.clone();
        let id = seed.user_id.as_bytes();
        let mut message = vec![0x0a, u8::try_from(id.len())?];
        message.extend_from_slice(id);
        let mut body = vec![0];
        body.extend_from_slice(&u32::try_from(message.len())?.to_be_bytes());
        body.extend_from_slice(&message);
        scenarios.push((
            Scenario {
                name: "GetUserByID (PAT, gRPC)".into(),
                make: Arc::new(move |c, _| {
                    c.post(&u)
                        .bearer_auth(&pat)
                        .header("content-type", "application/grpc")
                        .header("te", "trailers")
                        .body(body.clone())
                }),
                check: grpc_message,
                needle: None,
                http2: true,
            },
            false,
            None,
        ));
    }
    {
        let (u, user, secret, body) = (
            url("/oauth/v2/token"),
            seed.username.clone(),
            seed.secret.clone(),
            form_of(vec![("grant_type", "client_credentials".into()), ("scope", API_AUD.into())]),
        );
        scenarios.push((
            Scenario {
                name: "client_credentials grant".into(),
                make: Arc::new(move |c, _| {
                    c.post(&u)
                        .basic_auth(&user, Some(&secret))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                }),
                check: token_body,
                needle: Some("\"access_token\""),
                http2: false,
            },
            // Opaque tokens: the target (8,000/s) is for the grant itself; JWT
            // access tokens add an RS256 signature, measured by jwt-bearer below.
            false,
            None,
        ));
    }
    // The JWT access token scenario once per signing algorithm: the instance
    // starts on RS256; ES256 and EdDSA keys are created and activated through
    // the WebKeyService before their rows (docs/operator/key-rotation.md).
    for (name, jwt_tokens, tag, alg) in [
        ("jwt-bearer grant, opaque AT", false, "o", None),
        ("jwt-bearer grant, JWT AT (RS256)", true, "j", Some("RS256")),
        ("jwt-bearer grant, JWT AT (ES256)", true, "e", Some("ES256")),
        ("jwt-bearer grant, JWT AT (EdDSA)", true, "d", Some("EdDSA")),
    ] {
        if args.only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let pool = sign_pool(tag)?;
        let u = url("/oauth/v2/token");
        let bodies: Arc<Vec<String>> = Arc::new(
            pool.iter()
                .map(|a| {
                    form_of(vec![
                        ("grant_type", JWT_BEARER.into()),
                        ("assertion", a.clone()),
                        ("scope", API_AUD.into()),
                    ])
                })
                .collect(),
        );
        scenarios.push((token_scenario(name, u, bodies), jwt_tokens, alg));
    }

    // Workload identity federation: external tokens of an ES256 issuer whose
    // key set the credential holds inline (so the scenario needs no issuer
    // server, and measures the exchange with its keys at hand), each with its
    // own jti, signed before the clock starts.
    let exchange = "token exchange (federated), opaque AT";
    if args.only.as_deref().is_none_or(|o| exchange.contains(o)) {
        use p256::elliptic_curve::sec1::ToEncodedPoint as _;
        use p256::pkcs8::EncodePrivateKey as _;
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let point = secret.public_key().to_encoded_point(false);
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let (x, y) = (point.x().context("x")?, point.y().context("y")?);
        let jwks =
            json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "bench", "alg": "ES256", "x": b64(x), "y": b64(y)}]});
        let (issuer, subject) = ("https://ci.bench.example", "repo:bench/deploy:environment:production");
        call(
            &http,
            &base,
            &server.admin,
            "tessera.federation.v1.FederationService/AddFederatedCredential",
            json!({"userId": seed.user_id, "name": "bench", "issuer": issuer, "subject": subject, "jwks": jwks.to_string()}),
        )
        .await?;
        let key = EncodingKey::from_ec_pem(secret.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("bench".into());
        let now = chrono::Utc::now().timestamp();
        let bodies: Arc<Vec<String>> = Arc::new(
            (0..per_run)
                .map(|i| {
                    let claims = json!({"iss": issuer, "sub": subject, "aud": seed.issuer, "iat": now,
                                        "exp": now + 3000, "jti": format!("x-{i}")});
                    Ok(form_of(vec![
                        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange".into()),
                        ("subject_token", jsonwebtoken::encode(&header, &claims, &key)?),
                        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt".into()),
                        ("scope", API_AUD.into()),
                    ]))
                })
                .collect::<Result<_>>()?,
        );
        let u = url("/oauth/v2/token");
        scenarios.push((token_scenario(exchange, u, bodies), false, None));
    }

    let clients: Vec<reqwest::Client> = (0..args.concurrency)
        .map(|_| reqwest::Client::builder().pool_max_idle_per_host(1).build())
        .collect::<Result<_, _>>()?;
    let h2_clients: Vec<reqwest::Client> = (0..args.concurrency)
        .map(|_| reqwest::Client::builder().http2_prior_knowledge().build())
        .collect::<Result<_, _>>()?;
    let wrk = Wrk::find(args.generator, args.concurrency)?;
    match &wrk {
        Some(w) => eprintln!(
            "xtask bench: load generator: {} (-t{} -c{}) for the scenarios with a fixed request, in-process for the rest",
            w.version, w.threads, args.concurrency
        ),
        None => eprintln!("xtask bench: load generator: in-process (install wrk for one that is not the bottleneck)"),
    }
    let mut figures = Vec::new();
    let mut jwt_mode = true;
    let mut algorithm = "RS256";
    let chosen = |s: &Scenario| args.only.as_deref().is_none_or(|o| s.name.contains(o) || s.name.contains("baseline"));
    for (scenario, wants_jwt, wants_alg) in scenarios.iter().filter(|(s, _, _)| chosen(s)) {
        if let Some(alg) = *wants_alg
            && alg != algorithm
        {
            activate_signing_key(&http, &base, &server.admin, alg).await?;
            algorithm = alg;
        }
        if *wants_jwt != jwt_mode {
            let kind = if *wants_jwt { "ACCESS_TOKEN_TYPE_JWT" } else { "ACCESS_TOKEN_TYPE_BEARER" };
            call(
                &http,
                &base,
                &server.admin,
                "zitadel.user.v2.UserService/UpdateUser",
                json!({"userId": seed.user_id, "machine": {"accessTokenType": kind}}),
            )
            .await?;
            jwt_mode = *wants_jwt;
        }
        if let Some(alg) = *wants_alg {
            // One grant outside the measurement: its token is signed as the row says.
            let assertion = seed.user_assertion(Some(format!("check-{alg}")))?;
            let answer = token_request(
                &http,
                &base,
                &seed,
                &[("grant_type", JWT_BEARER), ("assertion", &assertion), ("scope", API_AUD)],
                false,
            )
            .await?;
            let token = answer["access_token"].as_str().context("access_token")?;
            let header = jsonwebtoken::decode_header(token)?;
            ensure!(format!("{:?}", header.alg) == alg, "expected an {alg} access token, got {:?}", header.alg);
        }
        let f = match (&wrk, fixed_request(scenario)) {
            (Some(w), Some(request)) => {
                let (w, needle, concurrency) = (w, scenario.needle, args.concurrency);
                if args.warmup > 0 {
                    w.run(&request, needle, args.warmup, concurrency)?;
                }
                Figures { name: scenario.name.clone(), ..w.run(&request, needle, args.duration, concurrency)? }
            }
            _ => measure(scenario, &args, &clients, &h2_clients).await,
        };
        eprintln!(
            "xtask bench: {:<45} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  ({})",
            f.name, f.rps, f.p50_ms, f.p99_ms, f.errors, f.generator
        );
        figures.push(f);
    }
    let peak = server.peak_rss_mib();
    let table = render(&figures, idle_rss, peak, &args);
    println!("{table}");
    let errors: usize = figures.iter().map(|f| f.errors).sum();
    if errors > 0 || figures.iter().any(|f| f.requests == 0) {
        bail!("{errors} requests failed their check (or a scenario made no request)");
    }
    if !args.smoke && args.only.is_none() {
        let doc = format!("{}\n\n{}\n{table}", BENCH_DOC_HEAD.trim_end(), machine());
        std::fs::write("docs/benchmarks.md", doc).context("writing docs/benchmarks.md")?;
        eprintln!("xtask bench: wrote docs/benchmarks.md");
    }
    Ok(())
}

/// Creates a signing key for `alg` (RS256, ES256, EdDSA) through the
/// WebKeyService and activates it: the server signs with it from then on.
async fn activate_signing_key(http: &reqwest::Client, base: &str, admin: &str, alg: &str) -> Result<()> {
    let kind = match alg {
        "ES256" => json!({"ecdsa": {"curve": "ECDSA_CURVE_P256"}}),
        "EdDSA" => json!({"ed25519": {}}),
        _ => json!({"rsa": {"bits": "RSA_BITS_2048", "hasher": "RSA_HASHER_SHA256"}}),
    };
    let created = call(http, base, admin, "zitadel.webkey.v2.WebKeyService/CreateWebKey", kind).await?;
    let id = created["id"].as_str().context("CreateWebKey answered no id")?.to_owned();
    call(http, base, admin, "zitadel.webkey.v2.WebKeyService/ActivateWebKey", json!({"id": id})).await?;
    eprintln!("xtask bench: signing with a new {alg} key ({id})");
    Ok(())
}

fn serde_urlencoded_pairs(pairs: &[(&str, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn render(figures: &[Figures], idle: Option<f64>, peak: Option<f64>, args: &BenchArgs) -> String {
    let base = figures.first().map_or(1.0, |f| f.rps.max(1.0));
    let mut out = String::new();
    out.push_str(&format!(
        "Backend: {} · users: {} · extra stored tokens: {} · concurrency: {} · {} s per scenario after {} s warm-up\n\n",
        if args.database_url.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite (embedded)" },
        args.users, args.tokens, args.concurrency, args.duration, args.warmup
    ));
    out.push_str(
        "| scenario | req/s | p50 ms | p99 ms | errors | ratio to baseline | load generator |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {} |\n",
            f.name,
            f.rps,
            f.p50_ms,
            f.p99_ms,
            f.errors,
            f.rps / base,
            f.generator
        ));
    }
    let mib = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1} MiB"));
    out.push_str(&format!(
        "\nServer RSS: {} idle after start-up (before the seeding); peak {} (VmHWM).\n",
        mib(idle),
        mib(peak)
    ));
    out
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map_or_else(|| "?".into(), |k| format!("{:.0} GiB", k / 1024.0 / 1024.0));
    format!(
        "Machine: {cores} cores ({cpu}), {mem} RAM; the load generator runs on the same cores. Date: {}.\n",
        chrono::Utc::now().format("%Y-%m-%d")
    )
}

const BENCH_DOC_HEAD: &str = "# Benchmarks

Produced by `cargo xtask bench` (see `xtask/src/bench.rs`): a release `tessera`
on a fresh data dir, a population seeded through the API, then keep-alive HTTP
load at fixed concurrency on the same cores: from `wrk` (when installed) for
every scenario whose request is the same each time, from the in-process
generator for the grants that need a fresh assertion per request; the table
names the generator of each row. Every response body is checked (an introspection must be
active and carry the role claims, a grant must return a token); errors must be
0. Ratios are against `GET /healthz` measured in the same run, which makes them
comparable across runs on this shared, noisy machine; absolute numbers are not.
How these figures compare with the targets of issue #7, and what bounds them, is
in [performance.md](performance.md); this file is rewritten by every full run.
";
