//! `trackbench-team-bench`: the team server on PostgreSQL (issue 15), side by side with
//! `mlflow server --backend-store-uri postgresql://…` on the same PostgreSQL server, one after the
//! other, same workload, over loopback HTTP from this process (bodies built before the clock
//! starts, answers read in full). `cargo xtask bench` runs it against a throwaway cluster and the
//! venv of `crates/trackbench-bench/team/requirements.txt`; by hand:
//!
//! ```text
//! trackbench-team-bench --pg postgres://USER@HOST:PORT/DB --mlflow VENV/bin/mlflow [--runs 1000,10000]
//!     [--api-runs 1000] [--reps 5] [--ingest-only | --grid-only | --wire [--python PY]]
//! ```
//!
//! `--wire` measures only remote logging, binary wire form against JSON against the local store
//! and the `mlflow` client (issue 16 part 4; `team_wire`), with `PY` a python that has the
//! Trackbench wheel for the Python SDK's rows.
//!
//! `--runs 1000,10000,100000` adds issue 15's 100k-run size (its fill takes about 6 minutes on two
//! cores, so it is not in the default); `--grid-only` measures only the grid.
//!
//! Each side gets a fresh database on that server (named `tbbench_trackbench` and
//! `tbbench_mlflow`, dropped first). Measured, in order:
//!
//! * ingest: 10 keys x 10,000 steps. Trackbench through the Rust SDK's HTTP sink (its native batch
//!   endpoint) and through its MLflow-compatible `log-batch`; MLflow through `log-batch`, 1,000
//!   metrics (10 keys x 100 steps) per request, its limit.
//! * a 1,000,000-point loss curve (f32-rounded values, the `bytes` benchmark's curve): read whole
//!   (`/api/v1/runs/ID/series?key=` and MLflow's `metrics/get-history`) and downsampled (2,000
//!   buckets, and MLflow's `get-history-bulk-interval` with `max_results=2000`). Trackbench's
//!   curve goes in through the SDK; MLflow's through `COPY` into its `metrics` table (its own
//!   `log-batch` would take minutes for it), the same rows `log-batch` writes.
//! * bytes per point: `pg_total_relation_size` (table + indexes + TOAST) of the tables holding
//!   points, over the points stored (both the ingest runs and the curve).
//! * filter + order over N runs x 50 params x 20 metrics for each N of `--runs` (the store grows
//!   from one size to the next): `params.p1 = 'v3' and metrics.m1 > 0.5`, ordered by
//!   `metrics.m2 DESC`, first 100 (a tenth of the runs have `p1 = v3`, half of those `m1 > 0.5`).
//!   All grid runs are finished. Filled on both sides the same way, since logging 100k runs over
//!   HTTP would take most of an hour: SQL copies of runs each server logged through its own API.
//!   MLflow's copy one run it logged (runs, tags, params, metrics, latest metrics). Trackbench's
//!   first `--api-runs` (1,000) go in over HTTP (created, one batch, finished); the rest copy one
//!   of them (its `runs` row) with the params, metric summaries and metric chunks (the codec's
//!   bytes) the store writes, and notify live views as its writes do. Before the first copy the
//!   copies' SQL is checked against every run logged over HTTP: the same rows, and no rows in
//!   other tables. Both sides are ANALYZEd after each fill, and MLflow is paused while
//!   Trackbench's query is timed.
//! * live: a write through replica A -> the SSE `points` event at a client of replica B.
//!
//! Every answer is checked (point counts; the grid query finds as many runs as expected on both
//! sides, with the expected `metrics.m2` values in order). Misses are results;
//! the exit status is non-zero only when a check fails or a server does not start.

#[allow(dead_code)]
#[path = "../machine.rs"]
mod machine;
#[path = "../sse.rs"]
mod sse;
#[path = "../team_wire.rs"]
mod team_wire;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};
use trackbench_sdk::{Remote, Run, RunOptions};
use trackbench_store::Batch;
use trackbench_store::codec::{self, Points};
use trackbench_store::wire::WireBatchRef;

const TOKEN: &str = "bench-token";
const KEYS: usize = 10;
const INGEST_STEPS: i64 = 10_000;
/// MLflow's `log-batch` takes at most 1,000 metrics per request.
const STEPS_PER_REQUEST: i64 = 100;
const CURVE: i64 = 1_000_000;
const BUCKETS: usize = 2000;
const PARAMS: usize = 50;
const METRICS: usize = 20;
const FILTER: &str = "params.p1 = 'v3' and metrics.m1 > 0.5";
const LIMIT: usize = 100;
/// Wall time of every grid metric's one point.
const GRID_WALL_MS: i64 = 1_700_000_000_000;

struct Opts {
    pg: String,
    mlflow: String,
    trackbench: String,
    runs: Vec<usize>,
    reps: usize,
    /// Only the live and ingest measurements (`--ingest-only`), to iterate on the write path.
    ingest_only: bool,
    /// Only the grid (`--grid-only`), to iterate on filter + order.
    grid_only: bool,
    /// Grid runs logged through Trackbench's API before the rest are SQL copies (`--api-runs`).
    api_runs: usize,
    /// Only the wire comparison (`--wire`, issue 16 part 4; see `team_wire`).
    wire: bool,
    /// A python with the Trackbench wheel installed, for the wire comparison's Python SDK rows.
    python: Option<String>,
}

fn parse() -> anyhow::Result<Opts> {
    let mut o = Opts {
        pg: String::new(),
        mlflow: String::new(),
        trackbench: String::new(),
        runs: vec![1000, 10_000],
        reps: 5,
        ingest_only: false,
        grid_only: false,
        api_runs: 1000,
        wire: false,
        python: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--pg" => o.pg = val()?,
            "--mlflow" => o.mlflow = val()?,
            "--trackbench" => o.trackbench = val()?,
            "--reps" => o.reps = val()?.parse()?,
            "--ingest-only" => o.ingest_only = true,
            "--grid-only" => o.grid_only = true,
            "--api-runs" => o.api_runs = val()?.parse()?,
            "--wire" => o.wire = true,
            "--python" => o.python = Some(val()?),
            "--runs" => o.runs = val()?.split(',').map(|s| s.trim().parse()).collect::<Result<_, _>>()?,
            _ => bail!(
                "usage: trackbench-team-bench --pg postgres://USER@HOST:PORT/DB --mlflow PATH/TO/mlflow \
                 [--trackbench PATH] [--runs 1000,10000] [--api-runs N] [--reps N] [--ingest-only | --grid-only | --wire [--python PATH]]"
            ),
        }
    }
    ensure!(!o.pg.is_empty() && !o.mlflow.is_empty(), "--pg and --mlflow are required");
    if o.trackbench.is_empty() {
        let exe = std::env::current_exe()?;
        o.trackbench = exe.with_file_name("trackbench").display().to_string();
    }
    Ok(o)
}

