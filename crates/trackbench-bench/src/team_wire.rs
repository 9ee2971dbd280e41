//! `trackbench-team-bench --wire` (issue 16 part 4): remote logging over loopback, side by
//! side in one run. The Rust SDK and the Python SDK log 10 keys x `WIRE_STEPS` steps to
//! `trackbench serve` on a SQLite store and on the PostgreSQL team store, in the binary wire
//! form and in gzip JSON, against the same SDK into a local store; and the `mlflow` Python
//! client (`MlflowClient.log_batch`, 1,000 metrics a request, its limit) logs to `mlflow
//! server` on the same PostgreSQL. Each number is from `Run::start` / `trackbench.init` (or
//! MLflow's `create_run`) to `finish()` / `set_terminated` returning, the median of the
//! repetitions; every run's stored point count is checked. MLflow's server is paused
//! (`SIGSTOP`) while Trackbench is measured.

use std::path::Path;
use std::process::Stdio;

use trackbench_sdk::Wire;
use trackbench_store::wire::encode_binary;

use super::*;

/// Steps per run of the SDKs' workload (x 10 keys).
const WIRE_STEPS: i64 = 300_000;
/// Steps per run of the MLflow client's (x 10 keys): it is some 500x slower.
const MLFLOW_STEPS: i64 = 5_000;
const TARGET: f64 = 3e6;

const PY_SDK: &str = r#"
import json, sys, time
import trackbench
steps, keys, local = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = ["m%d" % k for k in range(keys)]
# Records built before the clock starts, cycled: the SDK is measured, not dict building.
recs = [{n: (s * 0.001 + k) * 1.000001 ** s for k, n in enumerate(names)} for s in range(1000)]
t = time.perf_counter()
run = trackbench.init(project="wire-py", dir=(local or None))
log = run.log
for s in range(steps):
    log(recs[s % 1000], step=s)
run.finish()
print(json.dumps({"seconds": time.perf_counter() - t, "id": run.id}))
"#;

const PY_MLFLOW: &str = r#"
import json, sys, time
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
url, steps, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = MlflowClient(tracking_uri=url)
exp = c.create_experiment("wire-%f" % time.time())
t = time.perf_counter()
run = c.create_run(exp).info.run_id
ts = int(time.time() * 1000)
for s0 in range(0, steps, 100):
    ms = [Metric("m%d" % k, (s * 0.001 + k) * 1.000001 ** s, ts + s, s) for s in range(s0, s0 + 100) for k in range(keys)]
    c.log_batch(run, metrics=ms)
c.set_terminated(run)
print(json.dumps({"seconds": time.perf_counter() - t, "id": run}))
"#;

/// `trackbench --store DIR serve` (the SQLite store).
fn serve_sqlite(exe: &str, dir: &Path) -> anyhow::Result<Served> {
    serve_on(exe, &["--store", &dir.display().to_string()])
}

fn value(step: i64, k: usize) -> f64 {
    (step as f64 * 0.001 + k as f64) * 1.000001f64.powi((step % 1000) as i32)
}

