//! A report of 20 runs x 8 metrics x 100k points through the real CLI, end to end.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use trackbench_store::{Batch, NewRun, Points, SeriesBatch, Store, StoreOptions};

use crate::{Config, Table, find_cli, median, ms, pass, spread, temp_dir};

/// A report of 20 runs x 8 metrics x 100k points through the real CLI, end to end.
pub(crate) fn bench_report(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
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
