//! The `import` benchmark: a TensorBoard event file of 1M scalars (10 tags x 100k steps, one
//! `simple_value` per event, as tensorboardX writes them) imported into a fresh store, end to
//! end (target >= 1M scalars/s), and parsed alone.

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