// ---------------------------------------------------------------- small helpers

fn median(v: &[Duration]) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    s[s.len() / 2]
}

fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1e3;
    if m >= 100.0 { format!("{m:.0} ms") } else { format!("{m:.1} ms") }
}

fn spread(v: &[Duration]) -> String {
    let (lo, hi) = (v.iter().min().copied().unwrap_or_default(), v.iter().max().copied().unwrap_or_default());
    format!("median {} of {} (min {}, max {})", ms(median(v)), v.len(), ms(lo), ms(hi))
}

/// The loss curve of the `bytes` benchmark, f32-rounded (as a framework's f32 loss logs it).
fn loss(step: i64) -> f64 {
    let s = step as f64;
    (0.1 + 2.0 * (-s / 2e5).exp() + 0.01 * (s * 0.01).sin()) as f32 as f64
}

/// The value of metric `k` of grid run `i` (both sides compute it the same way; SQL below).
fn grid_metric(i: usize, k: usize) -> f64 {
    ((i as i64 * 2_654_435_761 + k as i64 * 97) % 10_007) as f64 / 10_007.0
}

/// The value of param `j` of grid run `i` (SQL in `tb_grid_rows` and MLflow's copies): each of
/// `v0`..`v9` for a tenth of the runs where `2j + 7` is prime to 10, as for `p1`, the filter's.
fn grid_param(i: usize, j: usize) -> String {
    format!("v{}", (i * (2 * j + 7)) % 10)
}

/// A database URL with its name replaced.
fn with_db(url: &str, db: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => format!("{url}/{db}"),
    }
}

