//! `cargo xtask soak --minutes N`: a mixed load of the hot paths (API calls
//! with a PAT, the token endpoint, userinfo) with a stream of bad inputs mixed
//! in (wrong tokens, out-of-range offsets, oversized query trees, duplicate
//! credentials, malformed JSON), for N minutes against one server. Reports the
//! unexpected answers (must be 0: the bad inputs have their expected
//! refusals), the resident set size every 10 s, and the open file descriptors.
//! Fails when there was an unexpected answer or when the RSS at the end is more
//! than 10% above its value after the warm-up (`--warmup-secs`, default the
//! first minute; docs/security/soak.md).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

/// Arguments of `cargo xtask soak`.
#[derive(clap::Args)]
pub struct SoakArgs {
    /// Minutes of load.
    #[arg(long, default_value_t = 30)]
    pub minutes: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Seconds of warm-up: the RSS at the end is compared with the RSS then.
    /// With the default cache bound (50,000 entries per cache) the caches take
    /// several minutes to fill (docs/security/soak.md).
    #[arg(long, default_value_t = 60)]
    pub warmup_secs: u64,
    /// Use this server binary instead of building the release one.
    #[arg(long)]
    pub binary: Option<PathBuf>,
}

const USERS: &str = "zitadel.user.v2.UserService";

