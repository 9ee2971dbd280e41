//! The 1M-point loss curve the `bytes`, `read` and `server` benchmarks share, generated and
//! written straight into a store.

use anyhow::ensure;
use tempfile::TempDir;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store, StoreOptions};

use crate::{LOSS, temp_dir};

/// Points per `log_batch` when a curve is written straight into the store (an SDK flush).
const CURVE_BATCH: usize = 10_000;

/// A store holding one loss curve, kept for the read benchmark.
pub(crate) struct CurveStore {
    pub(crate) dir: TempDir,
    pub(crate) run: String,
    pub(crate) points: Points,
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
pub(crate) fn loss(step: i64) -> f64 {
    let s = step as f64;
    0.1 + 2.0 * (-s / 2e5).exp() + 0.01 * (s * 0.01).sin()
}

/// `n` points of the loss curve: steps 0.., wall times ~50 ms apart (47..=53 ms), values in
/// full f64 or rounded to f32.
pub(crate) fn curve(n: usize, f32_values: bool) -> Points {
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
pub(crate) fn write_curve(points: Points) -> anyhow::Result<CurveStore> {
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
