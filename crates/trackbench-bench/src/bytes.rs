//! Bytes per point of the loss curve (full f64 and f32-rounded), as the database file after
//! a WAL checkpoint and as the sum of the chunk blobs.

use std::path::Path;

use anyhow::{Context, ensure};
use rusqlite::Connection;
use trackbench_sdk::{Run, RunOptions};
use trackbench_store::{DB_FILE, StepRange, Store};

use crate::curves::{CurveStore, curve, loss, write_curve};
use crate::{Config, LOSS, Table, read_only, temp_dir};

/// Runs the bytes-per-point benchmark; returns the full-f64 store for [`bench_read`].
pub(crate) fn bench_bytes(cfg: &Config, t: &mut Table, with_sdk: bool) -> anyhow::Result<CurveStore> {
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

/// The verdict on bytes per point against the target (<= 12) and its stretch (<= 4).
fn bytes_verdict(bpp: f64) -> &'static str {
    if bpp <= 4.0 {
        "PASS (stretch met)"
    } else if bpp <= 12.0 {
        "PASS (stretch missed)"
    } else {
        "MISS"
    }
}
