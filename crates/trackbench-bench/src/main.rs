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
//!
//! Every benchmark checks its answer (no lost or altered points, the right runs in the right
//! order), so a fast wrong answer fails instead of passing. Each prints a result line as it
//! goes and the run ends with machine information and a Markdown table for `BENCHMARKS.md`.
//! Misses are results, not errors: the exit status is non-zero only when a check fails.
//! Temporary stores live in `tempfile` folders (under `$TMPDIR` or `/tmp`) and are deleted.

mod import;
mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rusqlite::{Connection, params};
use tempfile::TempDir;
use trackbench_sdk::{Run, RunOptions};
use trackbench_store::{
    Batch, DB_FILE, NewRun, Points, RunQuery, RunStatus, SeriesBatch, StepRange, Store, StoreOptions,
};

/// The ten keys of the ingest record.
const KEYS: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];
/// Per-key factors of the ingest values (key `k` logs `base(step) * MULT[k]`).
const MULT: [f64; 10] = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9];
/// Benchmark names accepted by `--only`.
const NAMES: [&str; 8] = ["ingest", "bytes", "read", "list", "compare", "report", "server", "import"];
/// The filter and order of the listing benchmark.
const FILTER: &str = "metrics.acc > 0.5 and params.lr = 0.01";
const ORDER_BY: &str = "metrics.acc desc";
/// The series key of the loss curve.
const LOSS: &str = "loss";
/// Points per `log_batch` when a curve is written straight into the store (an SDK flush).
const CURVE_BATCH: usize = 10_000;

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

// ---------------------------------------------------------------------------------------------
// (a) sustained ingest and the raw baseline

/// The ingest value of step `step` before the per-key factor: a smooth decaying curve.
#[inline]
fn ingest_base(step: i64) -> f64 {
    2.0 / (1.0 + step as f64 * 1e-5)
}

fn bench_ingest(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let steps = cfg.ingest_steps;
    let points = steps * 10;
    let dir = temp_dir("ingest")?;
    let run = Run::start(RunOptions::new("bench").name("sustained-ingest").store_dir(dir.path()))?;
    let id = run.id().to_string();

    let start = Instant::now();
    let mut rec = [("", 0.0f64); 10];
    for step in 0..steps {
        let base = ingest_base(step);
        for k in 0..10 {
            rec[k] = (KEYS[k], base * MULT[k]);
        }
        run.log_at(step, &rec)?;
    }
    let logged = start.elapsed();
    run.finish()?;
    let total = start.elapsed();

    // Check: every point of every key, in order, bit-exact.
    let check = Instant::now();
    let mut store = Store::open(dir.path(), read_only())?;
    for (k, key) in KEYS.iter().enumerate() {
        let s = store.series(&id, key, StepRange::ALL)?;
        ensure!(s.len() == steps as usize, "ingest: key {key} has {} points, expected {steps}", s.len());
        for (i, (&step, &v)) in s.steps.iter().zip(&s.values).enumerate() {
            ensure!(step == i as i64, "ingest: key {key} point {i} has step {step}");
            let want = ingest_base(step) * MULT[k];
            ensure!(v.to_bits() == want.to_bits(), "ingest: key {key} step {step}: stored {v}, logged {want}");
        }
    }
    let summaries = store.metric_summaries(&id)?;
    ensure!(
        summaries.len() == 10 && summaries.iter().all(|s| s.count == steps && s.last_step == steps - 1),
        "ingest: summaries disagree with the points: {summaries:?}"
    );
    drop(store);
    drop(dir);
    let sdk_rate = points as f64 / total.as_secs_f64();
    println!(
        "[ingest] SDK -> store: {points} points ({} keys x {steps} steps) in {:.2} s = {}; the logging loop \
         returned after {:.2} s ({:.0} ns per log_at call), finish() took {:.2} s more; all points verified \
         ({:.1} s)",
        KEYS.len(),
        total.as_secs_f64(),
        mpts(points as f64, total.as_secs_f64()),
        logged.as_secs_f64(),
        logged.as_secs_f64() * 1e9 / steps as f64,
        (total - logged).as_secs_f64(),
        check.elapsed().as_secs_f64()
    );
    t.push(
        format!("sustained ingest: SDK -> store, 10 keys x {steps} steps, one thread, until finish() returns"),
        format!("{} ({:.2} s for {points} points)", mpts(points as f64, total.as_secs_f64()), total.as_secs_f64()),
        ">= 3 M points/s",
        pass(sdk_rate >= 3e6),
    );

    let (raw_points, raw_secs) = raw_baseline(cfg.baseline_points)?;
    let raw_rate = raw_points as f64 / raw_secs;
    println!(
        "[ingest] raw rusqlite baseline (row per point, WITHOUT ROWID, one transaction): {raw_points} points in \
         {raw_secs:.2} s = {}",
        mpts(raw_points as f64, raw_secs)
    );
    let ratio = sdk_rate / raw_rate;
    println!("[ingest] SDK / raw baseline = {ratio:.2}x");
    t.push(
        format!("raw rusqlite baseline: one prepared INSERT per point, one transaction ({raw_points} points)"),
        format!("{} ({raw_secs:.2} s)", mpts(raw_points as f64, raw_secs)),
        "-",
        "info",
    );
    t.push("sustained ingest: SDK / raw baseline", format!("{ratio:.2}x"), ">= 5x", pass(ratio >= 5.0));
    Ok(())
}

