//! The `import` benchmark: a TensorBoard event file of 1M scalars (10 tags x 100k steps, one
//! `simple_value` per event, as tensorboardX writes them) imported into a fresh store, end to
//! end (target >= 1M scalars/s), and parsed alone; and an MLflow `mlruns/` folder of 1,000
//! runs x 10 metrics x 1,000 steps, written in MLflow's file layout (target <= 10 s).

use std::time::Instant;

use anyhow::ensure;
use trackbench_import::tensorboard;
use trackbench_import::tfrecord::frame;
use trackbench_store::{Store, StoreOptions};

use super::{Config, Table, pass, temp_dir};

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u32, b: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | 2), out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// One `Event { wall_time, step, summary { value { tag, simple_value } } }` record.
fn event(wall: f64, step: i64, tag: &str, value: f32) -> Vec<u8> {
    let mut v = Vec::new();
    bytes_field(1, tag.as_bytes(), &mut v);
    v.push(2 << 3 | 5);
    v.extend_from_slice(&value.to_le_bytes());
    let mut summary = Vec::new();
    bytes_field(1, &v, &mut summary);
    let mut e = vec![1 << 3 | 1];
    e.extend_from_slice(&wall.to_le_bytes());
    e.push(2 << 3);
    varint(step as u64, &mut e);
    bytes_field(5, &summary, &mut e);
    frame(&e)
}

pub(super) fn bench_import(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let steps = if cfg.quick { 10_000 } else { 100_000 };
    let tags: Vec<String> = (0..10).map(|i| format!("train/metric_{i}")).collect();
    let logs = temp_dir("tb-logs")?;
    let run_dir = logs.path().join("run");
    std::fs::create_dir_all(&run_dir)?;
    let mut data = Vec::with_capacity(steps * 10 * 48);
    for step in 0..steps as i64 {
        for (i, tag) in tags.iter().enumerate() {
            data.extend(event(1.7e9 + step as f64 * 0.01, step, tag, (step as f32 * 1e-3 + i as f32).sin()));
        }
    }
    std::fs::write(run_dir.join("events.out.tfevents.1.bench"), &data)?;
    let n = steps * tags.len();

    let start = Instant::now();
    let mut parsed = tensorboard::Parsed::default();
    let (_, stop) = tensorboard::parse_events(&data, 0, &mut parsed);
    let parse = start.elapsed();
    ensure!(stop.is_none() && parsed.scalar_count() == n, "import: parsed {} of {n}", parsed.scalar_count());

    let store_dir = temp_dir("tb-store")?;
    let mut store = Store::open(store_dir.path(), StoreOptions::default())?;
    let start = Instant::now();
    let reports = tensorboard::import(&mut store, logs.path(), "bench")?;
    let total = start.elapsed();
    ensure!(reports.len() == 1 && reports[0].scalars == n, "import: {reports:?}");
    let rate = n as f64 / total.as_secs_f64();
    println!(
        "[import] TensorBoard file of {n} scalars ({:.1} MB): parse {:.0} ms ({:.1} M/s); import into a fresh store {:.0} ms ({:.2} M scalars/s)",
        data.len() as f64 / 1e6,
        parse.as_secs_f64() * 1e3,
        n as f64 / parse.as_secs_f64() / 1e6,
        total.as_secs_f64() * 1e3,
        rate / 1e6
    );
    t.push(
        format!("`trackbench import tensorboard`: {n} scalars, one event file, into a fresh store"),
        format!("{:.2} M scalars/s ({:.0} ms)", rate / 1e6, total.as_secs_f64() * 1e3),
        ">= 1 M scalars/s",
        pass(rate >= 1e6),
    );
    Ok(())
}

/// Writes an `mlruns/` folder in MLflow's file-store layout: `runs` runs of one experiment, each
/// with 10 metrics of `steps` lines (`timestamp value step`), 2 params and a tag.
fn write_mlruns(root: &std::path::Path, runs: usize, steps: usize) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let exp = root.join("1");
    std::fs::create_dir_all(&exp)?;
    std::fs::write(exp.join("meta.yaml"), "experiment_id: '1'\nlifecycle_stage: active\nname: bench\n")?;
    let mut lines = String::new();
    for r in 0..runs {
        let id = format!("{r:032x}");
        let dir = exp.join(&id);
        std::fs::create_dir_all(dir.join("metrics"))?;
        std::fs::create_dir_all(dir.join("params"))?;
        std::fs::create_dir_all(dir.join("tags"))?;
        std::fs::write(
            dir.join("meta.yaml"),
            format!(
                "artifact_uri: ''\nend_time: 1700000100000\nexperiment_id: '1'\nlifecycle_stage: active\nrun_id: {id}\nrun_name: run-{r}\nstart_time: 1700000000000\nstatus: 3\n"
            ),
        )?;
        std::fs::write(dir.join("params/lr"), format!("{}", 0.001 * (r % 7 + 1) as f64))?;
        std::fs::write(dir.join("params/batch"), "64")?;
        std::fs::write(dir.join("tags/team"), "bench")?;
        for k in 0..10 {
            lines.clear();
            for step in 0..steps {
                let v = ((step as f64) * 1e-3 + k as f64).sin();
                let _ = writeln!(lines, "{} {v} {step}", 1_700_000_000_000i64 + step as i64 * 100);
            }
            std::fs::write(dir.join("metrics").join(format!("m{k}")), &lines)?;
        }
    }
    Ok(())
}

pub(super) fn bench_mlflow_import(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let (runs, steps) = if cfg.quick { (100, 1000) } else { (1000, 1000) };
    let src = temp_dir("mlruns")?;
    write_mlruns(src.path(), runs, steps)?;
    let store_dir = temp_dir("mlruns-store")?;
    let mut store = Store::open(store_dir.path(), StoreOptions::default())?;
    let start = Instant::now();
    let reports = trackbench_import::mlflow::import(&mut store, src.path().to_str().unwrap_or_default(), None)?;
    let took = start.elapsed();
    let points: usize = reports.iter().map(|r| r.points).sum();
    ensure!(
        reports.len() == runs && points == runs * steps * 10,
        "mlflow import: {} runs, {points} points",
        reports.len()
    );
    println!(
        "[import] mlruns/ of {runs} runs x 10 metrics x {steps} steps ({points} points): {:.2} s ({:.2} M points/s)",
        took.as_secs_f64(),
        points as f64 / took.as_secs_f64() / 1e6
    );
    t.push(
        format!("`trackbench import mlflow mlruns/`: {runs} runs x 10 metrics x {steps} steps, into a fresh store"),
        format!("{:.2} s", took.as_secs_f64()),
        "<= 10 s",
        pass(took.as_secs_f64() <= 10.0),
    );
    Ok(())
}
