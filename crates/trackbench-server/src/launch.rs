//! Launching from the UI: devices, jobs, sweeps and A/B comparisons over `trackbench-launch`
//! (and `trackbench-compare` for A/B verdicts), the same library code `trackbench launch`,
//! `sweep` and `ab` use.
//!
//! - `GET /api/v1/devices`: what jobs may run on (probed once, then cached).
//! - `GET|POST /api/v1/jobs`, `POST /api/v1/jobs/{id}/cancel`: jobs of this server process.
//! - `POST /api/v1/sweeps`: a grid (or a seeded random sample of it) as jobs in one group.
//! - `GET|POST /api/v1/ab`, `GET /api/v1/ab/{id}`: A/B comparisons (arms × seeds, interleaved;
//!   or two existing run groups), the verdict stored when the last run ends.
//!
//! Jobs run in one [`Scheduler`] owned by the server (per-device limits), started on the first
//! job; each creates its run as `trackbench launch` does, so the runs table sees it through the
//! change watcher. Launching runs arbitrary commands: it is refused (403) unless the server is
//! bound to loopback or was started with `--allow-launch`. A bad body is a 400 that creates
//! nothing: devices, programs, folders, grids and sizes are checked before the first job.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use trackbench_compare::{Direction, ab_from_groups, finish_ab};
use trackbench_launch::grid::{self, Params};
use trackbench_launch::plan::{AbPlan, MAX_JOBS, sweep_jobs};
use trackbench_launch::{
    CancelToken, Device, Devices, Job, LaunchError, LaunchOptions, Limits, Scheduler, SchedulerEvent, reap_orphans,
};
use trackbench_store::{Arm, NewAb, RunStatus, Store, StoreOptions};

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/jobs", get(list_jobs).post(create_job))
        .route("/api/v1/jobs/{id}/cancel", post(cancel_job))
        .route("/api/v1/sweeps", post(create_sweep))
        .route("/api/v1/ab", get(list_abs).post(create_ab))
        .route("/api/v1/ab/{id}", get(ab_detail))
}

/// A device a job can be pinned to, as `GET /api/v1/devices` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// What a job names: `cpu`, `cuda:0`, `wgpu:NAME`.
    pub id: String,
    /// `cpu`, `cuda` or `wgpu`.
    pub kind: String,
    pub name: String,
    pub detail: String,
}

/// Lists this machine's devices (the CLI brings the trainer's probe, which knows wgpu).
pub type DeviceProbe = Arc<dyn Fn() -> Vec<DeviceInfo> + Send + Sync>;

/// How the server launches jobs.
#[derive(Clone)]
pub struct LaunchConfig {
    /// Launch endpoints answer 403 when false.
    pub enabled: bool,
    /// The `trackbench` executable, for `"trainer"` jobs (`trackbench train …`); none: refused.
    pub trainer: Option<PathBuf>,
    pub limits: Limits,
    pub probe: Option<DeviceProbe>,
    /// Between SIGTERM and SIGKILL when a job is cancelled.
    pub grace: std::time::Duration,
}

impl Default for LaunchConfig {
    fn default() -> LaunchConfig {
        LaunchConfig {
            enabled: false,
            trainer: None,
            limits: Limits::default(),
            probe: None,
            grace: std::time::Duration::from_secs(10),
        }
    }
}

/// The server's launcher: its configuration, cached devices, the job table and the scheduler.
pub struct Launcher {
    pub config: LaunchConfig,
    devices: OnceLock<Vec<DeviceInfo>>,
    table: Arc<Mutex<Table>>,
    scheduler: Mutex<Option<Scheduler>>,
}

/// Keep at most this many ended jobs in the list.
const KEEP_ENDED: usize = 500;

#[derive(Default)]
struct Table {
    next_id: u64,
    jobs: BTreeMap<u64, Entry>,
    /// A/Bs with jobs still to end: their job count left.
    abs: HashMap<String, usize>,
}

