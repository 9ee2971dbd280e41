//! Launching from the UI: devices, jobs, sweeps and A/B comparisons over `trackbench-launch`
//! (and `trackbench-compare` for A/B verdicts), the same library code `trackbench launch`,
//! `sweep` and `ab` use.
//!
//! - `GET /api/v1/devices`: what jobs may run on (probed once, then cached).
//! - `GET|POST /api/v1/jobs`, `POST /api/v1/jobs/{id}/cancel`: jobs of this server process.
//! - `POST /api/v1/sweeps`: a grid (or a seeded random sample of it) as jobs in one group;
//!   `POST /api/v1/sweeps/plan`: the same body checked and planned, nothing started (the UI's
//!   preview, so it never re-implements the launcher's grid and sampler).
//! - `GET|POST /api/v1/ab`, `GET /api/v1/ab/{id}`: A/B comparisons (arms × seeds, interleaved;
//!   or two existing run groups), the verdict stored when the last run ends;
//!   `GET /api/v1/ab/{id}/stats`: each run's value now and each arm's mean and interval (what
//!   the UI's A/B page draws, computed by `trackbench-compare`, not by the UI).
//!
//! Local jobs run in one `trackbench_launch::Scheduler` owned by the server (per-device
//! limits), started on the first job; each creates its run as `trackbench launch` does, so the
//! runs table sees it through the change watcher. A body with `"on": "slurm"` runs on the Slurm
//! cluster instead (`slurm`: one job array per submission, whose tasks log to this server).
//! Sweep and A/B planning (`trackbench_launch::plan`) and an A/B's course to its verdict
//! (`trackbench_launch::orchestrate`) are the CLI's code, not copies of it, on either backend.
//!
//! Launching runs arbitrary commands. On this machine it is refused (403) unless the server is
//! bound to loopback or was started with `--allow-launch`, and always on a team store; on the
//! cluster unless the server was started with `--slurm`. A bad body is a 400 that creates
//! nothing: devices, programs, folders, grids, sizes, and for Slurm the cluster's own check
//! (`sbatch --test-only`) come before the first job.
//!
//! The routes and the configuration are here; `launcher` holds the job table, the scheduler
//! and the Slurm arrays' threads, `jobs` single jobs and devices, `plans` sweeps and A/B
//! comparisons, `slurm` the Slurm backend's options and `GET /api/v1/backends`.

mod jobs;
mod launcher;
mod plans;
mod slurm;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Serialize;
use trackbench_launch::{Devices, LaunchError, Limits};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use jobs::{cancel_job, create_job, devices, list_jobs};
pub use launcher::{JobView, Launcher};
pub(crate) use plans::compare_error;
use plans::{ab_detail, ab_stats, create_ab, create_sweep, list_abs, plan_sweep};
pub use slurm::{On, SlurmConfig};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/devices", get(devices))
        .route("/api/v1/backends", get(slurm::backends))
        .route("/api/v1/jobs", get(list_jobs).post(create_job))
        .route("/api/v1/jobs/{id}/cancel", post(cancel_job))
        .route("/api/v1/sweeps", post(create_sweep))
        .route("/api/v1/sweeps/plan", post(plan_sweep))
        .route("/api/v1/ab", get(list_abs).post(create_ab))
        .route("/api/v1/ab/{id}", get(ab_detail))
        .route("/api/v1/ab/{id}/stats", get(ab_stats))
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
    /// The Slurm backend (`trackbench serve --slurm`); `None`: Slurm launches are refused.
    pub slurm: Option<SlurmConfig>,
}

impl Default for LaunchConfig {
    fn default() -> LaunchConfig {
        LaunchConfig {
            enabled: false,
            trainer: None,
            limits: Limits::default(),
            probe: None,
            grace: std::time::Duration::from_secs(10),
            slurm: None,
        }
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

/// 403 unless launching on `on` is enabled for this server.
fn check_launch(s: &AppState, on: On) -> ApiResult<()> {
    match on {
        On::Local => check_local(s),
        On::Slurm => slurm::check_slurm(s).map(drop),
    }
}

/// 403 unless launching on this machine is enabled for this server.
fn check_local(s: &AppState) -> ApiResult<()> {
    if s.team.is_some() {
        // Launched jobs log to the SQLite store beside the server; a team server's runs live in
        // its database, and a team server runs no commands for remote users.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "launching on this machine is not available on a team server (PostgreSQL store): launch on \
             your machine (`trackbench launch|sweep|ab`) and point the SDK at this server with TRACKBENCH_URL, \
             or start the server with `--slurm` to launch on a Slurm cluster",
        ));
    }
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

/// 403 unless some backend is enabled (cancelling a job of the table).
fn check_any(s: &AppState) -> ApiResult<()> {
    check_local(s).or_else(|e| if s.launcher.config.slurm.is_some() { Ok(()) } else { Err(e) })
}
