//! Devices and single jobs: a job spec (any command, or the reference trainer with its
//! checked params, on this machine or the Slurm cluster) becomes a queued [`Job`]; cancel; the
//! job list.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use trackbench_launch::grid::{self, Params};
use trackbench_launch::{Device, Devices, Job, trainer};

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::launcher::{JobView, QueuedJob};
use super::slurm::{On, SlurmSpec};
use super::{DeviceInfo, check_any, check_launch, launch_error, slurm};

pub(super) async fn devices(State(s): State<Arc<AppState>>) -> ApiResult<axum::Json<Vec<DeviceInfo>>> {
    let state = s.clone();
    let list = crate::state::blocking(move || Ok(state.launcher.devices().to_vec())).await?;
    Ok(axum::Json(list))
}

pub(super) async fn list_jobs(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
) -> axum::Json<Vec<JobView>> {
    let mut jobs = s.launcher.jobs();
    jobs.retain(|j| crate::access::can_read(&caller, &j.project));
    axum::Json(jobs)
}

/// What every launching body shares: where and how the command runs.
#[derive(Deserialize, Default)]
pub(super) struct JobSpec {
    pub(super) project: Option<String>,
    pub(super) name: Option<String>,
    pub(super) group: Option<String>,
    /// `key=value` or a bare `key`.
    #[serde(default)]
    pub(super) tags: Vec<String>,
    pub(super) device: Option<String>,
    pub(super) program: Option<String>,
    #[serde(default)]
    pub(super) args: Vec<String>,
    pub(super) dir: Option<PathBuf>,
    #[serde(default)]
    pub(super) env: BTreeMap<String, String>,
    /// The reference trainer's parameters instead of program/args.
    pub(super) trainer: Option<serde_json::Map<String, Value>>,
    /// Where the jobs run: this machine (default) or the Slurm cluster.
    #[serde(default)]
    pub(super) on: On,
    /// Slurm's options (partition, GPUs, time…), with `"on": "slurm"`.
    pub(super) slurm: Option<SlurmSpec>,
}

impl JobSpec {
    /// The Slurm options of a Slurm body (`None` on this machine); the submission's
    /// `--job-name` is `job_name`.
    pub(super) fn slurm_options(
        &self,
        s: &AppState,
        job_name: &str,
    ) -> ApiResult<Option<trackbench_launch::slurm::SlurmOptions>> {
        match self.on {
            On::Local => Ok(None),
            On::Slurm => slurm::options(s, self.slurm.as_ref(), job_name).map(Some),
        }
    }
}

fn trainer_flag(key: &str) -> ApiResult<&'static str> {
    trainer::flag(key).ok_or_else(|| {
        let known: Vec<&str> = trainer::PARAMS.iter().map(|(k, _)| *k).collect();
        ApiError::invalid(format!("unknown trainer parameter `{key}` (known: {})", known.join(", ")))
    })
}

/// A JSON scalar (or a list of numbers, for `hidden`) as a command-line value.
pub(super) fn scalar(what: &str, v: &Value) -> ApiResult<String> {
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
pub(super) fn params_of(what: &str, m: &serde_json::Map<String, Value>) -> ApiResult<Params> {
    m.iter()
        .map(|(k, v)| {
            let value = scalar(&format!("{what}.{k}"), v)?;
            grid::param(k, &value).map_err(launch_error)
        })
        .collect()
}

/// Checks a job spec and makes the job template. `placeholders` are the names sweeps and A/Bs
/// substitute: a trainer job gets `--flag {name}` for each, after its fixed parameters.
pub(super) fn template(s: &AppState, spec: &JobSpec, placeholders: &[String]) -> ApiResult<Job> {
    let device = match spec.on {
        On::Local => {
            if spec.slurm.is_some() {
                return Err(ApiError::invalid("`slurm` options go with \"on\": \"slurm\""));
            }
            check_device(s, spec.device.as_deref().unwrap_or("cpu"))?
        }
        On::Slurm => {
            if let Some(d) = spec.device.as_deref().filter(|d| *d != "cpu") {
                return Err(ApiError::invalid(format!(
                    "device `{d}` names a device of this machine; on Slurm ask for GPUs with `slurm.gpus`"
                )));
            }
            Device::Cpu
        }
    };
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
            // On Slurm the nodes run the trainer from where they see `trackbench`.
            let exe = match spec.on {
                On::Local => s.launcher.config.trainer.clone(),
                On::Slurm => s.launcher.config.slurm.as_ref().map(|c| c.trackbench.clone()),
            };
            let exe = exe.ok_or_else(|| {
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
    // A cluster's nodes find the program themselves (the task fails, saying so, if not).
    if !job.program.contains('{') && spec.on == On::Local {
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

pub(super) async fn create_job(
    State(s): State<Arc<AppState>>,
    JsonBody(spec): JsonBody<JobSpec>,
) -> ApiResult<Response> {
    check_launch(&s, spec.on)?;
    let state = s.clone();
    let view = crate::state::blocking(move || {
        let job = template(&state, &spec, &[])?;
        let slurm = spec.slurm_options(&state, spec.name.as_deref().unwrap_or(&job.program))?;
        let mut views = queue(&state, slurm, vec![(job, None, None)], None)?;
        views.pop().ok_or_else(|| ApiError::internal("the job vanished"))
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

pub(super) async fn cancel_job(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<JobView>> {
    check_any(&s)?;
    let id: u64 = id.parse().map_err(|_| ApiError::invalid(format!("job id `{id}` is not a number")))?;
    s.launcher.cancel(id).map(axum::Json).ok_or_else(|| ApiError::not_found(format!("no job {id} in this server")))
}

/// Queues checked jobs on this machine (`slurm` is `None`) or submits them as one Slurm array
/// (checked with the cluster first: a refusal is a 400 with Slurm's words, nothing created);
/// `ab` is the A/B they belong to. Blocking.
pub(super) fn queue(
    state: &AppState,
    slurm: Option<trackbench_launch::slurm::SlurmOptions>,
    jobs: Vec<QueuedJob>,
    ab: Option<trackbench_launch::orchestrate::AbLaunch>,
) -> ApiResult<Vec<JobView>> {
    match slurm {
        None => Ok(state.launcher.submit(&state.root, &state.opts, jobs, ab)),
        Some(opts) => {
            let store = state.open()?;
            state.launcher.submit_slurm(store, opts, jobs, ab).map_err(launch_error)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
}
