//! `cargo xtask <task>`: the project's chores in one place (CONVENTIONS.md §8).
//!
//! - `ci` — what CI runs: fmt check, clippy with `-D warnings`, the test suite on
//!   SQLite, a smoke run of the benchmark, and, when `TESSERA_TEST_POSTGRES_URL`
//!   is set, the suite again on PostgreSQL. Both passes include the tests that
//!   are `#[ignore]`d for want of a tool or of PostgreSQL (`--include-ignored`).
//! - `migrate up|down|status|fresh [--database-url URL]` — the schema, without
//!   starting a server.
//! - `bench [--database-url URL] [--users N] [--tokens N] [--smoke]` — the
//!   performance figures of issue #7 (see `bench.rs`).
//! - `soak --minutes N` — a mixed load with bad inputs (see `soak.rs`).
//! - `fuzz <target>|--all [--time SECS] [--runs N]` — coverage-guided fuzzing
//!   of the parsers with libFuzzer (see `fuzz.rs`, docs/security/fuzzing.md).
//! - `dist` — the release binary in `target/dist/tessera-<version>-<target>.tar.gz`
//!   with a `sha256sum` checksum file (see `release.rs`).
//! - `release <version> [--dry-run]` — checks, tests, version bump, CHANGELOG.md,
//!   the tarball, a "Release <version>" commit and a `v<version>` tag; never pushes.

mod bench;
mod fuzz;
mod release;
mod soak;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use tessera_persistence::{DatabaseOptions, SeaStore};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Tessera project chores")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// fmt check, clippy -D warnings, tests on SQLite (and PostgreSQL when
    /// TESSERA_TEST_POSTGRES_URL is set).
    Ci,
    /// Manage the database schema.
    Migrate {
        /// up, down, status or fresh.
        #[arg(value_enum)]
        action: Action,
        /// Database URL; default TESSERA_DATABASE__URL, else ./tessera-data/tessera.db.
        #[arg(long, env = "TESSERA_DATABASE__URL")]
        database_url: Option<String>,
        /// With `down`: how many migrations to revert.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// Benchmarks a release server under load (docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// A mixed load with bad inputs for N minutes; reports unexpected answers,
    /// RSS and file descriptors (docs/security/soak.md).
    Soak(soak::SoakArgs),
    /// Coverage-guided fuzzing of the parsers with libFuzzer (docs/security/fuzzing.md).
    Fuzz(fuzz::FuzzArgs),
    /// Builds the release tarball and its checksum under target/dist.
    Dist,
    /// Bumps the version, writes CHANGELOG.md, builds the tarball, commits and tags.
    Release(release::ReleaseArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Action {
    Up,
    Down,
    Status,
    Fresh,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Ci => ci(),
        Task::Migrate { action, database_url, steps } => migrate(action, database_url, steps),
        Task::Bench(args) => bench::run(args),
        Task::Soak(args) => soak::run(&args),
        Task::Fuzz(args) => fuzz::run(&args),
        Task::Dist => release::dist(),
        Task::Release(args) => release::release(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` when set (relative to
/// the workspace root, as cargo reads it), else `target`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from("target"),
    }
}

/// Runs `cargo` with `args` (and extra environment), failing on a non-zero exit.
pub(crate) fn cargo(args: &[&str], env: &[(&str, Option<&str>)]) -> Result<()> {
    eprintln!("xtask: cargo {}", args.join(" "));
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let status = cmd.status().context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The test-name prefix of the `#[ignore]`d tests that need PostgreSQL (they
/// live in a `mod postgres`, e.g. `crates/server/tests/multi_node.rs`).
const POSTGRES_ONLY: &str = "postgres::";

fn ci() -> Result<()> {
    const PG: &str = "TESSERA_TEST_POSTGRES_URL";
    let postgres = std::env::var(PG).ok().filter(|v| !v.trim().is_empty());
    if std::env::var("CI").is_ok_and(|v| v == "true") && postgres.is_none() {
        bail!("CI=true but {PG} is not set: the PostgreSQL half of the suite would be skipped");
    }
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"], &[])?;
    // The README's test command, on the embedded default, with the tests that
    // need a tool (Python SDK, browser, jq…) included: a plain `cargo test`
    // counts them as ignored, CI runs them (and with CI=true they fail rather
    // than skip when the tool is missing). The PostgreSQL-only ones wait for
    // the pass below.
    cargo(
        &["test", "--workspace", "--", "--include-ignored", "--skip", POSTGRES_ONLY],
        &[(PG, None), ("INSTA_UPDATE", Some("no"))],
    )?;
    // Benchmarks are not timed tests: a smoke run of every scenario on the
    // debug binary the tests built, asserting correct answers, not speeds.
    bench::run(bench::BenchArgs::smoke(target_dir().join("debug/tessera")))?;
    // Every fuzz target briefly, instrumented: the build and the engine work,
    // and the seeds plus a few seconds of mutations find no crash.
    fuzz::run(&fuzz::FuzzArgs { target: None, all: true, time: 10, runs: None })?;
    if let Some(url) = postgres {
        cargo(&["test", "--workspace", "--", "--include-ignored"], &[(PG, Some(&url)), ("INSTA_UPDATE", Some("no"))])?;
        // The outage test stops and starts the machine's PostgreSQL cluster, so
        // it runs alone, after everything else that uses that server.
        cargo(
            &["test", "-p", "tessera-server", "--test", "db_outage", "--", "--include-ignored", "--test-threads=1"],
            &[(PG, Some(&url)), ("TESSERA_TEST_PG_OUTAGE", Some("1"))],
        )?;
    }
    Ok(())
}

fn migrate(action: Action, url: Option<String>, steps: u32) -> Result<()> {
    let url = url.unwrap_or_else(|| "sqlite://./tessera-data/tessera.db?mode=rwc".into());
    if url.starts_with("sqlite://./tessera-data/") {
        std::fs::create_dir_all("tessera-data").context("creating ./tessera-data")?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = SeaStore::connect(&DatabaseOptions::new(url)).await?;
        match action {
            Action::Up => store.migrate_up().await?,
            Action::Down => store.migrate_down(Some(steps)).await?,
            Action::Fresh => store.migrate_fresh().await?,
            Action::Status => {}
        }
        for m in store.migration_status().await? {
            println!("{}  {}", if m.applied { "applied" } else { "pending" }, m.name);
        }
        store.close().await;
        Ok(())
    })
}