/// Inserts `points` rows (10 keys per step) one prepared INSERT each in one transaction into
/// a fresh WAL database; returns (points, seconds from the first insert to the commit).
fn raw_baseline(points: i64) -> anyhow::Result<(i64, f64)> {
    let dir = temp_dir("raw")?;
    let mut conn = Connection::open(dir.path().join("raw.db"))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    ensure!(mode.eq_ignore_ascii_case("wal"), "baseline: journal mode is {mode}, not WAL");
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL;
         CREATE TABLE p(run INTEGER, key TEXT, step INTEGER, wall INTEGER, value REAL,
                        PRIMARY KEY(run, key, step)) WITHOUT ROWID;",
    )?;
    let steps = points / 10;
    let start = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare("INSERT INTO p(run, key, step, wall, value) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for step in 0..steps {
            let wall = trackbench_store::now_ms();
            let base = ingest_base(step);
            for k in 0..10 {
                stmt.execute(params![1i64, KEYS[k], step, wall, base * MULT[k]])?;
            }
        }
    }
    tx.commit()?;
    let secs = start.elapsed().as_secs_f64();
    let n: i64 = conn.query_row("SELECT count(*) FROM p", [], |r| r.get(0))?;
    ensure!(n == steps * 10, "baseline: {n} rows stored, {} inserted", steps * 10);
    Ok((n, secs))
}

// ---------------------------------------------------------------------------------------------
// (b) bytes per point

/// A store holding one loss curve, kept for the read benchmark.
struct CurveStore {
    dir: TempDir,
    run: String,
    points: Points,
}

/// xorshift64: deterministic jitter without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The full-precision loss value at `step`.
fn loss(step: i64) -> f64 {
    let s = step as f64;
    0.1 + 2.0 * (-s / 2e5).exp() + 0.01 * (s * 0.01).sin()
}

/// `n` points of the loss curve: steps 0.., wall times ~50 ms apart (47..=53 ms), values in
/// full f64 or rounded to f32.
fn curve(n: usize, f32_values: bool) -> Points {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut p = Points::with_capacity(n);
    let mut wall: i64 = 1_700_000_000_000;
    for i in 0..n as i64 {
        let v = loss(i);
        p.push(i, wall, if f32_values { v as f32 as f64 } else { v });
        wall += 47 + (rng.next() % 7) as i64;
    }
    p
}