/// Runs the soak.
///
/// # Errors
/// When the server cannot be started or seeded, or the run found a problem.
pub fn run(args: &SoakArgs) -> Result<()> {
    let binary = match args.binary.clone() {
        Some(b) => b,
        None => {
            crate::cargo(&["build", "--release", "-p", "tessera-server"], &[])?;
            PathBuf::from("target/release/tessera")
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(soak(args, &binary))
}

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
    fn start(binary: &Path) -> Result<Self> {
        use std::io::{BufRead, BufReader};
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let mut child = Command::new(binary)
            .arg("start")
            .env("TESSERA_DATA_DIR", &data)
            .env("TESSERA_SERVER__PORT", "0")
            .env("TESSERA_LOG__LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("tessera listening on ") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(60)).context("the server did not start")?;
        let admin = std::fs::read_to_string(data.join("admin.pat"))?.trim().to_owned();
        Ok(Self { child, base, admin, _dir: dir })
    }

    fn status_field(&self, field: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn rss_mib(&self) -> Option<f64> {
        self.status_field("VmRSS:").map(|kib| kib / 1024.0)
    }

    fn fds(&self) -> Option<usize> {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).ok().map(Iterator::count)
    }
}

async fn call(client: &reqwest::Client, base: &str, token: &str, method: &str, body: Value) -> Result<Value> {
    let res = client.post(format!("{base}/{USERS}/{method}")).bearer_auth(token).json(&body).send().await?;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    ensure!(status.is_success(), "{method}: {status} {body}");
    Ok(body)
}

/// What the load uses: a machine user with a secret.
struct Seed {
    username: String,
    secret: String,
}

async fn seed(client: &reqwest::Client, server: &Server) -> Result<Seed> {
    let (base, admin) = (server.base.as_str(), server.admin.as_str());
    let username = "soak-bot".to_owned();
    let org = client
        .post(format!("{base}/zitadel.org.v2.OrganizationService/ListOrganizations"))
        .bearer_auth(admin)
        .json(&json!({"queries": [{"defaultQuery": {}}]}))
        .send()
        .await?
        .json::<Value>()
        .await?["result"][0]["id"]
        .as_str()
        .context("default organization")?
        .to_owned();
    let body = json!({"organizationId": org, "username": username, "machine": {"name": username}});
    let user = call(client, base, admin, "CreateUser", body).await?["id"].as_str().context("user id")?.to_owned();
    let secret = call(client, base, admin, "AddSecret", json!({"userId": user})).await?["clientSecret"]
        .as_str()
        .context("secret")?
        .to_owned();
    Ok(Seed { username, secret })
}

/// One request of the mix and whether its answer is the expected one. The bad
/// inputs come from `bad` (another loopback address): failed authentications
/// drain their address's rate-limit bucket, which must not slow the hot paths
/// of other addresses.
async fn one(client: &reqwest::Client, bad: &reqwest::Client, server: &Server, seed: &Seed, i: u64) -> Result<bool> {
    let base = &server.base;
    let admin = &server.admin;
    let api = format!("{base}/{USERS}/ListUsers");
    let status = match i % 10 {
        // Hot paths: 70%.
        0..=3 => client.post(&api).bearer_auth(admin).json(&json!({"query": {"limit": 10}})).send().await?.status(),
        4 | 5 => {
            let res = client
                .post(format!("{base}/oauth/v2/token"))
                .basic_auth(&seed.username, Some(&seed.secret))
                .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
                .send()
                .await?;
            let status = res.status();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let Some(token) = body["access_token"].as_str() else {
                report(&format!("token {status} {body}"));
                return Ok(false);
            };
            let info = client.get(format!("{base}/oidc/v1/userinfo")).bearer_auth(token).send().await?.status();
            if !status.is_success() || !info.is_success() {
                report(&format!("token {status} userinfo {info}"));
                return Ok(false);
            }
            status
        }
        6 => client.get(format!("{base}/readyz")).send().await?.status(),
        // Bad inputs: 30%, each with its one expected refusal.
        _ => {
            let client = bad;
            let (res, expected): (reqwest::Response, &[u16]) = match (i / 10) % 6 {
                0 => (client.post(&api).bearer_auth("tsr_pat_wrong").json(&json!({})).send().await?, &[401, 429]),
                1 => (
                    client
                        .post(&api)
                        .bearer_auth(admin)
                        .json(&json!({"query": {"offset": "9223372036854775808"}}))
                        .send()
                        .await?,
                    &[400, 429],
                ),
                2 => {
                    let leaf = json!({"userNameQuery": {"userName": "x"}});
                    let wide = json!({"queries": [{"orQuery": {"queries": vec![leaf; 1000]}}]});
                    (client.post(&api).bearer_auth(admin).json(&wide).send().await?, &[400, 429])
                }
                3 => (
                    client
                        .post(&api)
                        .header("authorization", format!("Bearer {admin}"))
                        .header("authorization", "Bearer tsr_pat_other")
                        .json(&json!({}))
                        .send()
                        .await?,
                    &[400, 429],
                ),
                4 => (
                    client
                        .post(&api)
                        .bearer_auth(admin)
                        .header("content-type", "application/json")
                        .body("{\"query\":")
                        .send()
                        .await?,
                    &[400, 429],
                ),
                _ => (
                    client
                        .post(format!("{base}/oauth/v2/token"))
                        .basic_auth("soak-nobody", Some("tsr_cs_wrong"))
                        .form(&[("grant_type", "client_credentials")])
                        .send()
                        .await?,
                    &[401, 429],
                ),
            };
            let status = res.status().as_u16();
            let body = res.bytes().await.unwrap_or_default();
            let ok = expected.contains(&status);
            if !ok {
                report(&format!("bad input {}: {status} {}", (i / 10) % 6, String::from_utf8_lossy(&body)));
            }
            return Ok(ok);
        }
    };
    if !status.is_success() {
        report(&format!("request {}: {status}", i % 10));
    }
    Ok(status.is_success())
}

/// Prints the first unexpected answers, so a failed run says what went wrong.
fn report(what: &str) {
    static SHOWN: AtomicU64 = AtomicU64::new(0);
    if SHOWN.fetch_add(1, Ordering::Relaxed) < 10 {
        eprintln!("soak: unexpected: {what}");
    }
}

async fn soak(args: &SoakArgs, binary: &Path) -> Result<()> {
    let server = Arc::new(Server::start(binary)?);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let bad = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()?;
    let seed = Arc::new(seed(&client, &server).await?);
    let stop = Arc::new(AtomicBool::new(false));
    let (done, unexpected) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|w| {
            let (client, bad, server, seed) = (client.clone(), bad.clone(), server.clone(), seed.clone());
            let (stop, done, unexpected) = (stop.clone(), done.clone(), unexpected.clone());
            tokio::spawn(async move {
                let mut i = w as u64;
                while !stop.load(Ordering::Relaxed) {
                    match one(&client, &bad, &server, &seed, i).await {
                        Ok(true) => {}
                        Ok(false) => {
                            unexpected.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            report(&format!("{e:#}"));
                            unexpected.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();

    let started = Instant::now();
    let total = Duration::from_secs(args.minutes * 60);
    let mut samples: Vec<(u64, f64, usize)> = Vec::new();
    println!("  time   requests  unexpected   RSS MiB   fds");
    while started.elapsed() < total {
        tokio::time::sleep(Duration::from_secs(10).min(total.saturating_sub(started.elapsed()))).await;
        let secs = started.elapsed().as_secs();
        let (rss, fds) = (server.rss_mib().unwrap_or(0.0), server.fds().unwrap_or(0));
        println!(
            "{:>5}s {:>10} {:>11} {:>9.1} {:>5}",
            secs,
            done.load(Ordering::Relaxed),
            unexpected.load(Ordering::Relaxed),
            rss,
            fds
        );
        samples.push((secs, rss, fds));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let unexpected = unexpected.load(Ordering::Relaxed);
    let warmup = args.warmup_secs;
    let after_warmup = samples.iter().find(|(s, _, _)| *s >= warmup).or(samples.first()).map_or(0.0, |s| s.1);
    let last = samples.last().map_or(0.0, |s| s.1);
    let growth = if after_warmup > 0.0 { (last - after_warmup) / after_warmup * 100.0 } else { 0.0 };
    println!(
        "soak: {} requests in {} min, {unexpected} unexpected; RSS {after_warmup:.1} MiB after {warmup} s, {last:.1} MiB at the end ({growth:+.1}%)",
        done.load(Ordering::Relaxed),
        args.minutes
    );
    if unexpected > 0 {
        bail!("{unexpected} unexpected answers");
    }
    if growth > 10.0 {
        bail!("RSS grew {growth:.1}% after the first {warmup} s");
    }
    Ok(())
}