struct Entry {
    view: JobView,
    token: CancelToken,
    /// (A/B id, arm, launch order) of an A/B's job.
    ab: Option<(String, Arm, i64)>,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: u64,
    pub run_id: Option<String>,
    pub project: String,
    pub name: Option<String>,
    pub command: String,
    pub device: String,
    /// `queued`, `running`, `finished`, `failed`, `killed` or `cancelled` (never started).
    pub state: &'static str,
    /// Unix seconds.
    pub queued_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub sweep_id: Option<String>,
    pub ab_id: Option<String>,
}

fn now_s() -> f64 {
    trackbench_store::now_ms() as f64 / 1000.0
}

/// A job to queue: the job, its sweep id, and its A/B arm (A/B id, arm, seed).
type QueuedJob = (Job, Option<String>, Option<(String, Arm, i64)>);

impl Launcher {
    pub fn new(config: LaunchConfig) -> Launcher {
        Launcher {
            config,
            devices: OnceLock::new(),
            table: Arc::new(Mutex::new(Table::default())),
            scheduler: Mutex::new(None),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The devices (probed on first use; blocking: call on the blocking pool).
    pub fn devices(&self) -> &[DeviceInfo] {
        self.devices.get_or_init(|| match &self.config.probe {
            Some(probe) => probe(),
            None => default_devices(),
        })
    }

    pub fn jobs(&self) -> Vec<JobView> {
        self.table().jobs.values().map(|e| e.view.clone()).collect()
    }

    /// Queues jobs (checked already), starting the scheduler on first use.
    fn submit(&self, root: &std::path::Path, opts: &StoreOptions, jobs: Vec<QueuedJob>) -> Vec<JobView> {
        let mut sched = self.scheduler.lock().unwrap_or_else(|p| p.into_inner());
        if sched.is_none() {
            *sched = Some(self.start_scheduler(root, opts));
        }
        let Some(scheduler) = sched.as_ref() else { return Vec::new() };
        let mut views = Vec::new();
        let mut submitted = Vec::new();
        {
            let mut t = self.table();
            for (job, sweep_id, ab) in jobs {
                t.next_id += 1;
                let id = t.next_id;
                let view = JobView {
                    id,
                    run_id: None,
                    project: job.project.clone(),
                    name: job.name.clone(),
                    command: job.command_line(),
                    device: job.device.to_string(),
                    state: "queued",
                    queued_at: now_s(),
                    started_at: None,
                    ended_at: None,
                    exit_code: None,
                    error: None,
                    sweep_id,
                    ab_id: ab.as_ref().map(|a| a.0.clone()),
                };
                if let Some((ab_id, _, _)) = &ab {
                    *t.abs.entry(ab_id.clone()).or_default() += 1;
                }
                let token = CancelToken::new();
                views.push(view.clone());
                t.jobs.insert(id, Entry { view, token: token.clone(), ab });
                submitted.push((id, job, token));
            }
            prune(&mut t);
        }
        for (id, job, token) in submitted {
            scheduler.submit(id, job, token);
        }
        views
    }

    fn start_scheduler(&self, root: &std::path::Path, opts: &StoreOptions) -> Scheduler {
        let mut lopts = LaunchOptions::new(root);
        lopts.store_opts = opts.clone();
        lopts.grace = self.config.grace;
        let (root, sopts) = (root.to_path_buf(), opts.clone());
        // Runs a launcher of this host left behind when it died are ended first, as the CLI does.
        match Store::open(&root, sopts.clone()).and_then(|mut s| reap_orphans(&mut s)) {
            Ok(reaped) if !reaped.is_empty() => tracing::info!(?reaped, "ended runs whose launcher died"),
            Ok(_) => {}
            Err(e) => tracing::warn!("looking for orphaned runs: {e}"),
        }
        let table = self.table.clone();
        let mut store: Option<Store> = None;
        Scheduler::start(lopts, self.config.limits.clone(), move |id, ev| {
            let mut t = table.lock().unwrap_or_else(|p| p.into_inner());
            let Some(entry) = t.jobs.get_mut(&id) else { return };
            let ab_of_job = entry.ab.clone();
            let mut ab_write: Option<(String, Arm, i64, String)> = None;
            let mut ab_done: Option<String> = None;
            let mut ended = false;
            match ev {
                SchedulerEvent::Started => {
                    entry.view.state = "running";
                    entry.view.started_at = Some(now_s());
                }
                SchedulerEvent::RunCreated(run) => {
                    entry.view.run_id = Some(run.clone());
                    if let Some((ab, arm, seq)) = ab_of_job.clone() {
                        ab_write = Some((ab, arm, seq, run));
                    }
                }
                SchedulerEvent::Done(r) => {
                    ended = true;
                    entry.view.ended_at = Some(now_s());
                    entry.view.exit_code = r.exit_code;
                    entry.view.error = r.error.clone();
                    if entry.view.run_id.is_none() {
                        entry.view.run_id = r.run_id.clone();
                    }
                    entry.view.state = match (r.run_id.is_some(), r.status) {
                        (false, RunStatus::Killed) => "cancelled",
                        (_, RunStatus::Finished) => "finished",
                        (_, RunStatus::Killed) => "killed",
                        _ => "failed",
                    };
                }
            }
            if ended && let Some((ab, _, _)) = ab_of_job {
                let left = t.abs.entry(ab.clone()).or_insert(1);
                *left = left.saturating_sub(1);
                if *left == 0 {
                    t.abs.remove(&ab);
                    ab_done = Some(ab);
                }
            }
            drop(t);
            if ab_write.is_none() && ab_done.is_none() {
                return;
            }
            if store.is_none() {
                match Store::open(&root, sopts.clone()) {
                    Ok(s) => store = Some(s),
                    Err(e) => return tracing::error!("opening the store for an A/B: {e}"),
                }
            }
            let Some(st) = store.as_mut() else { return };
            if let Some((ab, arm, seq, run)) = ab_write
                && let Err(e) = trackbench_store::retry_busy(std::time::Duration::from_secs(30), || {
                    st.add_ab_run(&ab, arm, &run, seq)
                })
            {
                tracing::error!(ab = %ab, "recording an A/B run: {e}");
            }
            if let Some(ab) = ab_done {
                let interrupted = table_interrupted(&table, &ab);
                if let Err(e) = finish_ab(st, &ab, interrupted) {
                    tracing::error!(ab = %ab, "computing the A/B verdict: {e}");
                }
            }
        })
    }

    fn cancel(&self, id: u64) -> Option<JobView> {
        let t = self.table();
        let e = t.jobs.get(&id)?;
        e.token.cancel();
        Some(e.view.clone())
    }
}

/// True when any job of A/B `ab` was cancelled or killed (the A/B then ends `killed`).
fn table_interrupted(table: &Mutex<Table>, ab: &str) -> bool {
    let t = table.lock().unwrap_or_else(|p| p.into_inner());
    t.jobs.values().any(|e| e.view.ab_id.as_deref() == Some(ab) && e.token.is_cancelled())
}

/// Drops the oldest ended jobs beyond [`KEEP_ENDED`].
fn prune(t: &mut Table) {
    let ended: Vec<u64> = t.jobs.iter().filter(|(_, e)| e.view.ended_at.is_some()).map(|(id, _)| *id).collect();
    for id in ended.iter().take(ended.len().saturating_sub(KEEP_ENDED)) {
        t.jobs.remove(id);
    }
}

/// The CPU and the CUDA GPUs the driver lists (no wgpu probe without the trainer's).
pub fn default_devices() -> Vec<DeviceInfo> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut out =
        vec![DeviceInfo { id: "cpu".into(), kind: "cpu".into(), name: "CPU".into(), detail: format!("{cores} cores") }];
    for i in 0..Devices::detect().cuda {
        out.push(DeviceInfo {
            id: format!("cuda:{i}"),
            kind: "cuda".into(),
            name: format!("CUDA device {i}"),
            detail: "listed by the NVIDIA driver".into(),
        });
    }
    out
}

fn launch_error(e: LaunchError) -> ApiError {
    match e {
        LaunchError::Store(s) => s.into(),
        LaunchError::Io { .. } => ApiError::internal(e.to_string()),
        other => ApiError::invalid(other.to_string()),
    }
}

/// 403 unless launching is enabled for this server.
fn check_enabled(s: &AppState) -> ApiResult<()> {
    if s.launcher.config.enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "launching is disabled: this server listens on a non-loopback address; start it with \
             `trackbench serve --allow-launch` to let clients run commands on this machine",
        ))
    }
}