/// Writes `points` as series `loss` of a new run, straight through `Store::log_batch` in
/// batches of [`CURVE_BATCH`] points, and finishes the run.
fn write_curve(points: Points) -> anyhow::Result<CurveStore> {
    let dir = temp_dir("curve")?;
    let mut store = Store::open(dir.path(), StoreOptions::default())?;
    let new = NewRun { project: "bench".into(), name: Some("loss-curve".into()), ..NewRun::default() };
    let run = store.create_run(&new)?.id;
    let mut start = 0;
    while start < points.len() {
        let end = (start + CURVE_BATCH).min(points.len());
        let mut chunk = Points::with_capacity(end - start);
        chunk.extend_from(&points, start..end);
        let batch = Batch { series: vec![SeriesBatch { key: LOSS.into(), points: chunk }], ..Batch::default() };
        let report = store.log_batch(&run, &batch)?;
        ensure!(report.points == end - start && report.rejected.is_empty(), "curve: batch refused: {report:?}");
        start = end;
    }
    store.finish_run(&run, RunStatus::Finished, None)?;
    Ok(CurveStore { dir, run, points })
}

/// Sizes of a store after a WAL checkpoint.
struct Sizes {
    db_bytes: u64,
    chunk_bytes: i64,
    chunks: i64,
}

