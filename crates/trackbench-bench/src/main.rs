//! `trackbench-bench`: the macro benchmarks behind `BENCHMARKS.md`, run in one release process
//! (`cargo xtask bench`, or `cargo run --release -p trackbench-bench -- [--quick] [--only NAME]`).
//!
//! * `ingest`: 10 keys x 1M steps through `Run::log_at` in one thread, timed until `finish()`
//!   returns (everything durable), next to a raw rusqlite row-per-point baseline.
//! * `bytes`: bytes per point of a smooth 1M-point loss curve (full f64 and f32-rounded), as
//!   the database file after a WAL checkpoint and as the sum of the chunk blobs.
//! * `read`: reading that whole 1M-point series, and downsampling it to 2,000 buckets.
//! * `list`: `list_runs` with a filter and an order over 10k runs x 50 params x 20 metrics, in
//!   process and through the real `trackbench` CLI.
//! * `server`: the real `trackbench serve`: downsampled and whole series over HTTP, live-update
//!   latency, the SDK over HTTP (see [`server`]).
//! * `import`: a 1M-scalar TensorBoard event file imported into a fresh store (see [`import`]).
//! * `compare`: the param diff of 1,000 runs; `report`: a 20-run report through the real CLI.
//!
//! Each benchmark is a module of its own (`curves` is the loss curve three of them share);
//! this file holds the driver, the result table and the small helpers they all use.
//!
//! Every benchmark checks its answer (no lost or altered points, the right runs in the right
//! order), so a fast wrong answer fails instead of passing. Each prints a result line as it
//! goes and the run ends with machine information and a Markdown table for `BENCHMARKS.md`.
//! Misses are results, not errors: the exit status is non-zero only when a check fails.
//! Temporary stores live in `tempfile` folders (under `$TMPDIR` or `/tmp`) and are deleted.

mod bytes;
mod compare;
mod curves;
mod import;
mod ingest;
mod list;
mod machine;
mod read;
mod report;
mod server;
mod sse;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tempfile::TempDir;
use trackbench_store::StoreOptions;

use crate::bytes::bench_bytes;
use crate::compare::bench_compare;
use crate::ingest::bench_ingest;
use crate::list::bench_list;
use crate::machine::{loadavg, machine_info};
use crate::read::bench_read;
use crate::report::bench_report;

/// Benchmark names accepted by `--only`.
const NAMES: [&str; 8] = ["ingest", "bytes", "read", "list", "compare", "report", "server", "import"];

/// The series key of the loss curve.
const LOSS: &str = "loss";

/// Sizes of every benchmark. `--quick` divides them by ten.
#[derive(Debug, Clone)]
struct Config {
    quick: bool,
    /// Steps of the 10-key ingest record.
    ingest_steps: i64,
    /// Points of the raw rusqlite baseline (a multiple of 10).
    baseline_points: i64,
    /// Points of the loss curve (bytes/point and read benchmarks).
    curve_points: usize,
    /// Runs of the listing store.
    runs: usize,
    /// In-process repetitions (median reported).
    reps: usize,
    /// CLI repetitions (median reported).
    cli_reps: usize,
    /// Buckets of the downsampling benchmark.
    buckets: usize,
}

impl Config {
    fn full() -> Config {
        Config {
            quick: false,
            ingest_steps: 1_000_000,
            baseline_points: 10_000_000,
            curve_points: 1_000_000,
            runs: 10_000,
            reps: 7,
            cli_reps: 5,
            buckets: 2000,
        }
    }

    fn quick() -> Config {
        let f = Config::full();
        Config {
            quick: true,
            ingest_steps: f.ingest_steps / 10,
            baseline_points: f.baseline_points / 10,
            curve_points: f.curve_points / 10,
            runs: f.runs / 10,
            ..f
        }
    }
}

/// One line of the final table.
#[derive(Debug, Clone)]
struct Row {
    bench: String,
    result: String,
    target: String,
    verdict: String,
}

/// Collects the table rows; verdicts say `(quick)` on a scaled-down run.
struct Table {
    rows: Vec<Row>,
    quick: bool,
}

impl Table {
    fn push(&mut self, bench: impl Into<String>, result: impl Into<String>, target: &str, verdict: &str) {
        let verdict = if self.quick && verdict != "info" && verdict != "FAILED" {
            format!("{verdict} (quick)")
        } else {
            verdict.to_string()
        };
        self.rows.push(Row { bench: bench.into(), result: result.into(), target: target.into(), verdict });
    }

    fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == "FAILED")
    }

    fn markdown(&self) -> String {
        let mut out = String::from("| benchmark | result | target | verdict |\n|---|---|---|---|\n");
        for r in &self.rows {
            let cell = |s: &str| s.replace('|', "\\|");
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                cell(&r.bench),
                cell(&r.result),
                cell(&r.target),
                cell(&r.verdict)
            ));
        }
        out
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// A fresh temporary folder (deleted on drop).
fn temp_dir(what: &str) -> anyhow::Result<TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("trackbench-bench-{what}-"))
        .tempdir()
        .context("creating a temporary folder")
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// "median X (min Y, max Z)".
fn spread(v: &[Duration]) -> String {
    let (lo, hi) = (v.iter().min().copied().unwrap_or_default(), v.iter().max().copied().unwrap_or_default());
    format!("median {} (min {}, max {}, n={})", ms(median(v)), ms(lo), ms(hi), v.len())
}

fn mpts(points: f64, secs: f64) -> String {
    format!("{:.2} M points/s", points / secs / 1e6)
}

fn read_only() -> StoreOptions {
    StoreOptions { read_only: true, ..StoreOptions::default() }
}

/// Where the `trackbench` binary should be: next to this executable (or one folder up, for
/// test binaries under `deps/`).
fn find_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("trackbench"), dir.parent()?.join("trackbench")].into_iter().find(|p| p.is_file())
}

const USAGE: &str = "usage: trackbench-bench [--quick] [--only ingest|bytes|read|list]

  --quick       scale every benchmark down ~10x (a smoke run; not for BENCHMARKS.md)
  --only NAME   run one benchmark: ingest, bytes, read (builds its own curve), list";

/// Parsed command line: the config and the benchmarks to run.
fn parse_args(args: &[String]) -> anyhow::Result<(Config, Vec<&'static str>)> {
    let mut quick = false;
    let mut only: Option<&'static str> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--only" => {
                let name = it.next().context("--only needs a benchmark name")?;
                only = Some(
                    NAMES
                        .iter()
                        .copied()
                        .find(|n| *n == name)
                        .with_context(|| format!("unknown benchmark `{name}` (one of {})", NAMES.join(", ")))?,
                );
            }
            other => bail!("unknown argument `{other}`"),
        }
    }
    let cfg = if quick { Config::quick() } else { Config::full() };
    Ok((cfg, only.map(|n| vec![n]).unwrap_or_else(|| NAMES.to_vec())))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let (cfg, selected) = match parse_args(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let info = machine_info();
    println!("Trackbench macro benchmarks{}", if cfg.quick { " (--quick: scaled down ~10x)" } else { "" });
    for (k, v) in &info {
        println!("  {k}: {v}");
    }
    println!();

    let started = Instant::now();
    let mut table = Table { rows: Vec::new(), quick: cfg.quick };
    let mut curve_store = None;
    for name in &selected {
        let t0 = Instant::now();
        println!("== {name}");
        let result = match *name {
            "ingest" => bench_ingest(&cfg, &mut table),
            "bytes" => bench_bytes(&cfg, &mut table, true).map(|cs| curve_store = Some(cs)),
            "read" => bench_read(&cfg, curve_store.take(), &mut table),
            "list" => bench_list(&cfg, &mut table),
            "compare" => bench_compare(&cfg, &mut table),
            "report" => bench_report(&cfg, &mut table),
            "server" => server::bench_server(&cfg, &mut table),
            "import" => {
                import::bench_import(&cfg, &mut table).and_then(|_| import::bench_mlflow_import(&cfg, &mut table))
            }
            _ => unreachable!("names come from NAMES"),
        };
        if let Err(e) = result {
            println!("[{name}] FAILED: {e:#}");
            table.push(format!("{name}: check failed"), format!("{e:#}"), "-", "FAILED");
        }
        println!("== {name}: {:.1} s\n", t0.elapsed().as_secs_f64());
    }
    drop(curve_store);

    println!("Machine: {}", info.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; "));
    println!("Load average at the end: {}; total {:.0} s\n", loadavg(), started.elapsed().as_secs_f64());
    print!("{}", table.markdown());
    if table.failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::utc_now;

    /// The quick bytes-per-point and read benchmarks run and verify their results. The curve is
    /// cut from `--quick`'s 100k points to 20k: the store is unoptimized in debug builds, and
    /// 100k points take ~2 s there.
    #[test]
    fn quick_bytes_and_read_run_and_verify() {
        let cfg = Config { curve_points: 20_000, reps: 3, ..Config::quick() };
        let mut t = Table { rows: Vec::new(), quick: true };
        let cs = bench_bytes(&cfg, &mut t, false).unwrap();
        bench_read(&cfg, Some(cs), &mut t).unwrap();
        assert!(!t.failed());
        assert_eq!(t.rows.len(), 6, "{:#?}", t.rows);
        assert!(t.markdown().lines().count() == 8);
    }

    #[test]
    fn arguments_and_dates() {
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let (cfg, only) = parse_args(&args(&["--quick", "--only", "list"])).unwrap();
        assert!(cfg.quick && cfg.runs == 1000 && only == ["list"]);
        assert_eq!(parse_args(&[]).unwrap().1, NAMES);
        assert!(parse_args(&args(&["--only", "nope"])).is_err());
        assert!(utc_now().ends_with(" UTC") && utc_now().len() == 20);
    }
}