/// Where a run goes: a server (with its wire form) or a local store folder.
enum Target<'a> {
    Server(&'a Served, Wire),
    Local(&'a Path),
}

/// The Rust SDK's workload into `target`; (seconds, run id).
fn rust_sdk(target: &Target) -> anyhow::Result<(Duration, String)> {
    let keys: Vec<String> = (0..KEYS).map(|k| format!("m{k}")).collect();
    let mut opts = RunOptions::new("wire-rust");
    opts.system_metrics = None;
    opts = match target {
        Target::Server(s, wire) => opts.remote(Remote::new(s.http.base.clone(), Some(TOKEN.into())).with_wire(*wire)),
        Target::Local(dir) => {
            opts.remote = None;
            opts.store_dir(dir.to_path_buf())
        }
    };
    let start = Instant::now();
    let run = Run::start(opts)?;
    let id = run.id().to_string();
    let mut rec: Vec<(&str, f64)> = keys.iter().map(|k| (k.as_str(), 0.0)).collect();
    for step in 0..WIRE_STEPS {
        for (k, r) in rec.iter_mut().enumerate() {
            r.1 = value(step, k);
        }
        run.log_at(step, &rec)?;
    }
    run.finish()?;
    Ok((start.elapsed(), id))
}

/// The Python SDK's workload into `target`; (seconds, run id).
fn python_sdk(python: &str, script: &Path, target: &Target) -> anyhow::Result<(Duration, String)> {
    let mut c = Command::new(python);
    c.arg(script).arg(WIRE_STEPS.to_string()).arg(KEYS.to_string());
    for (k, _) in std::env::vars() {
        if k.starts_with("TRACKBENCH_") {
            c.env_remove(k);
        }
    }
    c.env("TRACKBENCH_SYSTEM_METRICS", "0");
    match target {
        Target::Server(s, wire) => {
            c.arg("").env("TRACKBENCH_URL", &s.http.base).env("TRACKBENCH_TOKEN", TOKEN);
            if *wire == Wire::Json {
                c.env("TRACKBENCH_WIRE", "json");
            }
        }
        Target::Local(dir) => {
            c.arg(dir);
        }
    }
    // From a folder without the source tree's package, so the installed wheel is imported.
    c.current_dir(script.parent().context("script folder")?);
    py_seconds(c)
}

fn py_seconds(mut c: Command) -> anyhow::Result<(Duration, String)> {
    let out = c.stderr(Stdio::inherit()).output().context("running python")?;
    ensure!(out.status.success(), "python failed: {}", out.status);
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.lines().last().unwrap_or_default())
        .with_context(|| format!("python printed {text:?}"))?;
    let secs = v["seconds"].as_f64().context("seconds")?;
    Ok((Duration::from_secs_f64(secs), v["id"].as_str().context("id")?.to_string()))
}

/// Points stored for run `id` (the sum of its series' counts), over HTTP or from the folder.
fn stored(target: &Target, id: &str) -> anyhow::Result<i64> {
    let sums = match target {
        Target::Server(s, _) => s.http.get(&format!("/api/v1/runs/{id}/metrics"))?.0["metrics"]
            .as_array()
            .context("metrics")?
            .iter()
            .map(|m| m["count"].as_i64().unwrap_or(0))
            .sum(),
        Target::Local(dir) => {
            let s = trackbench_store::Store::open(dir, trackbench_store::StoreOptions::default())?;
            s.metric_summaries(id)?.iter().map(|m| m.count).sum()
        }
    };
    Ok(sums)
}

/// Median rate over `reps` runs of `f`, each checked for its `points`.
fn measure(
    what: &str,
    reps: usize,
    points: i64,
    target: &Target,
    mut f: impl FnMut() -> anyhow::Result<(Duration, String)>,
) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..reps {
        let (d, id) = f()?;
        let n = stored(target, &id)?;
        ensure!(n == points, "{what}: {n} points stored of {points}");
        times.push(d);
    }
    let rate = pts_per_s(points as f64, median(&times));
    println!("[wire] {what}: {} ({})", fmt_rate(rate), spread(&times));
    Ok(rate)
}