/// Checkpoints the WAL (TRUNCATE) and measures the database file and the chunk blobs;
/// checks that the chunks hold `n` points.
fn measure(dir: &Path, n: usize) -> anyhow::Result<Sizes> {
    let db = dir.join(DB_FILE);
    let conn = Connection::open(&db)?;
    let (busy, _log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    ensure!(busy == 0, "the WAL checkpoint was blocked");
    let (chunk_bytes, stored, chunks): (i64, i64, i64) = conn.query_row(
        "SELECT coalesce(sum(length(data)), 0), coalesce(sum(n), 0), count(*) FROM metric_chunks",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    ensure!(stored == n as i64, "the chunks hold {stored} points, {n} were logged");
    drop(conn);
    let db_bytes = std::fs::metadata(&db)?.len();
    Ok(Sizes { db_bytes, chunk_bytes, chunks })
}

fn bytes_verdict(bpp: f64) -> &'static str {
    if bpp <= 4.0 {
        "PASS (stretch met)"
    } else if bpp <= 12.0 {
        "PASS (stretch missed)"
    } else {
        "MISS"
    }
}

/// Runs the bytes-per-point benchmark; returns the full-f64 store for [`bench_read`].
fn bench_bytes(cfg: &Config, t: &mut Table, with_sdk: bool) -> anyhow::Result<CurveStore> {
    let n = cfg.curve_points;
    let mut kept = None;
    for (label, f32_values) in [("f64 values", false), ("f32-rounded values (`as f32 as f64`)", true)] {
        let cs = write_curve(curve(n, f32_values))?;
        let sizes = measure(cs.dir.path(), n)?;
        let mut store = Store::open(cs.dir.path(), read_only())?;
        let back = store.series(&cs.run, LOSS, StepRange::ALL)?;
        ensure!(back.bit_eq(&cs.points), "bytes: the {label} curve did not read back bit-exact");
        drop(store);
        let file = sizes.db_bytes as f64 / n as f64;
        let marginal = sizes.chunk_bytes as f64 / n as f64;
        println!(
            "[bytes] {label}: {n} points, db file {} bytes after checkpoint = {file:.2} B/point; chunk blobs {} \
             bytes in {} chunks = {marginal:.2} B/point; read back bit-exact",
            sizes.db_bytes, sizes.chunk_bytes, sizes.chunks
        );
        t.push(
            format!("bytes/point, smooth loss curve, {label}, {n} points, 50 ms walls: db file after checkpoint"),
            format!("{file:.2} B/point"),
            "<= 12 (stretch <= 4)",
            bytes_verdict(file),
        );
        t.push(
            format!("bytes/point, {label}: marginal (sum of chunk blobs)"),
            format!("{marginal:.2} B/point"),
            "<= 12 (stretch <= 4)",
            bytes_verdict(marginal),
        );
        if !f32_values {
            kept = Some(cs);
        }
    }
    if with_sdk {
        // The SDK stamps wall times itself (the clock at the call), so this variant cannot have
        // 50 ms steps: 1M calls take about a second, and near-constant walls flatter the codec.
        let dir = temp_dir("curve-sdk")?;
        let run = Run::start(RunOptions::new("bench").name("loss-curve-sdk").store_dir(dir.path()))?;
        let id = run.id().to_string();
        for step in 0..n as i64 {
            run.log_at(step, &[(LOSS, loss(step))])?;
        }
        run.finish()?;
        let sizes = measure(dir.path(), n)?;
        let mut store = Store::open(dir.path(), read_only())?;
        let back = store.series(&id, LOSS, StepRange::ALL)?;
        ensure!(back.len() == n, "bytes: SDK curve has {} points, {n} logged", back.len());
        for (i, (&s, &v)) in back.steps.iter().zip(&back.values).enumerate() {
            ensure!(s == i as i64 && v.to_bits() == loss(s).to_bits(), "bytes: SDK curve point {i} differs");
        }
        let (file, marginal) = (sizes.db_bytes as f64 / n as f64, sizes.chunk_bytes as f64 / n as f64);
        println!(
            "[bytes] f64 values through the SDK (wall = clock at the call, so walls barely move): db file \
             {file:.2} B/point, chunk blobs {marginal:.2} B/point; read back bit-exact"
        );
        t.push(
            "bytes/point, f64 values logged through the SDK (walls = real clock, nearly constant)",
            format!("{file:.2} B/point (file), {marginal:.2} B/point (blobs)"),
            "-",
            "info",
        );
    }
    kept.context("no f64 curve store")
}

// ---------------------------------------------------------------------------------------------
// (c) reading a whole series

fn bench_read(cfg: &Config, curve_store: Option<CurveStore>, t: &mut Table) -> anyhow::Result<()> {
    let cs = match curve_store {
        Some(cs) => cs,
        None => write_curve(curve(cfg.curve_points, false))?,
    };
    let n = cs.points.len();
    let mut store = Store::open(cs.dir.path(), read_only())?;

    let mut times = Vec::with_capacity(cfg.reps);
    for rep in 0..cfg.reps {
        let start = Instant::now();
        let s = store.series(&cs.run, LOSS, StepRange::ALL)?;
        times.push(start.elapsed());
        ensure!(s.len() == n, "read: {} points read, {n} stored", s.len());
        if rep == 0 {
            ensure!(s.bit_eq(&cs.points), "read: the series did not read back bit-exact");
        }
    }
    let med = median(&times);
    println!("[read] series(ALL) of {n} points: {}; count and values verified", spread(&times));
    read_breakdown(cs.dir.path(), n, cfg.reps)?;
    t.push(
        format!("read a whole {n}-point series: Store::series(ALL), fresh Store, median of {}", cfg.reps),
        ms(med),
        "<= 20 ms",
        pass(med <= Duration::from_millis(20)),
    );

    let (lo, hi) = cs.points.values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let last = *cs.points.values.last().context("empty curve")?;
    let mut check = |buckets: usize, times: &mut Vec<Duration>| -> anyhow::Result<usize> {
        let start = Instant::now();
        let b = store.downsample(&cs.run, LOSS, StepRange::ALL, buckets)?;
        times.push(start.elapsed());
        let count: u64 = b.iter().map(|b| b.count).sum();
        ensure!(count == n as u64, "downsample: buckets hold {count} points, {n} stored");
        ensure!(b.len() <= buckets, "downsample: {} buckets, asked for {buckets}", b.len());
        let bmin = b.iter().filter_map(|b| b.min).fold(f64::INFINITY, f64::min);
        let bmax = b.iter().filter_map(|b| b.max).fold(f64::NEG_INFINITY, f64::max);
        ensure!(bmin == lo && bmax == hi, "downsample: extremes {bmin}..{bmax}, series has {lo}..{hi}");
        ensure!(b.last().map(|b| b.last.to_bits()) == Some(last.to_bits()), "downsample: wrong last value");
        Ok(b.len())
    };
    let mut times = Vec::with_capacity(cfg.reps);
    let mut nb = 0;
    for _ in 0..cfg.reps {
        nb = check(cfg.buckets, &mut times)?;
    }
    let med = median(&times);
    println!(
        "[read] downsample(ALL, {}) of {n} points -> {nb} buckets: {}; counts sum to {n}, extremes and last verified",
        cfg.buckets,
        spread(&times)
    );
    t.push(
        format!("downsample the {n}-point series to {} buckets, median of {}", cfg.buckets, cfg.reps),
        ms(med),
        "<= 10 ms",
        pass(med <= Duration::from_millis(10)),
    );
    // For comparison: few buckets, where most chunks fold from their stored min/max/last.
    let mut coarse = Vec::with_capacity(cfg.reps);
    let mut nb = 0;
    for _ in 0..cfg.reps {
        nb = check(100, &mut coarse)?;
    }
    println!(
        "[read] (for comparison) downsample(ALL, 100) -> {nb} buckets, mostly from chunk summaries: {}",
        spread(&coarse)
    );
    Ok(())
}

/// Where a whole-series read spends its time: fetching the chunk blobs from SQLite alone,
/// decoding them alone into fresh vectors, and into vectors whose memory is already mapped.
fn read_breakdown(dir: &Path, n: usize, reps: usize) -> anyhow::Result<()> {
    let conn = Connection::open_with_flags(dir.join(DB_FILE), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT data FROM metric_chunks ORDER BY run_id, key_id, seq")?;
    let (mut fetch, mut fresh, mut reused) = (Vec::new(), Vec::new(), Vec::new());
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    for _ in 0..reps {
        let start = Instant::now();
        blobs = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        fetch.push(start.elapsed());
    }
    // Decodes every blob into `out` and checks the count; timed by the caller.
    let decode_all = |out: &mut Points| -> anyhow::Result<()> {
        for b in &blobs {
            trackbench_store::codec::decode_into(b, out)?;
        }
        ensure!(out.len() == n, "breakdown: decoded {} points, {n} stored", out.len());
        Ok(())
    };
    let mut out = Points::default();
    for _ in 0..reps {
        let start = Instant::now();
        out = Points::with_capacity(n);
        decode_all(&mut out)?;
        fresh.push(start.elapsed());
    }
    for _ in 0..reps {
        out.steps.clear();
        out.wall_ms.clear();
        out.values.clear();
        let start = Instant::now();
        decode_all(&mut out)?;
        reused.push(start.elapsed());
    }
    let bytes: usize = blobs.iter().map(Vec::len).sum();
    println!(
        "[read]   breakdown: SQLite fetch of the {} chunk blobs ({bytes} bytes) alone {}; decode alone into fresh \
         vectors {} ({:.1} ns/point); decode into already-mapped vectors {}",
        blobs.len(),
        ms(median(&fetch)),
        ms(median(&fresh)),
        median(&fresh).as_secs_f64() * 1e9 / n as f64,
        ms(median(&reused)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// (d) filtered runs listing

/// The final `acc` of run `i`: distinct values in [0, 1] for i < 10007.
fn acc_of(i: usize) -> f64 {
    ((i as u64 * 7919) % 10007) as f64 / 10006.0
}

const LRS: [f64; 3] = [0.001, 0.01, 0.1];

/// Where the `trackbench` binary should be: next to this executable (or one folder up, for
/// test binaries under `deps/`).
fn find_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("trackbench"), dir.parent()?.join("trackbench")].into_iter().find(|p| p.is_file())
}

fn bench_list(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let dir = temp_dir("runs")?;
    let mut store = Store::open(dir.path(), StoreOptions::default())?;
    let build = Instant::now();
    let base_ms = trackbench_store::now_ms() - 86_400_000;
    let mut expected: Vec<(f64, String)> = Vec::new();
    for i in 0..cfg.runs {
        let new = NewRun {
            project: "bench".into(),
            name: Some(format!("run-{i:05}")),
            created_ms: Some(base_ms + i as i64 * 1000),
            ..NewRun::default()
        };
        let run = store.create_run(&new)?.id;
        let lr = LRS[i % 3];
        let acc = acc_of(i);
        let mut params: Vec<(String, serde_json::Value)> = Vec::with_capacity(50);
        params.push(("lr".into(), lr.into()));
        for p in 1..50 {
            let v: serde_json::Value = match p % 3 {
                0 => format!("choice-{}", (i + p) % 7).into(),
                1 => (((i * p) % 1000) as i64).into(),
                _ => (((i * 31 + p) % 1000) as f64 / 1000.0).into(),
            };
            params.push((format!("p{p}"), v));
        }
        let mut series = Vec::with_capacity(20);
        let mut acc_points = Points::with_capacity(3);
        for (s, f) in [0.5, 0.8, 1.0].into_iter().enumerate() {
            acc_points.push(s as i64, base_ms + i as i64 * 1000 + s as i64, acc * f);
        }
        series.push(SeriesBatch { key: "acc".into(), points: acc_points });
        for m in 1..20 {
            let mut pts = Points::with_capacity(3);
            for s in 0..3i64 {
                pts.push(s, base_ms + i as i64 * 1000 + s, ((i * m) as f64 * 0.37 + s as f64).sin());
            }
            series.push(SeriesBatch { key: format!("m{m}"), points: pts });
        }
        let report = store.log_batch(&run, &Batch { series, params, ..Batch::default() })?;
        ensure!(
            report.points == 60 && report.params == 50 && report.rejected.is_empty(),
            "list: run {i} was not stored whole: {report:?}"
        );
        if lr == 0.01 && acc > 0.5 {
            expected.push((acc, run));
        }
    }
    drop(store);
    let build_secs = build.elapsed().as_secs_f64();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    println!(
        "[list] built {} runs x 50 params x 20 metrics (3 points each) with create_run + log_batch in {build_secs:.1} s \
         ({:.2} ms per run)",
        cfg.runs,
        build_secs * 1e3 / cfg.runs as f64
    );

    let store = Store::open(dir.path(), StoreOptions::default())?;
    let q = RunQuery { filter: Some(FILTER.into()), order_by: Some(ORDER_BY.into()), ..RunQuery::default() };
    let mut times = Vec::with_capacity(cfg.reps);
    for _ in 0..cfg.reps {
        let start = Instant::now();
        let runs = store.list_runs(&q)?;
        times.push(start.elapsed());
        let got: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
        ensure!(
            got.len() == expected.len() && got.iter().zip(&expected).all(|(a, b)| a == b),
            "list: {} runs returned, {} expected (or a different order)",
            got.len(),
            expected.len()
        );
    }
    drop(store);
    let med = median(&times);
    println!(
        "[list] list_runs(\"{FILTER}\", order by \"{ORDER_BY}\") over {} runs: {} matching runs, right order; {}",
        cfg.runs,
        expected.len(),
        spread(&times)
    );
    t.push(
        format!("list_runs in process: {} runs, filter `{FILTER}`, order `{ORDER_BY}`", cfg.runs),
        format!("{} ({} matching runs)", ms(med), expected.len()),
        "<= 100 ms",
        pass(med <= Duration::from_millis(100)),
    );

    let cli_label = format!("`trackbench runs ls --filter ... --order-by ...` end to end (process), {} runs", cfg.runs);
    let Some(cli) = find_cli() else {
        let exe = std::env::current_exe().map(|e| e.display().to_string()).unwrap_or_default();
        println!(
            "[list] the trackbench CLI was not found next to {exe}; build it with \
             `cargo build --release -p trackbench-cli` and run again"
        );
        t.push(cli_label, "not run: trackbench binary missing", "<= 100 ms", "SKIPPED");
        return Ok(());
    };
    let mut times = Vec::with_capacity(cfg.cli_reps);
    for _ in 0..cfg.cli_reps {
        let start = Instant::now();
        let out = Command::new(&cli)
            .arg("--store")
            .arg(dir.path())
            .args(["runs", "ls", "--filter", FILTER, "--order-by", ORDER_BY])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("running {}", cli.display()))?;
        times.push(start.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr);
        ensure!(out.status.success(), "list: the CLI failed ({}): {stderr}", out.status);
        let listed = stderr
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_suffix(" run(s)").and_then(|n| n.trim().parse::<usize>().ok()));
        ensure!(
            listed == Some(expected.len()),
            "list: the CLI listed {listed:?} runs, {} expected (stderr: {stderr})",
            expected.len()
        );
    }
    let med = median(&times);
    println!(
        "[list] CLI {} --store DIR runs ls --filter '{FILTER}' --order-by '{ORDER_BY}' > /dev/null: {}; {} runs listed",
        cli.display(),
        spread(&times),
        expected.len()
    );
    t.push(
        cli_label,
        format!("{} (median of {})", ms(med), cfg.cli_reps),
        "<= 100 ms",
        pass(med <= Duration::from_millis(100)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// machine information and the driver

fn utc_now() -> String {
    // `2026-11-29 06:03:37` -> `2026-11-29 06:03 UTC`
    let t = trackbench_store::format_utc(trackbench_store::now_ms());
    format!("{} UTC", &t[..16])
}

fn command_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).stderr(Stdio::null()).output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn proc_field(file: &str, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_string())
    })
}

