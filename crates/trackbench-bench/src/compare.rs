//! The param diff of 1,000 runs (50 params each, some differing), in process.

use std::time::{Duration, Instant};

use anyhow::ensure;
use trackbench_store::{Batch, NewRun, RunQuery, Store, StoreOptions};

use crate::{Config, Table, median, ms, pass, spread, temp_dir};

/// Compare of 1,000 runs' param diff (50 params each, some differing), in process.
pub(crate) fn bench_compare(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
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
