//! Reading the whole 1M-point series, and downsampling it to 2,000 buckets.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use rusqlite::Connection;
use trackbench_store::{DB_FILE, Points, StepRange, Store};

use crate::curves::{CurveStore, curve, write_curve};
use crate::{Config, LOSS, Table, median, ms, pass, read_only, spread};

pub(crate) fn bench_read(cfg: &Config, curve_store: Option<CurveStore>, t: &mut Table) -> anyhow::Result<()> {
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