fn machine_info() -> Vec<(&'static str, String)> {
    let unknown = || "unknown".to_string();
    let mem = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(unknown);
    let nproc = command_line("nproc", &[])
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.to_string()))
        .unwrap_or_else(unknown);
    vec![
        ("date", utc_now()),
        ("cpu", proc_field("/proc/cpuinfo", "model name").unwrap_or_else(unknown)),
        ("nproc", nproc),
        ("memory", mem),
        ("rustc", command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc not found on PATH".into())),
        (
            "kernel",
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| unknown()),
        ),
        ("load average", loadavg()),
        ("build", if cfg!(debug_assertions) { "debug (numbers are meaningless)".into() } else { "release".into() }),
    ]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
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

/// Compare of 1,000 runs' param diff (50 params each, some differing), in process.
fn bench_compare(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let runs_n = if cfg.quick { 100 } else { 1000 };
    let dir = temp_dir("compare")?;
    let mut store = Store::open(dir.path(), StoreOptions::default())?;
    for i in 0..runs_n {
        let new = NewRun { project: "cmp".into(), name: Some(format!("run-{i:04}")), ..NewRun::default() };
        let run = store.create_run(&new)?.id;
        let mut params: Vec<(String, serde_json::Value)> = Vec::with_capacity(50);
        for p in 0..50 {
            let v: serde_json::Value = if p < 40 { (p as f64 * 0.5).into() } else { ((i + p) % 5).into() };
            params.push((format!("p{p:02}"), v));
        }
        store.log_batch(&run, &Batch { params, ..Batch::default() })?;
    }
    let runs = store.list_runs(&RunQuery { project: Some("cmp".into()), ..RunQuery::default() })?;
    ensure!(runs.len() == runs_n, "compare: {} runs listed, {runs_n} expected", runs.len());
    let mut times = Vec::with_capacity(cfg.reps);
    for _ in 0..cfg.reps {
        let start = Instant::now();
        let diff = trackbench_compare::param_diff(&store, &runs)?;
        times.push(start.elapsed());
        ensure!(
            diff.differing.len() == 10 && diff.equal.len() == 40 && diff.missing.is_empty(),
            "compare: wrong diff ({} differing, {} equal)",
            diff.differing.len(),
            diff.equal.len()
        );
    }
    let med = median(&times);
    println!("[compare] param_diff of {runs_n} runs x 50 params (10 differ): {}", spread(&times));
    t.push(
        format!("compare: param diff of {runs_n} runs x 50 params, in process"),
        ms(med),
        "<= 100 ms",
        pass(med <= Duration::from_millis(100)),
    );
    Ok(())
}