async fn devices(State(s): State<Arc<AppState>>) -> ApiResult<axum::Json<Vec<DeviceInfo>>> {
    let state = s.clone();
    let list = crate::state::blocking(move || Ok(state.launcher.devices().to_vec())).await?;
    Ok(axum::Json(list))
}

async fn list_jobs(State(s): State<Arc<AppState>>) -> axum::Json<Vec<JobView>> {
    axum::Json(s.launcher.jobs())
}

/// What every launching body shares: where and how the command runs.
#[derive(Deserialize, Default)]
struct JobSpec {
    project: Option<String>,
    name: Option<String>,
    group: Option<String>,
    /// `key=value` or a bare `key`.
    #[serde(default)]
    tags: Vec<String>,
    device: Option<String>,
    program: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    dir: Option<PathBuf>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// The reference trainer's parameters instead of program/args.
    trainer: Option<serde_json::Map<String, Value>>,
}

/// `trackbench train` flags a trainer job may set (JSON name, flag).
const TRAINER_PARAMS: &[(&str, &str)] = &[
    ("dataset", "--dataset"),
    ("samples", "--samples"),
    ("classes", "--classes"),
    ("dim", "--dim"),
    ("hidden", "--hidden"),
    ("lr", "--lr"),
    ("optimizer", "--optimizer"),
    ("batch_size", "--batch-size"),
    ("epochs", "--epochs"),
    ("seed", "--seed"),
    ("backend", "--backend"),
];

