//! `list_runs` with a filter and an order over 10k runs x 50 params x 20 metrics, in process
//! and through the real `trackbench` CLI.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use trackbench_store::{Batch, NewRun, Points, RunQuery, SeriesBatch, Store, StoreOptions};

use crate::{Config, Table, find_cli, median, ms, pass, spread, temp_dir};

/// The filter and order of the listing benchmark.
const FILTER: &str = "metrics.acc > 0.5 and params.lr = 0.01";

const ORDER_BY: &str = "metrics.acc desc";

/// The final `acc` of run `i`: distinct values in [0, 1] for i < 10007.
fn acc_of(i: usize) -> f64 {
    ((i as u64 * 7919) % 10007) as f64 / 10006.0
}

const LRS: [f64; 3] = [0.001, 0.01, 0.1];

pub(crate) fn bench_list(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
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