/// A report of 20 runs x 8 metrics x 100k points through the real CLI, end to end.
fn bench_report(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let points: usize = if cfg.quick { 10_000 } else { 100_000 };
    let dir = temp_dir("report")?;
    let mut store = Store::open(dir.path(), StoreOptions::default())?;
    let build = Instant::now();
    for r in 0..20 {
        let new = NewRun {
            project: "rep".into(),
            name: Some(format!("variant{}-seed{}", r % 2, r / 2)),
            ..NewRun::default()
        };
        let run = store.create_run(&new)?.id;
        let mut series = Vec::with_capacity(8);
        for m in 0..8 {
            let mut pts = Points::with_capacity(points);
            for s in 0..points {
                let x = s as f64 / points as f64;
                pts.push(
                    s as i64,
                    1_700_000_000_000 + s as i64 * 50,
                    (1.0 + m as f64) * (-4.0 * x).exp() + 0.01 * ((s * (r + 1)) as f64).sin(),
                );
            }
            series.push(SeriesBatch { key: format!("metric{m}"), points: pts });
        }
        let params =
            vec![("variant".to_string(), serde_json::json!(r % 2)), ("seed".to_string(), serde_json::json!(r / 2))];
        store.log_batch(&run, &Batch { series, params, ..Batch::default() })?;
        store.finish_run(&run, trackbench_store::RunStatus::Finished, None)?;
    }
    drop(store);
    println!("[report] built 20 runs x 8 metrics x {points} points in {:.1} s", build.elapsed().as_secs_f64());
    let label = format!("`trackbench report` HTML of 20 runs x 8 metrics x {points} points, end to end (process)");
    let Some(cli) = find_cli() else {
        t.push(label, "not run: trackbench binary missing", "<= 2 s, <= 2 MB", "SKIPPED");
        return Ok(());
    };
    let out = dir.path().join("report.html");
    let mut times = Vec::with_capacity(cfg.cli_reps);
    for _ in 0..cfg.cli_reps {
        let start = Instant::now();
        let o = Command::new(&cli)
            .arg("--store")
            .arg(dir.path())
            .args(["report", "--project", "rep", "-o"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("running {}", cli.display()))?;
        times.push(start.elapsed());
        ensure!(o.status.success(), "report: the CLI failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let bytes = std::fs::metadata(&out)?.len();
    let html = std::fs::read_to_string(&out)?;
    ensure!(html.matches("<svg").count() >= 8, "report: fewer than 8 charts");
    let med = median(&times);
    println!(
        "[report] {} --store DIR report --project rep -o report.html: {}; {bytes} bytes",
        cli.display(),
        spread(&times)
    );
    t.push(
        label,
        format!("{} (median of {}), {:.2} MB", ms(med), cfg.cli_reps, bytes as f64 / 1e6),
        "<= 2 s, <= 2 MB",
        pass(med <= Duration::from_secs(2) && bytes <= 2_000_000),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