fn trainer_flag(key: &str) -> ApiResult<&'static str> {
    TRAINER_PARAMS.iter().find(|(k, _)| *k == key).map(|(_, f)| *f).ok_or_else(|| {
        let known: Vec<&str> = TRAINER_PARAMS.iter().map(|(k, _)| *k).collect();
        ApiError::invalid(format!("unknown trainer parameter `{key}` (known: {})", known.join(", ")))
    })
}

/// A JSON scalar (or a list of numbers, for `hidden`) as a command-line value.
fn scalar(what: &str, v: &Value) -> ApiResult<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) if items.iter().all(|i| i.is_number()) && !items.is_empty() => {
            items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        }
        _ => return Err(ApiError::invalid(format!("{what}: expected a string or a number, got {v}"))),
    };
    if s.is_empty() || s.contains('\0') {
        return Err(ApiError::invalid(format!("{what}: empty value")));
    }
    Ok(s)
}

/// A JSON object of parameters (`{"lr": 0.1}`) as checked assignments.
fn params_of(what: &str, m: &serde_json::Map<String, Value>) -> ApiResult<Params> {
    m.iter()
        .map(|(k, v)| {
            let value = scalar(&format!("{what}.{k}"), v)?;
            grid::param(k, &value).map_err(launch_error)
        })
        .collect()
}