/// `psql -At -c SQL` against `url`, its output.
fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-At", "-c", sql])
        .output()
        .context("running psql")?;
    ensure!(
        out.status.success(),
        "psql: {}: {}",
        sql.chars().take(200).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn fresh_db(admin: &str, db: &str) -> anyhow::Result<String> {
    psql(admin, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
    psql(admin, &format!("CREATE DATABASE {db}"))?;
    Ok(with_db(admin, db))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into()
}

struct Http {
    agent: ureq::Agent,
    base: String,
}

impl Http {
    fn get(&self, path: &str) -> anyhow::Result<(Value, usize)> {
        let url = format!("{}{path}", self.base);
        let mut resp = self.agent.get(&url).header("Authorization", format!("Bearer {TOKEN}")).call()?;
        let status = resp.status();
        let text = resp.body_mut().with_config().limit(1 << 32).read_to_string()?;
        ensure!(status == 200, "GET {url}: HTTP {status}: {}", text.chars().take(300).collect::<String>());
        Ok((serde_json::from_str(&text)?, text.len()))
    }

    /// The raw bytes of a GET (for the binary series format).
    fn get_bytes(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let mut resp = self.agent.get(&url).header("Authorization", format!("Bearer {TOKEN}")).call()?;
        let status = resp.status();
        let bytes = resp.body_mut().with_config().limit(1 << 32).read_to_vec()?;
        ensure!(status == 200, "GET {url}: HTTP {status}");
        Ok(bytes)
    }

    fn post(&self, path: &str, body: &str) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .send(body)?;
        let status = resp.status();
        let text = resp.body_mut().with_config().limit(1 << 30).read_to_string()?;
        ensure!(
            status == 200 || status == 201,
            "POST {url}: HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        );
        Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
    }
}

/// A server process, killed on drop with its whole process group: `mlflow server` runs
/// uvicorn, a job runner and seven huey consumers that outlive a killed parent (leaked, they
/// kept two cores busy and slowed every later measurement).
struct Served {
    child: Child,
    http: Http,
}

impl Served {
    /// Stops (`STOP`) or resumes (`CONT`) the whole process group: `mlflow server`'s seven huey
    /// consumers take most of a core for a minute after it starts, which would be charged to
    /// whatever Trackbench measurement runs then; it is paused while Trackbench is measured.
    fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([sig, "--", &format!("-{}", self.child.id())]).status();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // Each server leads its own group (`process_group(0)` at spawn).
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn trackbench_serve(exe: &str, db_url: &str, artifacts: &std::path::Path) -> anyhow::Result<Served> {
    let artifacts = format!("file://{}", artifacts.display());
    serve_on(exe, &["--store", db_url, "--artifacts", &artifacts])
}

/// `trackbench STORE_ARGS serve` on a free port, once it answers `/api/v1/health`.
fn serve_on(exe: &str, store_args: &[&str]) -> anyhow::Result<Served> {
    let port = free_port()?;
    let mut child = Command::new(exe)
        .args(store_args)
        .args(["serve", "--port", &port.to_string()])
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {exe} serve"))?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let served = Served { child, http: Http { agent: agent(), base: format!("http://127.0.0.1:{port}") } };
    loop {
        let line = lines.next().context("trackbench serve exited before printing its URL")??;
        if line.contains("open:") || line.contains("API:") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    served.http.get("/api/v1/health")?;
    Ok(served)
}

fn mlflow_serve(exe: &str, db_url: &str, artifacts: &std::path::Path) -> anyhow::Result<Served> {
    let port = free_port()?;
    let backend = db_url.replacen("postgres://", "postgresql://", 1);
    let log = std::fs::File::create(artifacts.with_extension("log"))?;
    let child = Command::new(exe)
        .args(["server", "--backend-store-uri", &backend, "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--workers", "1", "--default-artifact-root"])
        .arg(format!("file://{}", artifacts.display()))
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {exe} server"))?;
    let mut served = Served { child, http: Http { agent: agent(), base: format!("http://127.0.0.1:{port}") } };
    let start = Instant::now();
    loop {
        if served.http.agent.get(format!("{}/health", served.http.base)).call().is_ok_and(|r| r.status() == 200) {
            return Ok(served);
        }
        if let Some(st) = served.child.try_wait()? {
            bail!("mlflow server exited ({st}); log: {}", artifacts.with_extension("log").display());
        }
        ensure!(start.elapsed() < Duration::from_secs(180), "mlflow server did not answer /health in 180 s");
        std::thread::sleep(Duration::from_millis(250));
    }
}

// ---------------------------------------------------------------- results

struct Row {
    what: String,
    tb: String,
    mlflow: String,
    ratio: String,
    target: String,
    verdict: String,
}

#[derive(Default)]
struct Table(Vec<Row>);

impl Table {
    fn push(
        &mut self,
        what: impl Into<String>,
        tb: impl Into<String>,
        mlflow: impl Into<String>,
        ratio: impl Into<String>,
        target: &str,
        verdict: impl Into<String>,
    ) {
        let r = Row {
            what: what.into(),
            tb: tb.into(),
            mlflow: mlflow.into(),
            ratio: ratio.into(),
            target: target.into(),
            verdict: verdict.into(),
        };
        println!(
            "  => {}: trackbench {} | mlflow {} | {} | target {} | {}",
            r.what, r.tb, r.mlflow, r.ratio, r.target, r.verdict
        );
        self.0.push(r);
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

fn ratio(x: f64) -> String {
    if x >= 10.0 { format!("{x:.0}x") } else { format!("{x:.1}x") }
}

// ---------------------------------------------------------------- workloads

/// MLflow `log-batch` bodies for `steps` steps of the 10-key workload, 1,000 metrics each.
fn mlflow_bodies(run_id: &str, steps: i64) -> Vec<String> {
    (0..steps)
        .step_by(STEPS_PER_REQUEST as usize)
        .map(|s0| {
            let mut metrics = Vec::with_capacity(1000);
            for step in s0..(s0 + STEPS_PER_REQUEST).min(steps) {
                for k in 0..KEYS {
                    let v = ingest_value(step, k);
                    metrics.push(json!({"key": format!("m{k}"), "value": v, "timestamp": 1_700_000_000_000i64 + step * 50, "step": step}));
                }
            }
            json!({"run_id": run_id, "metrics": metrics}).to_string()
        })
        .collect()
}

fn ingest_value(step: i64, k: usize) -> f64 {
    (((step as f64) * (1.0 + k as f64) * 1e-3).sin() * 0.5 + 1.0) as f32 as f64
}

fn mlflow_experiment(h: &Http, name: &str) -> anyhow::Result<String> {
    let v = h.post("/api/2.0/mlflow/experiments/create", &json!({"name": name}).to_string())?;
    Ok(v["experiment_id"].as_str().context("experiment_id")?.to_string())
}

fn mlflow_run(h: &Http, exp: &str, name: &str) -> anyhow::Result<String> {
    let v = h.post(
        "/api/2.0/mlflow/runs/create",
        &json!({"experiment_id": exp, "run_name": name, "start_time": 1_700_000_000_000i64}).to_string(),
    )?;
    Ok(v["run"]["info"]["run_id"].as_str().context("run_id")?.to_string())
}

/// Posts the bodies in order, one at a time; the time taken.
fn post_all(h: &Http, path: &str, bodies: &[String]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    for b in bodies {
        h.post(path, b)?;
    }
    Ok(start.elapsed())
}

/// The 10-key workload through the Rust SDK's HTTP sink, until `finish()`.
fn sdk_ingest(
    base: &str,
    project: &str,
    steps: i64,
    value: impl Fn(i64, usize) -> f64,
) -> anyhow::Result<(Duration, String)> {
    let keys: Vec<String> = (0..KEYS).map(|k| format!("m{k}")).collect();
    let start = Instant::now();
    let run = Run::start(RunOptions::new(project).remote(Remote::new(base.to_string(), Some(TOKEN.into()))))?;
    let id = run.id().to_string();
    let mut rec: Vec<(&str, f64)> = keys.iter().map(|k| (k.as_str(), 0.0)).collect();
    for step in 0..steps {
        for (k, r) in rec.iter_mut().enumerate() {
            r.1 = value(step, k);
        }
        run.log_at(step, &rec)?;
    }
    run.finish()?;
    Ok((start.elapsed(), id))
}

fn pts_per_s(points: f64, d: Duration) -> f64 {
    points / d.as_secs_f64()
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 { format!("{:.2} M points/s", r / 1e6) } else { format!("{:.0}k points/s", r / 1e3) }
}

// ---------------------------------------------------------------- the benchmark

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trackbench-team-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let o = parse()?;
    let started_load = machine::loadavg();
    let tmp = tempfile::Builder::new().prefix("tb-team-bench").tempdir()?;
    let tb_db = fresh_db(&o.pg, "tbbench_trackbench")?;
    let ml_db = fresh_db(&o.pg, "tbbench_mlflow")?;
    println!("PostgreSQL: {}", psql(&o.pg, "SELECT version()")?);
    std::fs::create_dir_all(tmp.path().join("tb-artifacts"))?;
    std::fs::create_dir_all(tmp.path().join("mlflow-artifacts"))?;
    let tb = trackbench_serve(&o.trackbench, &tb_db, &tmp.path().join("tb-artifacts"))?;
    println!("trackbench serve at {}", tb.http.base);
    let t0 = Instant::now();
    let ml = mlflow_serve(&o.mlflow, &ml_db, &tmp.path().join("mlflow-artifacts"))?;
    println!("mlflow server at {} (started in {:.1} s)", ml.http.base, t0.elapsed().as_secs_f64());
    ml.signal("-STOP");
    let mut t = Table::default();
    if o.wire {
        team_wire::run(&o, &tb, &ml, tmp.path(), &mut t)?;
        return finish(&o, t, &started_load, tb, ml);
    }
    let curve = if o.grid_only {
        ml.signal("-CONT");
        None
    } else {
        match before_grid(&o, &tb, &ml, &tb_db, &ml_db, tmp.path(), &mut t)? {
            Some(curve) => Some(curve),
            None => return finish(&o, t, &started_load, tb, ml), // --ingest-only
        }
    };
    grid(&o, &tb, &ml, &tb_db, &ml_db, curve.as_ref(), &mut t)?;
    finish(&o, t, &started_load, tb, ml)
}

/// The 1M-point curve's run on each side (Trackbench, MLflow), read downsampled at each grid size.
type Curve = (String, String);

/// Everything before the grid: live across replicas, ingest (MLflow paused while Trackbench is
/// measured), the 1M-point curve read whole and downsampled, bytes per point. `None` with
/// `--ingest-only`.
fn before_grid(
    o: &Opts,
    tb: &Served,
    ml: &Served,
    tb_db: &str,
    ml_db: &str,
    tmp: &std::path::Path,
    t: &mut Table,
) -> anyhow::Result<Option<Curve>> {
    let mut ml_points = 0i64;

    // ---- live, across replicas
    let b = trackbench_serve(&o.trackbench, tb_db, &tmp.join("tb-artifacts"))?;
    let rx = sse::subscribe(&b.http.agent, &format!("{}/api/v1/events?project=live", b.http.base), TOKEN)?;
    rx.recv_timeout(Duration::from_secs(10)).context("no SSE hello from replica B")?;
    let v = tb.http.post("/api/v1/runs", &json!({"project": "live"}).to_string())?;
    let live = v["id"].as_str().context("run id")?.to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, d) = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .context("no run_created event on replica B")?;
        if d.contains(&live) {
            break;
        }
    }
    let mut lat = Vec::new();
    for i in 0..20i64 {
        std::thread::sleep(Duration::from_millis(50));
        let mut batch = Batch::default();
        batch.push_metric("x", i, 1_700_000_000_000 + i, i as f64);
        let body = serde_json::to_string(&WireBatchRef::new(&batch))?;
        let s = Instant::now();
        tb.http.post(&format!("/api/v1/runs/{live}/batch"), &body)?;
        loop {
            let (seen, d) = rx.recv_timeout(Duration::from_secs(10)).context("no points event on replica B")?;
            if d.contains(&format!("\"count\":{}", i + 1)) {
                lat.push(seen.duration_since(s));
                break;
            }
        }
    }
    let worst = lat.iter().max().copied().unwrap_or_default();
    println!("[live] write through A -> SSE on B: {}", spread(&lat));
    t.push(
        "a write through replica A -> SSE `points` event at a client of replica B (20 writes)",
        format!("median {}, max {}", ms(median(&lat)), ms(worst)),
        "(no live events)",
        "-",
        "<= 300 ms",
        verdict(worst <= Duration::from_millis(300)),
    );
    drop(b);

    // ---- ingest
    let mut tb_points = 20i64; // the live run's
    let points = (INGEST_STEPS * KEYS as i64) as f64;
    let mut sdk = Vec::new();
    for _ in 0..o.reps {
        let (d, _) = sdk_ingest(&tb.http.base, "ingest", INGEST_STEPS, ingest_value)?;
        tb_points += INGEST_STEPS * KEYS as i64;
        sdk.push(d);
    }
    println!("[ingest] trackbench, Rust SDK over HTTP, {points} points: {}", spread(&sdk));
    let tb_exp = mlflow_experiment(&tb.http, "ingest-mlflow-api")?;
    let mut tb_lb = Vec::new();
    for r in 0..o.reps {
        let id = mlflow_run(&tb.http, &tb_exp, &format!("lb{r}"))?;
        let bodies = mlflow_bodies(&id, INGEST_STEPS);
        tb_lb.push(post_all(&tb.http, "/api/2.0/mlflow/runs/log-batch", &bodies)?);
        tb_points += INGEST_STEPS * KEYS as i64;
    }
    println!("[ingest] trackbench, MLflow log-batch, {points} points: {}", spread(&tb_lb));
    ml.signal("-CONT");
    let ml_exp = mlflow_experiment(&ml.http, "ingest")?;
    let ml_reps = o.reps.clamp(1, 3);
    let mut ml_lb = Vec::new();
    for r in 0..ml_reps {
        let id = mlflow_run(&ml.http, &ml_exp, &format!("lb{r}"))?;
        let bodies = mlflow_bodies(&id, INGEST_STEPS);
        ml_lb.push(post_all(&ml.http, "/api/2.0/mlflow/runs/log-batch", &bodies)?);
        ml_points += INGEST_STEPS * KEYS as i64;
        let n = psql(ml_db, &format!("SELECT count(*) FROM metrics WHERE run_uuid = '{id}'"))?;
        ensure!(n == points.to_string(), "mlflow stored {n} of {points} points");
    }
    println!("[ingest] mlflow, log-batch, {points} points: {}", spread(&ml_lb));
    let ml_rate = pts_per_s(points, median(&ml_lb));
    for (what, d) in [("Rust SDK (native batch endpoint)", &sdk), ("MLflow `log-batch`", &tb_lb)] {
        let r = pts_per_s(points, median(d));
        t.push(
            format!("ingest over HTTP into PostgreSQL, 10 keys x 10k steps; trackbench via {what}, MLflow via `log-batch` (1,000 metrics/request)"),
            fmt_rate(r),
            fmt_rate(ml_rate),
            ratio(r / ml_rate),
            ">= 20x",
            verdict(r / ml_rate >= 20.0),
        );
    }

    if o.ingest_only {
        return Ok(None);
    }

    // ---- the 1M-point curve
    let (d, curve_run) = {
        let keys = ["loss"];
        let start = Instant::now();
        let run = Run::start(RunOptions::new("history").remote(Remote::new(tb.http.base.clone(), Some(TOKEN.into()))))?;
        let id = run.id().to_string();
        for step in 0..CURVE {
            run.log_at(step, &[(keys[0], loss(step))])?;
        }
        run.finish()?;
        (start.elapsed(), id)
    };
    tb_points += CURVE;
    println!("[curve] trackbench: 1M points through the SDK in {:.2} s", d.as_secs_f64());
    let ml_curve = mlflow_run(&ml.http, &ml_exp, "loss-curve")?;
    let copy_start = Instant::now();
    {
        let mut c = Command::new("psql")
            .args([ml_db, "-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg("COPY metrics (key, value, timestamp, run_uuid, step, is_nan) FROM STDIN WITH (FORMAT csv)")
            .stdin(Stdio::piped())
            .spawn()?;
        let mut w = std::io::BufWriter::new(c.stdin.take().context("psql stdin")?);
        for step in 0..CURVE {
            writeln!(w, "loss,{:?},{},{ml_curve},{step},false", loss(step), 1_700_000_000_000 + step * 50)?;
        }
        drop(w);
        ensure!(c.wait()?.success(), "COPY into mlflow's metrics failed");
        let last = CURVE - 1;
        psql(
            ml_db,
            &format!(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES ('loss', {:?}, {}, {last}, false, '{ml_curve}')",
                loss(last),
                1_700_000_000_000 + last * 50
            ),
        )?;
    }
    ml_points += CURVE;
    println!("[curve] mlflow: 1M rows COPYed in {:.2} s", copy_start.elapsed().as_secs_f64());

    // Whole history.
    let tb_path = format!("/api/v1/runs/{curve_run}/series?key=loss");
    let mut tb_whole = Vec::new();
    let mut tb_bytes = 0;
    for _ in 0..o.reps {
        let s = Instant::now();
        let (v, n) = tb.http.get(&tb_path)?;
        tb_whole.push(s.elapsed());
        tb_bytes = n;
        ensure!(
            v["points"]["steps"].as_array().map(Vec::len) == Some(CURVE as usize),
            "trackbench: whole series incomplete"
        );
    }
    println!("[history] trackbench whole 1M series ({:.1} MB JSON): {}", tb_bytes as f64 / 1e6, spread(&tb_whole));
    // The same series in binary (`format=binary`: 24 bytes a point), decoded into arrays.
    let mut tb_binary = Vec::new();
    let mut bin_bytes = 0;
    for _ in 0..o.reps {
        let s = Instant::now();
        let bytes = tb.http.get_bytes(&format!("{tb_path}&format=binary"))?;
        ensure!(&bytes[..8] == b"TBSERIES", "trackbench: not a binary series");
        let n = u64::from_le_bytes(bytes[8..16].try_into()?) as usize;
        ensure!(n == CURVE as usize && bytes.len() == 16 + 24 * n, "trackbench: binary series incomplete");
        let word = |i: usize| u64::from_le_bytes(bytes[16 + 8 * i..24 + 8 * i].try_into().unwrap_or_default());
        let steps: Vec<i64> = (0..n).map(|i| word(i) as i64).collect();
        let values: Vec<f64> = (0..n).map(|i| f64::from_bits(word(2 * n + i))).collect();
        tb_binary.push(s.elapsed());
        ensure!(steps.last() == Some(&(CURVE - 1)) && values.len() == n, "trackbench: binary series wrong");
        bin_bytes = bytes.len();
    }
    println!("[history] trackbench whole 1M series ({:.1} MB binary): {}", bin_bytes as f64 / 1e6, spread(&tb_binary));
    let ml_path = format!("/api/2.0/mlflow/metrics/get-history?run_id={ml_curve}&metric_key=loss");
    let mut ml_whole = Vec::new();
    let mut ml_bytes = 0;
    for _ in 0..1 {
        let s = Instant::now();
        let (v, n) = ml.http.get(&ml_path)?;
        ml_whole.push(s.elapsed());
        ml_bytes = n;
        let got = v["metrics"].as_array().map_or(0, Vec::len);
        ensure!(got == CURVE as usize, "mlflow get-history gave {got} points");
    }
    println!("[history] mlflow whole 1M history ({:.1} MB JSON): {}", ml_bytes as f64 / 1e6, spread(&ml_whole));
    let (a, b) = (median(&tb_whole), median(&ml_whole));
    t.push(
        "whole 1M-point history, end to end (JSON read and parsed by the client)",
        ms(a),
        ms(b),
        ratio(b.as_secs_f64() / a.as_secs_f64()),
        "<= 100 ms",
        verdict(a <= Duration::from_millis(100)),
    );
    let a = median(&tb_binary);
    t.push(
        "whole 1M-point history, end to end (binary, `format=binary`, decoded by the client)",
        ms(a),
        ms(b),
        ratio(b.as_secs_f64() / a.as_secs_f64()),
        "<= 100 ms",
        verdict(a <= Duration::from_millis(100)),
    );

    let curve = (curve_run, ml_curve);
    downsampled(o, tb, ml, &curve, "before the grid", 0, t)?;

    // ---- bytes per point
    let tb_tables = "'metric_chunks','metric_summaries','metric_keys'";
    let ml_tables = "'metrics','latest_metrics'";
    let size = |db: &str, tables: &str| -> anyhow::Result<i64> {
        Ok(psql(db, &format!("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relname IN ({tables}) AND c.relnamespace = 'public'::regnamespace"))?.parse()?)
    };
    let tb_stored: i64 = psql(tb_db, "SELECT sum(count) FROM metric_summaries")?.parse()?;
    ensure!(tb_stored == tb_points, "trackbench holds {tb_stored} points, {tb_points} sent");
    let ml_stored: i64 = psql(ml_db, "SELECT count(*) FROM metrics")?.parse()?;
    ensure!(ml_stored == ml_points, "mlflow holds {ml_stored} points, {ml_points} sent");
    let (tb_size, ml_size) = (size(tb_db, tb_tables)?, size(ml_db, ml_tables)?);
    let (bpp_tb, bpp_ml) = (tb_size as f64 / tb_stored as f64, ml_size as f64 / ml_stored as f64);
    println!(
        "[bytes] trackbench {tb_size} B / {tb_stored} points = {bpp_tb:.2}; mlflow {ml_size} B / {ml_stored} points = {bpp_ml:.2}"
    );
    t.push(
        format!("bytes per point in PostgreSQL (table + indexes + TOAST of the point tables / points; {:.2}M vs {:.2}M points)", tb_stored as f64 / 1e6, ml_stored as f64 / 1e6),
        format!("{bpp_tb:.2} B"),
        format!("{bpp_ml:.1} B"),
        format!("{} smaller", ratio(bpp_ml / bpp_tb)),
        "<= 12 B",
        verdict(bpp_tb <= 12.0),
    );

    Ok(Some(curve))
}

/// The downsampled read of the 1M-point curve on both sides, with `runs` grid runs in the store.
fn downsampled(
    o: &Opts,
    tb: &Served,
    ml: &Served,
    curve: &Curve,
    label: &str,
    runs: usize,
    t: &mut Table,
) -> anyhow::Result<()> {
    let (curve_run, ml_curve) = curve;
    let path = format!("/api/v1/runs/{curve_run}/series?key=loss&max_points={BUCKETS}");
    tb.http.get(&path)?;
    let mut d1 = Vec::new();
    for _ in 0..o.reps.max(5) {
        let s = Instant::now();
        let (v, _) = tb.http.get(&path)?;
        d1.push(s.elapsed());
        let counts = v["buckets"]["count"].as_array().context("buckets")?;
        let total: u64 = counts.iter().filter_map(Value::as_u64).sum();
        ensure!(total == CURVE as u64 && counts.len() <= BUCKETS, "trackbench buckets hold {total} points");
    }
    let path = format!(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={ml_curve}&metric_key=loss&max_results={BUCKETS}"
    );
    ml.http.get(&path)?;
    let mut d2 = Vec::new();
    for _ in 0..3 {
        let s = Instant::now();
        let (v, _) = ml.http.get(&path)?;
        d2.push(s.elapsed());
        let got = v["metrics"].as_array().map_or(0, Vec::len);
        ensure!(got > 0 && got <= BUCKETS + 2, "mlflow bulk-interval gave {got} points");
    }
    println!("[history] {label}: downsampled, trackbench {} | mlflow {}", spread(&d1), spread(&d2));
    let (a, b) = (median(&d1), median(&d2));
    t.push(
        format!("1M-point history downsampled to 2,000 (trackbench `max_points`, MLflow `get-history-bulk-interval`), {runs} grid runs in the store"),
        ms(a),
        ms(b),
        ratio(b.as_secs_f64() / a.as_secs_f64()),
        "<= 30 ms",
        verdict(a <= Duration::from_millis(30)),
    );
    Ok(())
}

/// Grid runs `from..to` through Trackbench's HTTP API, 4 client threads: each created, its 50
/// params and 20 metrics logged in one batch, and finished.
fn tb_grid_over_http(tb: &Served, from: usize, to: usize) -> anyhow::Result<()> {
    std::thread::scope(|sc| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..4)
            .map(|th| {
                let base = tb.http.base.clone();
                sc.spawn(move || -> anyhow::Result<()> {
                    let h = Http { agent: agent(), base };
                    for i in (from..to).filter(|i| i % 4 == th) {
                        let v =
                            h.post("/api/v1/runs", &json!({"project": "grid", "name": format!("r{i}")}).to_string())?;
                        let id = v["id"].as_str().context("run id")?.to_string();
                        let mut b = Batch::default();
                        for j in 0..PARAMS {
                            b.params.push((format!("p{j}"), Value::String(grid_param(i, j))));
                        }
                        for k in 0..METRICS {
                            b.push_metric(&format!("m{k}"), 0, GRID_WALL_MS, grid_metric(i, k));
                        }
                        h.post(&format!("/api/v1/runs/{id}/batch"), &serde_json::to_string(&WireBatchRef::new(&b))?)?;
                        h.post(&format!("/api/v1/runs/{id}/finish"), &json!({"status": "finished"}).to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow::anyhow!("a fill thread panicked"))??;
        }
        Ok(())
    })
}

/// The rows Trackbench's store writes for grid runs `src` (a relation of `id`, the run's row,
/// and `g`, its grid index), per table: (table, columns, SELECT of those columns). Each metric's
/// one chunk takes its place in the series (`seq`, `n`, step range) from the same metric's
/// chunk of run `template`, and its bytes from `chunk_bytes` ([`chunk_bytes_copy`]).
fn tb_grid_rows(src: &str, template: i64) -> [(&'static str, &'static str, String); 3] {
    let value = "'v' || ((s.g * (2 * j + 7)) % 10)"; // grid_param
    let residue = "(s.g::bigint * 2654435761 + k * 97) % 10007"; // grid_metric
    [
        (
            "params",
            "run_id, key, value_json, value_text, value_num",
            format!(
                "SELECT s.id, ('p' || j) COLLATE \"C\", '\"' || {value} || '\"', {value}, NULL::float8 \
                 FROM {src} s, generate_series(0, {}) j",
                PARAMS - 1
            ),
        ),
        (
            "metric_summaries",
            "run_id, key_id, count, nan_count, last, last_is_nan, last_step, last_wall_ms, min, max, sum",
            format!(
                "SELECT s.id, mk.id, 1::bigint, 0::bigint, x.v, false, 0::bigint, {GRID_WALL_MS}::bigint, x.v, x.v, x.v \
                 FROM {src} s CROSS JOIN generate_series(0, {}) k JOIN metric_keys mk ON mk.name = 'm' || k \
                 CROSS JOIN LATERAL (SELECT ({residue})::float8 / 10007.0 AS v) x",
                METRICS - 1
            ),
        ),
        (
            "metric_chunks",
            "run_id, key_id, seq, n, step_min, step_max, vmin, vmax, vlast, data",
            format!(
                "SELECT s.id, mk.id, t.seq, t.n, t.step_min, t.step_max, x.res::float8 / 10007.0, \
                   x.res::float8 / 10007.0, x.res::float8 / 10007.0, cb.data \
                 FROM {src} s CROSS JOIN generate_series(0, {}) k JOIN metric_keys mk ON mk.name = 'm' || k \
                 JOIN metric_chunks t ON t.run_id = {template} AND t.key_id = mk.id \
                 CROSS JOIN LATERAL (SELECT {residue} AS res) x JOIN chunk_bytes cb ON cb.res = x.res",
                METRICS - 1
            ),
        ),
    ]
}

/// psql input making the temporary table `chunk_bytes(res, data)`: the chunk the store's codec
/// writes for a grid metric's one point (step 0, value `res / 10007`), for every `res`.
fn chunk_bytes_copy() -> String {
    let mut s = String::from(
        "CREATE TEMP TABLE chunk_bytes (res bigint PRIMARY KEY, data bytea) ON COMMIT DROP;\nCOPY chunk_bytes FROM STDIN;\n",
    );
    for res in 0..10_007i64 {
        let mut p = Points::default();
        p.push(0, GRID_WALL_MS, res as f64 / 10_007.0);
        let hex: String = codec::encode(&p, 0..1).iter().map(|b| format!("{b:02x}")).collect();
        s.push_str(&format!("{res}\t\\\\x{hex}\n"));
    }
    s.push_str("\\.\n");
    s
}

/// Runs a psql script given on its stdin (which may carry `COPY … FROM STDIN` data).
fn psql_script(url: &str, script: &str) -> anyhow::Result<String> {
    let mut c = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-At"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running psql")?;
    let mut stdin = c.stdin.take().context("psql stdin")?;
    let script = script.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = c.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("psql stdin writer panicked"))??;
    ensure!(out.status.success(), "psql script failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Checks, before any copy is made, that the SQL of [`tb_grid_rows`] gives exactly the rows the
/// store wrote for the grid runs logged over HTTP, and that those runs have rows in no other
/// table (which the copies would lack).
fn tb_check_copies_match(tb_db: &str, template: i64) -> anyhow::Result<()> {
    let api = "(SELECT id, substr(name, 2)::bigint AS g FROM runs WHERE project_id = (SELECT id FROM projects WHERE name = 'grid'))";
    let mut script = String::from("BEGIN;\n");
    script.push_str(&chunk_bytes_copy());
    for (table, cols, expected) in tb_grid_rows(api, template) {
        let stored = format!("SELECT {cols} FROM {table} WHERE run_id IN (SELECT id FROM {api} a)");
        script.push_str(&format!(
            "SELECT '{table}', count(*) FROM (({stored} EXCEPT ALL {expected}) UNION ALL ({expected} EXCEPT ALL {stored})) d;\n"
        ));
    }
    script.push_str("COMMIT;\n");
    for line in psql_script(tb_db, &script)?.lines() {
        let (table, differ) = line.split_once('|').context("check output")?;
        ensure!(differ == "0", "trackbench grid copies: {differ} rows of {table} differ from what the store wrote");
    }
    let others = psql(
        tb_db,
        "SELECT string_agg(format('(SELECT count(*) FROM %I WHERE %I IN (SELECT r.id FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name = ''grid''))', table_name, column_name), ' + ') \
         FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('run_id', 'source_run_id') \
           AND table_name NOT IN ('params', 'metric_summaries', 'metric_chunks')",
    )?;
    let n = psql(tb_db, &format!("SELECT {others}"))?;
    ensure!(n == "0", "trackbench grid runs have {n} rows in tables the copies do not fill");
    Ok(())
}

/// Grid runs `from..to` on Trackbench's side as SQL copies of run `template` (a grid run logged
/// over HTTP): its `runs` row with a new id, name and times, and the rows of [`tb_grid_rows`];
/// in one transaction that, like each of the store's writes, notifies live views; then ANALYZE.
fn tb_grid_copies(tb_db: &str, template: i64, from: usize, to: usize) -> anyhow::Result<()> {
    let cols = psql(
        tb_db,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns \
         WHERE table_name = 'runs' AND table_schema = 'public' AND column_name <> 'id'",
    )?;
    let select: Vec<String> = cols
        .split(',')
        .map(|c| match c {
            "uid" => "substr(md5('tbgrid' || g), 1, 16)".to_string(),
            "name" => "'r' || g".to_string(),
            "created_ms" | "started_ms" | "heartbeat_ms" | "ended_ms" => format!("{c} + g"),
            c => c.to_string(),
        })
        .collect();
    let before: i64 = psql(tb_db, "SELECT coalesce(max(id), 0) FROM runs")?.parse()?;
    let mut script = String::from("BEGIN;\n");
    script.push_str(&chunk_bytes_copy());
    script.push_str(&format!(
        "INSERT INTO runs ({cols}) SELECT {} FROM runs, generate_series({from}, {}) g WHERE id = {template} ORDER BY g;\n\
         CREATE TEMP TABLE src ON COMMIT DROP AS SELECT id, substr(name, 2)::bigint AS g FROM runs WHERE id > {before};\n",
        select.join(", "),
        to - 1
    ));
    for (table, cols, rows) in tb_grid_rows("src", template) {
        script.push_str(&format!("INSERT INTO {table} ({cols}) {rows} ORDER BY 1, 2;\n"));
    }
    script.push_str("NOTIFY trackbench_changes;\nCOMMIT;\nANALYZE;\n");
    psql_script(tb_db, &script)?;
    Ok(())
}

/// The first [`LIMIT`] grid runs of `0..n` the query finds, in order: their `metrics.m2`.
fn grid_expected(n: usize) -> Vec<f64> {
    let mut m: Vec<f64> =
        (0..n).filter(|&i| grid_param(i, 1) == "v3" && grid_metric(i, 1) > 0.5).map(|i| grid_metric(i, 2)).collect();
    m.sort_by(|a, b| b.total_cmp(a));
    m.truncate(LIMIT);
    m
}

/// Filter + order over a grid of N runs x 50 params x 20 metrics, for each N of `--runs` (the
/// store grows from one size to the next), with the downsampled read of the curve (when
/// measured) at each size, then the slopes.
fn grid(
    o: &Opts,
    tb: &Served,
    ml: &Served,
    tb_db: &str,
    ml_db: &str,
    curve: Option<&Curve>,
    t: &mut Table,
) -> anyhow::Result<()> {
    // MLflow's template: one grid-shaped run logged through its API, then finished.
    let grid_exp = mlflow_experiment(&ml.http, "grid")?;
    let template = mlflow_run(&ml.http, &grid_exp, "template")?;
    {
        let params: Vec<Value> = (0..PARAMS).map(|j| json!({"key": format!("p{j}"), "value": "x"})).collect();
        let metrics: Vec<Value> = (0..METRICS)
            .map(|k| json!({"key": format!("m{k}"), "value": 0.0, "timestamp": GRID_WALL_MS, "step": 0}))
            .collect();
        ml.http.post(
            "/api/2.0/mlflow/runs/log-batch",
            &json!({"run_id": template, "params": params, "metrics": metrics}).to_string(),
        )?;
        ml.http.post(
            "/api/2.0/mlflow/runs/update",
            &json!({"run_id": template, "status": "FINISHED", "end_time": GRID_WALL_MS + 1000}).to_string(),
        )?;
    }
    let run_cols = psql(
        ml_db,
        "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'runs' AND table_schema = 'public'",
    )?;
    let mut have = 0usize;
    let mut tb_template = None;
    let mut ml_size_runs = Vec::new();
    let mut tb_size_runs = Vec::new();
    let mut filter_rows = Vec::new();
    for &n in &o.runs {
        ensure!(n > have, "--runs must grow: {n} after {have}");
        // Trackbench: the first --api-runs over HTTP, the rest SQL copies of one of those.
        let api_to = n.min(o.api_runs).max(have);
        if api_to > have {
            let s = Instant::now();
            tb_grid_over_http(tb, have, api_to)?;
            println!("[grid] trackbench: runs {have}..{api_to} over HTTP in {:.1} s", s.elapsed().as_secs_f64());
        }
        if n > api_to {
            let template = match tb_template {
                Some(id) => id,
                None => {
                    let id: i64 = psql(
                        tb_db,
                        "SELECT r.id FROM runs r JOIN projects p ON p.id = r.project_id WHERE p.name = 'grid' \
                         ORDER BY r.created_ms DESC, r.id DESC LIMIT 1",
                    )?
                    .parse()
                    .context("no grid run logged over HTTP to copy (--api-runs 0?)")?;
                    tb_check_copies_match(tb_db, id)?;
                    tb_template = Some(id);
                    id
                }
            };
            let s = Instant::now();
            tb_grid_copies(tb_db, template, api_to, n)?;
            println!("[grid] trackbench: runs {api_to}..{n} as SQL copies in {:.1} s", s.elapsed().as_secs_f64());
        } else {
            psql(tb_db, "ANALYZE")?;
        }
        // MLflow: SQL copies of the template run.
        let s = Instant::now();
        let (a, b) = (have, n - 1);
        let uuid = "md5('grid' || g)";
        let cols: Vec<String> = run_cols
            .split(',')
            .map(|c| match c {
                "run_uuid" => uuid.to_string(),
                "name" => "'r' || g".to_string(),
                "start_time" | "end_time" => format!("{c} + g"),
                c => c.to_string(),
            })
            .collect();
        let sql = format!(
            "BEGIN;
             INSERT INTO runs ({run_cols}) SELECT {} FROM runs, generate_series({a}, {b}) g WHERE run_uuid = '{template}';
             INSERT INTO tags (key, value, run_uuid) SELECT key, CASE WHEN key = 'mlflow.runName' THEN 'r' || g ELSE value END, {uuid}
               FROM tags, generate_series({a}, {b}) g WHERE run_uuid = '{template}';
             INSERT INTO params (key, value, run_uuid) SELECT 'p' || j, 'v' || ((g * (2 * j + 7)) % 10), {uuid}
               FROM generate_series({a}, {b}) g, generate_series(0, {}) j;
             INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)
               SELECT 'm' || k, ((g::bigint * 2654435761 + k * 97) % 10007)::float8 / 10007.0, {GRID_WALL_MS}, {uuid}, 0, false
               FROM generate_series({a}, {b}) g, generate_series(0, {}) k;
             INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)
               SELECT key, value, timestamp, step, is_nan, run_uuid FROM metrics m
               WHERE m.run_uuid IN (SELECT {uuid} FROM generate_series({a}, {b}) g);
             COMMIT; ANALYZE;",
            cols.join(", "),
            PARAMS - 1,
            METRICS - 1
        );
        psql(ml_db, &sql)?;
        println!("[grid] mlflow: runs {have}..{n} as SQL copies in {:.1} s", s.elapsed().as_secs_f64());
        have = n;

        // The query, both sides; each answer checked against the grid's own top 100.
        let expected = grid_expected(n);
        let q = format!(
            "/api/v1/runs?project=grid&filter={}&order_by={}&limit={LIMIT}&columns=metrics.m2",
            enc(FILTER),
            enc("metrics.m2 desc")
        );
        let tb_found = |v: &Value| -> anyhow::Result<Vec<(String, f64)>> {
            v["runs"]
                .as_array()
                .context("runs")?
                .iter()
                .map(|r| {
                    let m2 = r["columns"]["metrics.m2"]["last"].as_f64().context("metrics.m2 column")?;
                    Ok((r["name"].as_str().unwrap_or_default().to_string(), m2))
                })
                .collect()
        };
        // MLflow's process group is paused while Trackbench is measured, as during ingest.
        ml.signal("-STOP");
        let tb_measured = (|| -> anyhow::Result<_> {
            let first = tb_found(&tb.http.get(&q)?.0)?;
            let mut d1 = Vec::new();
            for _ in 0..o.reps.max(5) {
                let s = Instant::now();
                let (v, _) = tb.http.get(&q)?;
                d1.push(s.elapsed());
                ensure!(tb_found(&v)? == first, "trackbench: the filter's answer changed");
            }
            Ok((first, d1))
        })();
        ml.signal("-CONT");
        let (first, d1) = tb_measured?;
        let body = json!({"experiment_ids": [grid_exp], "filter": FILTER, "order_by": ["metrics.m2 DESC"], "max_results": LIMIT}).to_string();
        let ml_found = |v: &Value| -> Vec<(String, f64)> {
            v["runs"].as_array().map_or_else(Vec::new, |rs| {
                rs.iter()
                    .map(|r| {
                        let m2 = r["data"]["metrics"]
                            .as_array()
                            .and_then(|ms| ms.iter().find(|m| m["key"] == "m2").and_then(|m| m["value"].as_f64()));
                        (r["info"]["run_name"].as_str().unwrap_or_default().to_string(), m2.unwrap_or(f64::NAN))
                    })
                    .collect()
            })
        };
        let ml_first = ml_found(&ml.http.post("/api/2.0/mlflow/runs/search", &body)?);
        let mut d2 = Vec::new();
        for _ in 0..o.reps.clamp(3, 5) {
            let s = Instant::now();
            let v = ml.http.post("/api/2.0/mlflow/runs/search", &body)?;
            d2.push(s.elapsed());
            ensure!(ml_found(&v).len() == ml_first.len(), "mlflow: the search's answer changed");
        }
        // The same runs found: as many as expected, with the expected metrics.m2 in order (runs
        // tied in m2 may come in another order on the two sides: names compared as sets).
        let values = |f: &[(String, f64)]| f.iter().map(|(_, v)| *v).collect::<Vec<f64>>();
        ensure!(
            first.len() == expected.len() && ml_first.len() == expected.len(),
            "filter found {} (trackbench) and {} (mlflow) runs, expected {}",
            first.len(),
            ml_first.len(),
            expected.len()
        );
        ensure!(values(&first) == expected, "trackbench: not the expected runs in metrics.m2 order");
        ensure!(values(&ml_first) == expected, "mlflow: not the expected runs in metrics.m2 order");
        let (mut x, mut y): (Vec<&String>, Vec<&String>) =
            (first.iter().map(|r| &r.0).collect(), ml_first.iter().map(|r| &r.0).collect());
        x.sort();
        y.sort();
        if x != y {
            println!("[grid] note: the two servers' first {LIMIT} differ as sets (ties in metrics.m2)");
        }
        println!(
            "[grid] {n} runs ({} found): filter + order, trackbench {} | mlflow {} | load average {}",
            first.len(),
            spread(&d1),
            spread(&d2),
            machine::loadavg()
        );
        let (a, b) = (median(&d1), median(&d2));
        filter_rows.push((n, a, b));
        t.push(
            format!(
                "filter + order over {n} runs x 50 params x 20 metrics, first {LIMIT} (`{FILTER}`, `metrics.m2 DESC`)"
            ),
            ms(a),
            ms(b),
            ratio(b.as_secs_f64() / a.as_secs_f64()),
            if n >= 100_000 { "<= 300 ms" } else { "<= 300 ms (at 100k)" },
            if n >= 100_000 {
                verdict(a <= Duration::from_millis(300)).to_string()
            } else {
                format!("info ({})", verdict(a <= Duration::from_millis(300)))
            },
        );
        if let Some(curve) = curve {
            downsampled(o, tb, ml, curve, &format!("with {n} runs"), n, t)?;
        }
        let db_size =
            |db: &str| -> anyhow::Result<i64> { Ok(psql(db, "SELECT pg_database_size(current_database())")?.parse()?) };
        tb_size_runs.push((n, db_size(tb_db)?));
        ml_size_runs.push((n, db_size(ml_db)?));
    }

    // ---- slopes: between each two sizes, and from the first to the last
    let mut pairs: Vec<(usize, usize)> = (1..filter_rows.len()).map(|i| (i - 1, i)).collect();
    if filter_rows.len() > 2 {
        pairs.push((0, filter_rows.len() - 1));
    }
    for (i, j) in pairs {
        let ((n0, a0, b0), (n1, a1, b1)) = (filter_rows[i], filter_rows[j]);
        let k = (n1 - n0) as f64 / 1000.0;
        t.push(
            format!("slope of filter + order, {n0} -> {n1} runs (per 1,000 runs)"),
            format!("{:+.2} ms", (a1.as_secs_f64() - a0.as_secs_f64()) * 1e3 / k),
            format!("{:+.2} ms", (b1.as_secs_f64() - b0.as_secs_f64()) * 1e3 / k),
            "-",
            "-",
            "info",
        );
    }
    if tb_size_runs.len() >= 2 {
        let (n0, n1) = (tb_size_runs[0].0, tb_size_runs[tb_size_runs.len() - 1].0);
        let per_run = |v: &[(usize, i64)]| (v[v.len() - 1].1 - v[0].1) as f64 / (v[v.len() - 1].0 - v[0].0) as f64;
        t.push(
            format!("slope of database size, {n0} -> {n1} runs (bytes per run of 50 params + 20 metrics)"),
            format!("{:.0} B", per_run(&tb_size_runs)),
            format!("{:.0} B", per_run(&ml_size_runs)),
            ratio(per_run(&ml_size_runs) / per_run(&tb_size_runs)) + " smaller",
            "-",
            "info",
        );
    }
    Ok(())
}

/// Prints the table and drops both servers and databases.
fn finish(o: &Opts, t: Table, started_load: &str, tb: Served, ml: Served) -> anyhow::Result<()> {
    println!("\nMachine:");
    for (k, v) in machine::machine_info() {
        println!("- {k}: {v}");
    }
    println!("- load average at start: {started_load}; at the end: {}", machine::loadavg());
    println!("\n| measurement | trackbench | mlflow server | ratio | target | verdict |\n|---|---|---|---|---|---|");
    for r in &t.0 {
        println!("| {} | {} | {} | {} | {} | {} |", r.what, r.tb, r.mlflow, r.ratio, r.target, r.verdict);
    }
    drop(tb);
    drop(ml);
    let _ = psql(&o.pg, "DROP DATABASE IF EXISTS tbbench_trackbench WITH (FORCE)");
    let _ = psql(&o.pg, "DROP DATABASE IF EXISTS tbbench_mlflow WITH (FORCE)");
    Ok(())
}

/// Percent-encodes a query-string value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
