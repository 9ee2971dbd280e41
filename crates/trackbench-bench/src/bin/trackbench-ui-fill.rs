//! `trackbench-ui-fill DIR`: fills a store for the web UI benchmarks (`ui/e2e/bench.mjs`):
//! project `bench-10k` with 10,000 runs (8 params, 6 metrics of 20 points each, a few groups and
//! statuses), and project `bench-compare` with 20 runs x 4 metrics x 1M points each.
//! Writes through `Store::log_batch` (the SDK's own write) in large batches, so a 80M-point store
//! takes seconds, not the minutes the HTTP API would. Prints the run ids as JSON on stdout.
//!
//! Options: `--runs N` (10,000), `--compare-runs N` (20), `--points N` (1,000,000).

use anyhow::{Context, bail};
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store, StoreOptions};

const OPTIMIZERS: [&str; 3] = ["sgd", "adam", "adamw"];
const LRS: [f64; 4] = [1e-4, 3e-4, 1e-3, 3e-3];

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let (mut runs, mut compare_runs, mut points) = (10_000usize, 20usize, 1_000_000usize);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> anyhow::Result<usize> {
            args.next()
                .with_context(|| format!("{name} needs a number"))?
                .parse()
                .with_context(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--runs" => runs = num("--runs")?,
            "--compare-runs" => compare_runs = num("--compare-runs")?,
            "--points" => points = num("--points")?,
            s if s.starts_with('-') => bail!("unknown option {s}"),
            s => dir = Some(std::path::PathBuf::from(s)),
        }
    }
    let dir = dir.context("usage: trackbench-ui-fill DIR [--runs N] [--compare-runs N] [--points N]")?;
    let mut store = Store::open(&dir, StoreOptions::default())?;
    let base_ms = trackbench_store::now_ms() - 7 * 86_400_000;
    let t = std::time::Instant::now();
    for i in 0..runs {
        let id = store
            .create_run(&NewRun {
                project: "bench-10k".into(),
                name: Some(format!("sweep-{i:05}")),
                group: Some(format!("sweep-{}", i / 500)),
                created_ms: Some(base_ms + i as i64 * 30_000),
                ..NewRun::default()
            })?
            .id;
        let lr = LRS[i % 4];
        let params: Vec<(String, serde_json::Value)> = vec![
            ("lr".into(), lr.into()),
            ("optimizer".into(), OPTIMIZERS[i % 3].into()),
            ("batch_size".into(), (32 << (i % 4)).into()),
            ("seed".into(), (i % 10).into()),
            ("depth".into(), (2 + i % 6).into()),
            ("dropout".into(), ((i % 5) as f64 * 0.1).into()),
            ("warmup".into(), ((i % 7) * 100).into()),
            ("dataset".into(), ["cifar10", "imagenet-64", "digits"][i % 3].into()),
        ];
        let quality = ((i * 7919) % 1000) as f64 / 1000.0;
        let mut series = Vec::new();
        for (m, key) in ["train/loss", "val/loss", "val/acc", "lr", "grad_norm", "throughput"].iter().enumerate() {
            let mut pts = Points::with_capacity(20);
            for s in 0..20i64 {
                let p = (s + 1) as f64 / 20.0;
                let v = match m {
                    0 => 2.3 * (-3.0 * p).exp() * (1.2 - quality * 0.4),
                    1 => 2.3 * (-2.5 * p).exp() * (1.25 - quality * 0.4),
                    2 => 0.5 + 0.45 * p * (0.6 + quality * 0.4),
                    3 => lr * (1.0 - p),
                    4 => 1.0 + ((i + s as usize) % 13) as f64 * 0.1,
                    _ => 1000.0 + quality * 500.0,
                };
                pts.push(s * 100, base_ms + i as i64 * 30_000 + s * 1000, v);
            }
            series.push(SeriesBatch { key: (*key).into(), points: pts });
        }
        store.log_batch(&id, &Batch { series, params, ..Batch::default() })?;
        let status = match i % 50 {
            0 => RunStatus::Failed,
            1 => RunStatus::Killed,
            _ => RunStatus::Finished,
        };
        store.finish_run(&id, status, None)?;
    }
    eprintln!("bench-10k: {runs} runs in {:.1} s", t.elapsed().as_secs_f64());

    let t = std::time::Instant::now();
    let mut compare_ids = Vec::new();
    for r in 0..compare_runs {
        let id = store
            .create_run(&NewRun {
                project: "bench-compare".into(),
                name: Some(format!("long-{r:02}")),
                group: Some(format!("arm-{}", r % 2)),
                created_ms: Some(base_ms + r as i64 * 1000),
                ..NewRun::default()
            })?
            .id;
        let params = vec![("lr".to_string(), serde_json::Value::from(LRS[r % 4])), ("seed".into(), r.into())];
        store.log_batch(&id, &Batch { params, ..Batch::default() })?;
        const CHUNK: usize = 200_000;
        let mut start = 0;
        while start < points {
            let end = (start + CHUNK).min(points);
            let mut series = Vec::new();
            for (m, key) in ["train/loss", "val/loss", "grad_norm", "lr"].iter().enumerate() {
                let mut pts = Points::with_capacity(end - start);
                for s in start..end {
                    let p = s as f64 / points as f64;
                    let noise = (((s * 2_654_435_761) ^ (r * 40_503 + m)) % 10_000) as f64 / 10_000.0 - 0.5;
                    let v = match m {
                        0 => 2.3 * (-4.0 * p).exp() + 0.1 * noise + 0.01 * r as f64,
                        1 => 2.2 * (-3.5 * p).exp() + 0.05 * noise + 0.01 * r as f64,
                        2 => 1.0 + 0.5 * noise.abs() * (1.0 - p),
                        _ => 1e-3 * (1.0 - p),
                    };
                    pts.push(s as i64, base_ms + s as i64 * 10, v);
                }
                series.push(SeriesBatch { key: (*key).into(), points: pts });
            }
            store.log_batch(&id, &Batch { series, ..Batch::default() })?;
            start = end;
        }
        store.finish_run(&id, RunStatus::Finished, None)?;
        compare_ids.push(id);
    }
    eprintln!("bench-compare: {compare_runs} runs x 4 metrics x {points} points in {:.1} s", t.elapsed().as_secs_f64());
    println!("{}", serde_json::json!({ "compare_runs": compare_ids }));
    Ok(())
}