/// Checks a job spec and makes the job template. `placeholders` are the names sweeps and A/Bs
/// substitute: a trainer job gets `--flag {name}` for each, after its fixed parameters.
fn template(s: &AppState, spec: &JobSpec, placeholders: &[String]) -> ApiResult<Job> {
    let device_name = spec.device.as_deref().unwrap_or("cpu");
    let device = check_device(s, device_name)?;
    let (program, args) = match (&spec.trainer, &spec.program) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("give either `program` (with `args`) or `trainer`, not both"));
        }
        (None, None) => return Err(ApiError::invalid("no command: give `program` (with `args`) or `trainer`")),
        (None, Some(p)) => {
            if p.trim().is_empty() {
                return Err(ApiError::invalid("`program` is empty"));
            }
            (p.clone(), spec.args.clone())
        }
        (Some(t), None) => {
            if !spec.args.is_empty() {
                return Err(ApiError::invalid("`args` go with `program`, not with `trainer`"));
            }
            let exe = s.launcher.config.trainer.clone().ok_or_else(|| {
                ApiError::invalid("the reference trainer is not available in this server (run `trackbench serve`)")
            })?;
            let mut args = vec!["train".to_string()];
            for (k, v) in t {
                let flag = trainer_flag(k)?;
                if placeholders.contains(k) {
                    continue;
                }
                args.push(flag.to_string());
                args.push(scalar(&format!("trainer.{k}"), v)?);
            }
            for k in placeholders {
                args.push(trainer_flag(k)?.to_string());
                args.push(format!("{{{k}}}"));
            }
            (exe.display().to_string(), args)
        }
    };
    let mut job = Job::new(spec.project.clone().unwrap_or_else(|| "default".into()), program, args);
    job.device = device;
    job.name = spec.name.clone().filter(|n| !n.is_empty());
    job.group = spec.group.clone().filter(|g| !g.is_empty());
    job.cwd = spec.dir.clone();
    if let Some(d) = &job.cwd
        && !d.is_dir()
    {
        return Err(ApiError::invalid(format!("`dir` {} is not a folder", d.display())));
    }
    for t in &spec.tags {
        // `key=value`, or a bare `key` (a label: empty value).
        let (k, v) = t.split_once('=').unwrap_or((t.as_str(), ""));
        if k.trim().is_empty() || t.contains('\0') {
            return Err(ApiError::invalid(format!("tag `{t}`: expected KEY=VALUE or a bare KEY")));
        }
        job.tags.push((k.trim().to_string(), v.to_string()));
    }
    for (k, v) in &spec.env {
        if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
            return Err(ApiError::invalid(format!("environment variable `{k}`: bad name or value")));
        }
        job.env.push((k.clone(), v.clone()));
    }
    if !job.program.contains('{') {
        job.check().map_err(launch_error)?;
    }
    Ok(job)
}

/// `cpu`, `cuda:N` the driver lists, or `wgpu:NAME` matching a probed adapter.
fn check_device(s: &AppState, name: &str) -> ApiResult<Device> {
    let d = Devices::detect().resolve(name).map_err(launch_error)?;
    if let Device::Wgpu(want) = &d {
        let list = s.launcher.devices();
        let want = want.to_ascii_lowercase();
        let found = list.iter().any(|x| {
            x.kind == "wgpu"
                && (x.id.to_ascii_lowercase() == format!("wgpu:{want}") || x.name.to_ascii_lowercase().contains(&want))
        });
        if !found {
            let known: Vec<&str> = list.iter().map(|x| x.id.as_str()).collect();
            return Err(ApiError::invalid(format!("unknown device `{name}`; this machine has: {}", known.join(", "))));
        }
    }
    Ok(d)
}

