//! Sustained ingest: 10 keys x 1M steps through `Run::log_at` in one thread, timed until
//! `finish()` returns, next to a raw rusqlite row-per-point baseline.

use std::time::Instant;

use anyhow::ensure;
use rusqlite::{Connection, params};
use trackbench_sdk::{Run, RunOptions};
use trackbench_store::{StepRange, Store};

use crate::{Config, Table, mpts, pass, read_only, temp_dir};

/// The ten keys of the ingest record.
const KEYS: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];

/// Per-key factors of the ingest values (key `k` logs `base(step) * MULT[k]`).
const MULT: [f64; 10] = [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9];

/// The ingest value of step `step` before the per-key factor: a smooth decaying curve.
#[inline]
fn ingest_base(step: i64) -> f64 {
    2.0 / (1.0 + step as f64 * 1e-5)
}

pub(crate) fn bench_ingest(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
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
