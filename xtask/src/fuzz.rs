//! `cargo xtask fuzz <target>|--all [--time SECS] [--runs N]`: coverage-guided
//! fuzzing of the parsers in `fuzz/` with libFuzzer, on the stable toolchain.
//!
//! The targets are built with the sanitizer-coverage instrumentation that
//! cargo-fuzz would pass (`-Cpasses=sancov-module` and its LLVM options, all
//! stable `-C` flags), in the `fuzz` profile (optimised, with debug
//! assertions and overflow checks: the root Cargo.toml), for the host
//! triple named explicitly so that the flags reach neither build scripts nor
//! proc macros. They go to `<target dir>/fuzz`, apart from the normal builds.
//! Each run reads the committed seeds in `fuzz/corpus/<target>` and keeps what
//! it finds in `<target dir>/fuzz/corpus/<target>`; a crash is written to
//! `<target dir>/fuzz/artifacts/<target>/` and fails the task.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Every target: the `[[bin]]`s of fuzz/Cargo.toml, in the order `--all`
/// runs them.
fn targets() -> Result<Vec<String>> {
    let text = std::fs::read_to_string("fuzz/Cargo.toml").context("reading fuzz/Cargo.toml")?;
    let manifest: toml::Table = text.parse().context("parsing fuzz/Cargo.toml")?;
    let bins = manifest.get("bin").and_then(toml::Value::as_array).context("fuzz/Cargo.toml has no [[bin]]")?;
    bins.iter()
        .map(|b| b.get("name").and_then(toml::Value::as_str).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .context("a [[bin]] of fuzz/Cargo.toml has no name")
}

/// Arguments of `cargo xtask fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// The target to run (one of fuzz/Cargo.toml's [[bin]]s).
    pub target: Option<String>,
    /// Run every target, one after the other.
    #[arg(long, conflicts_with = "target")]
    pub all: bool,
    /// Seconds per target.
    #[arg(long, default_value_t = 60)]
    pub time: u64,
    /// Stop a target after this many executions (whichever of --time and
    /// --runs comes first).
    #[arg(long)]
    pub runs: Option<u64>,
}

/// What one run did, from libFuzzer's last status line.
#[derive(Debug)]
struct Outcome {
    target: String,
    runs: u64,
    seconds: u64,
    coverage: Option<u64>,
    corpus: Option<u64>,
}

/// Builds and runs the targets.
///
/// # Errors
/// When the build fails, a target crashes, or its output cannot be read.
pub fn run(args: &FuzzArgs) -> Result<()> {
    let all = targets()?;
    let targets: Vec<String> = match (&args.target, args.all) {
        (Some(t), false) if all.contains(t) => vec![t.clone()],
        (Some(t), false) => bail!("unknown fuzz target {t}; the targets are {}", all.join(", ")),
        (None, true) => all,
        _ => bail!("name a target ({}) or pass --all", all.join(", ")),
    };
    let bins = build()?;
    let mut outcomes = Vec::new();
    for target in &targets {
        outcomes.push(fuzz(&bins, target, args.time, args.runs)?);
    }
    println!("\n| target | executions | seconds | exec/s | coverage | corpus |");
    println!("|---|---:|---:|---:|---:|---:|");
    for o in &outcomes {
        let rate = o.runs / o.seconds.max(1);
        let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        println!("| {} | {} | {} | {rate} | {} | {} |", o.target, o.runs, o.seconds, show(o.coverage), show(o.corpus));
    }
    Ok(())
}

fn host_triple() -> Result<String> {
    let out = Command::new("rustc").arg("-vV").output().context("running rustc -vV")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.strip_prefix("host: ")).map(str::to_owned).context("rustc -vV printed no host triple")
}

/// Builds every target; returns the directory holding the binaries.
fn build() -> Result<PathBuf> {
    let host = host_triple()?;
    let target_dir = crate::target_dir().join("fuzz");
    let flags = [
        "-Cpasses=sancov-module",
        "-Cllvm-args=-sanitizer-coverage-level=4",
        "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
        "-Cllvm-args=-sanitizer-coverage-pc-table",
        "-Cllvm-args=-sanitizer-coverage-trace-compares",
    ]
    .join("\x1f");
    let target_dir_text = target_dir.to_string_lossy().into_owned();
    crate::cargo(
        &[
            "build",
            "-p",
            "tessera-fuzz",
            "--features",
            "libfuzzer",
            "--bins",
            "--profile",
            "fuzz",
            "--target",
            &host,
            "--target-dir",
            &target_dir_text,
        ],
        &[("CARGO_ENCODED_RUSTFLAGS", Some(&flags)), ("RUSTFLAGS", None)],
    )?;
    Ok(target_dir.join(host).join("fuzz"))
}

fn fuzz(bins: &Path, target: &str, seconds: u64, runs: Option<u64>) -> Result<Outcome> {
    let seeds = PathBuf::from("fuzz/corpus").join(target);
    let work = crate::target_dir().join("fuzz/corpus").join(target);
    let artifacts = crate::target_dir().join("fuzz/artifacts").join(target);
    for dir in [&work, &artifacts] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut cmd = Command::new(bins.join(target));
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        // Inputs past this size only slow the search; the parsers' own
        // bounds are tested by the end-to-end tests.
        .arg("-max_len=16384")
        .arg("-print_final_stats=1")
        .arg(&work)
        .arg(&seeds)
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    if let Some(runs) = runs {
        cmd.arg(format!("-runs={runs}"));
    }
    eprintln!("xtask: fuzzing {target} for up to {seconds} s");
    let started = std::time::Instant::now();
    let out = cmd.output().with_context(|| format!("running the {target} fuzzer"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "the {target} fuzzer failed ({}); its input is under {}:\n{}",
            out.status,
            artifacts.display(),
            tail.join("\n")
        );
    }
    let stat = |name: &str| {
        log.lines().find_map(|l| l.strip_prefix(&format!("stat::{name}:")).and_then(|v| v.trim().parse::<u64>().ok()))
    };
    // The last "#N … cov: C … corp: K" status line.
    let status = log.lines().rev().find(|l| l.starts_with('#') && l.contains("cov:"));
    let field = |name: &str| {
        status.and_then(|l| {
            let mut words = l.split_whitespace();
            words.find(|w| *w == name)?;
            words.next()?.split('/').next()?.parse::<u64>().ok()
        })
    };
    let outcome = Outcome {
        target: target.to_owned(),
        runs: stat("number_of_executed_units").unwrap_or(0),
        seconds: started.elapsed().as_secs(),
        coverage: field("cov:"),
        corpus: field("corp:"),
    };
    eprintln!("xtask: {target}: {outcome:?}");
    Ok(outcome)
}