async fn create_job(State(s): State<Arc<AppState>>, JsonBody(spec): JsonBody<JobSpec>) -> ApiResult<Response> {
    check_enabled(&s)?;
    let state = s.clone();
    let view = crate::state::blocking(move || {
        let job = template(&state, &spec, &[])?;
        Ok(state.launcher.submit(&state.root, &state.opts, vec![(job, None, None)]).remove(0))
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

async fn cancel_job(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<axum::Json<JobView>> {
    check_enabled(&s)?;
    let id: u64 = id.parse().map_err(|_| ApiError::invalid(format!("job id `{id}` is not a number")))?;
    s.launcher.cancel(id).map(axum::Json).ok_or_else(|| ApiError::not_found(format!("no job {id} in this server")))
}

#[derive(Deserialize)]
struct SweepBody {
    #[serde(flatten)]
    job: JobSpec,
    grid: BTreeMap<String, Vec<Value>>,
    random: Option<usize>,
    seed: Option<u64>,
}

async fn create_sweep(State(s): State<Arc<AppState>>, JsonBody(body): JsonBody<SweepBody>) -> ApiResult<Response> {
    check_enabled(&s)?;
    let state = s.clone();
    let out = crate::state::blocking(move || {
        if body.grid.is_empty() {
            return Err(ApiError::invalid("`grid` is empty: give at least one parameter with values"));
        }
        let mut axes = Vec::new();
        let mut size: usize = 1;
        for (name, values) in &body.grid {
            if values.is_empty() {
                return Err(ApiError::invalid(format!("grid.{name}: no values")));
            }
            let vals = values.iter().map(|v| scalar(&format!("grid.{name}"), v)).collect::<ApiResult<Vec<_>>>()?;
            grid::param(name, &vals[0]).map_err(launch_error)?;
            size = size.saturating_mul(vals.len());
            axes.push((name.clone(), vals));
        }
        let jobs_n = body.random.map_or(size, |n| n.min(size));
        if body.random == Some(0) {
            return Err(ApiError::invalid("`random` must be at least 1"));
        }
        if jobs_n > MAX_JOBS || size > 1_000_000 {
            return Err(ApiError::invalid(format!(
                "the grid makes {size} combinations{}; at most {MAX_JOBS} jobs per sweep",
                body.random.map(|n| format!(" ({n} chosen)")).unwrap_or_default()
            )));
        }
        let names: Vec<String> = axes.iter().map(|(k, _)| k.clone()).collect();
        let base = template(&state, &body.job, if body.job.trainer.is_some() { &names } else { &[] })?;
        let mut combos = grid::product(&axes);
        if let Some(n) = body.random {
            combos = grid::sample(combos, n, body.seed.unwrap_or(0));
        }
        let group = base.group.clone().unwrap_or_else(|| format!("sweep-{}", trackbench_store::new_run_id()));
        let jobs = sweep_jobs(&base, &combos, &group).into_iter().map(|j| (j, Some(group.clone()), None)).collect();
        let views = state.launcher.submit(&state.root, &state.opts, jobs);
        Ok(json!({ "sweep_id": group, "jobs": views }))
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[derive(Deserialize)]
struct AbBody {
    #[serde(flatten)]
    job: JobSpec,
    metric: String,
    /// `max`/`maximize` or `min`/`minimize`.
    goal: Option<String>,
    direction: Option<String>,
    #[serde(default = "default_seeds")]
    seeds: u64,
    a: Option<serde_json::Map<String, Value>>,
    b: Option<serde_json::Map<String, Value>>,
    base: Option<serde_json::Map<String, Value>>,
    from_groups: Option<Vec<String>>,
}

fn default_seeds() -> u64 {
    5
}

async fn create_ab(State(s): State<Arc<AppState>>, JsonBody(body): JsonBody<AbBody>) -> ApiResult<Response> {
    let state = s.clone();
    let goal = body.goal.clone().or(body.direction.clone()).unwrap_or_default();
    let direction = match goal.to_ascii_lowercase().as_str() {
        "max" | "maximize" => Direction::Maximize,
        "min" | "minimize" => Direction::Minimize,
        _ => return Err(ApiError::invalid("say which way is better: `goal` \"max\" or \"min\"")),
    };
    if body.metric.trim().is_empty() {
        return Err(ApiError::invalid("`metric` is empty"));
    }
    if let Some(groups) = body.from_groups.clone() {
        // Runs nothing: no launch permission needed.
        let [ga, gb] = groups.as_slice() else {
            return Err(ApiError::invalid("`from_groups` takes two run groups: [A, B]"));
        };
        if body.a.is_some() || body.b.is_some() || body.job.program.is_some() || body.job.trainer.is_some() {
            return Err(ApiError::invalid("`from_groups` runs nothing: leave out a, b, program and trainer"));
        }
        let (ga, gb) = (ga.clone(), gb.clone());
        let ab = s
            .write(move |st| {
                ab_from_groups(
                    st,
                    body.job.project.as_deref(),
                    body.job.name.as_deref(),
                    &body.metric,
                    direction,
                    &ga,
                    &gb,
                )
                .map_err(compare_error)
            })
            .await?;
        let out = json!({ "ab_id": ab.id, "jobs": [], "ab": ab });
        return Ok((StatusCode::CREATED, axum::Json(out)).into_response());
    }
    check_enabled(&s)?;
    let out = crate::state::blocking(move || {
        let (Some(a), Some(b)) = (&body.a, &body.b) else {
            return Err(ApiError::invalid("give arms `a` and `b` (parameters) with a command, or `from_groups`"));
        };
        let plan = AbPlan {
            a: params_of("a", a)?,
            b: params_of("b", b)?,
            base: body.base.as_ref().map(|m| params_of("base", m)).transpose()?.unwrap_or_default(),
            seeds: body.seeds,
        };
        plan.check().map_err(launch_error)?;
        let mut names: Vec<String> = plan.base.iter().chain(&plan.a).chain(&plan.b).map(|(k, _)| k.clone()).collect();
        names.push("seed".into());
        names.sort();
        names.dedup();
        let template = template(&state, &body.job, if body.job.trainer.is_some() { &names } else { &[] })?;
        let name = body.job.name.clone().unwrap_or_else(|| plan.default_name());
        let spec = plan.spec(&template);
        let new = NewAb {
            project: template.project.clone(),
            name,
            metric: body.metric.clone(),
            direction: match direction {
                Direction::Maximize => "maximize".into(),
                Direction::Minimize => "minimize".into(),
            },
            spec,
        };
        let id = {
            let mut st = Store::open(&state.root, state.opts.clone())?;
            st.create_ab(&new)?
        };
        let jobs = plan
            .jobs(&template, &id)
            .into_iter()
            .enumerate()
            .map(|(i, j)| (j.job, None, Some((id.clone(), j.arm, i as i64 + 1))))
            .collect();
        let views = state.launcher.submit(&state.root, &state.opts, jobs);
        Ok(json!({ "ab_id": id, "jobs": views }))
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

pub(crate) fn compare_error(e: trackbench_compare::CompareError) -> ApiError {
    use trackbench_compare::CompareError as C;
    match e {
        C::Store(s) => s.into(),
        C::NoRuns(_) | C::MetricNotFound(_) => ApiError::not_found(e.to_string()),
        C::Invalid { .. } => ApiError::invalid(e.to_string()),
    }
}

#[derive(Deserialize)]
struct AbListQuery {
    project: Option<String>,
}

async fn list_abs(State(s): State<Arc<AppState>>, Query(q): Query<AbListQuery>) -> ApiResult<Response> {
    let list = s.read(move |st| Ok(st.list_abs(q.project.as_deref())?)).await?;
    Ok(axum::Json(list).into_response())
}

async fn ab_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Response> {
    let ab = s.read(move |st| Ok(st.ab(&st.resolve_ab(&id)?)?)).await?;
    Ok(axum::Json(ab).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trainer_values_and_params_are_checked() {
        assert_eq!(scalar("x", &json!(0.5)).unwrap(), "0.5");
        assert_eq!(scalar("x", &json!([64, 32])).unwrap(), "64,32");
        assert!(scalar("x", &json!({"a": 1})).is_err());
        assert!(scalar("x", &json!("")).is_err());
        assert_eq!(trainer_flag("batch_size").unwrap(), "--batch-size");
        assert!(trainer_flag("project").is_err());
        let m = json!({"lr": 0.1, "bad name": 1});
        assert!(params_of("a", m.as_object().unwrap()).is_err());
    }

    #[test]
    fn ended_jobs_are_pruned_oldest_first() {
        let mut t = Table::default();
        for id in 0..(KEEP_ENDED as u64 + 3) {
            let view = JobView {
                id,
                run_id: None,
                project: "p".into(),
                name: None,
                command: "x".into(),
                device: "cpu".into(),
                state: "finished",
                queued_at: 0.0,
                started_at: None,
                ended_at: Some(1.0),
                exit_code: None,
                error: None,
                sweep_id: None,
                ab_id: None,
            };
            t.jobs.insert(id, Entry { view, token: CancelToken::new(), ab: None });
        }
        prune(&mut t);
        assert_eq!(t.jobs.len(), KEEP_ENDED);
        assert!(!t.jobs.contains_key(&0) && t.jobs.contains_key(&3));
    }
}