pub fn run(o: &Opts, tb: &Served, ml: &Served, tmp: &Path, t: &mut Table) -> anyhow::Result<()> {
    let reps = o.reps.clamp(1, 3);
    let points = WIRE_STEPS * KEYS as i64;
    let sqlite_dir = tmp.join("sqlite-store");
    let sq = serve_sqlite(&o.trackbench, &sqlite_dir)?;
    let py_sdk = tmp.join("wire_sdk.py");
    std::fs::write(&py_sdk, PY_SDK)?;

    // Bytes on the wire per point, for one flush of this workload (10 keys x 10,000 steps).
    let mut b = Batch { mark: Some(("w".into(), 1)), ..Batch::default() };
    for step in 0..10_000 {
        for k in 0..KEYS {
            b.push_metric(&format!("m{k}"), step, 1_700_000_000_000 + step, value(step, k));
        }
    }
    let bin = encode_binary(&b).len() as f64 / b.point_count() as f64;
    let json = serde_json::to_vec(&WireBatchRef::new(&b))?.len() as f64 / b.point_count() as f64;
    println!("[wire] bytes per point on the wire: binary {bin:.2}, JSON before gzip {json:.2}");

    let mut rates: Vec<(String, f64)> = Vec::new();
    let local_rust = tmp.join("local-rust");
    let local_py = tmp.join("local-py");
    let sides: [(&str, &Served); 2] = [("SQLite store", &sq), ("PostgreSQL team store", tb)];
    for (lang, python) in [("Rust SDK", None), ("Python SDK", o.python.as_deref())] {
        if lang == "Python SDK" && python.is_none() {
            println!("[wire] Python SDK: skipped (no --python with the trackbench wheel)");
            continue;
        }
        let run_one = |target: &Target| -> anyhow::Result<(Duration, String)> {
            match python {
                None => rust_sdk(target),
                Some(py) => python_sdk(py, &py_sdk, target),
            }
        };
        let local = if python.is_none() { &local_rust } else { &local_py };
        let target = Target::Local(local);
        let what = format!("{lang} -> local store");
        rates.push((what.clone(), measure(&what, reps, points, &target, || run_one(&target))?));
        for (store, served) in sides {
            for (wire, name) in [(Wire::Binary, "binary"), (Wire::Json, "gzip JSON")] {
                let target = Target::Server(served, wire);
                let what = format!("{lang} -> trackbench serve ({store}), {name}");
                rates.push((what.clone(), measure(&what, reps, points, &target, || run_one(&target))?));
            }
        }
    }

    // The mlflow client to mlflow server on the same PostgreSQL.
    ml.signal("-CONT");
    let ml_python = Path::new(&o.mlflow).with_file_name("python");
    let py_ml = tmp.join("wire_mlflow.py");
    std::fs::write(&py_ml, PY_MLFLOW)?;
    let ml_points = MLFLOW_STEPS * KEYS as i64;
    let mut ml_times = Vec::new();
    for _ in 0..reps.min(2) {
        let mut c = Command::new(&ml_python);
        c.arg(&py_ml).arg(&ml.http.base).arg(MLFLOW_STEPS.to_string()).arg(KEYS.to_string());
        let (d, id) = py_seconds(c)?;
        let (v, _) = ml.http.get(&format!("/api/2.0/mlflow/runs/get?run_id={id}"))?;
        let n = v["run"]["data"]["metrics"].as_array().map_or(0, Vec::len);
        ensure!(n == KEYS, "mlflow run {id} has {n} metrics of {KEYS}");
        ml_times.push(d);
    }
    let ml_rate = pts_per_s(ml_points as f64, median(&ml_times));
    println!("[wire] mlflow client -> mlflow server (PostgreSQL), {ml_points} points: {}", fmt_rate(ml_rate));
    ml.signal("-STOP");

    let local_of =
        |lang: &str| rates.iter().find(|(w, _)| w.starts_with(lang) && w.ends_with("local store")).map(|r| r.1);
    for (what, r) in &rates {
        let lang = if what.starts_with("Rust") { "Rust SDK" } else { "Python SDK" };
        let remote_binary = what.ends_with(", binary");
        let local = local_of(lang).unwrap_or(f64::NAN);
        let (target, verdict_text) = if remote_binary {
            let ok = *r >= TARGET;
            let within = local / r <= 2.0;
            (
                ">= 3 M points/s; goal within 2x of the local store",
                format!(
                    "{}; the local store {:.1}x faster (within 2x: {})",
                    verdict(ok),
                    local / r,
                    if within { "met" } else { "missed" }
                ),
            )
        } else {
            ("-", "info".to_string())
        };
        t.push(
            format!("{what}, 10 keys x {WIRE_STEPS} steps, until finish()"),
            fmt_rate(*r),
            format!("{} (mlflow client, {ml_points} points)", fmt_rate(ml_rate)),
            ratio(r / ml_rate),
            target,
            verdict_text,
        );
    }
    t.push(
        "bytes on the wire per point, one flush of 10 keys x 10k steps",
        format!("binary {bin:.2} B, JSON {json:.2} B before gzip"),
        "-",
        "-",
        "-",
        "info",
    );
    drop(sq);
    Ok(())
}
