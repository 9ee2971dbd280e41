//! Sweeps and A/B comparisons: many jobs from one plan (a grid, or arms × seeds interleaved),
//! an A/B from two existing run groups, and the A/B list and detail.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_compare::{Direction, ab_from_groups, ab_live};
use trackbench_launch::Job;
use trackbench_launch::grid::{self, Params};
use trackbench_launch::orchestrate::{AbGoal, AbLaunch};
use trackbench_launch::plan::{AbPlan, MAX_JOBS, SweepPlan, sweep_jobs};
use trackbench_store::Store;

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::jobs::{JobSpec, params_of, queue, scalar, template};
use super::slurm::On;
use super::{check_launch, launch_error};

#[derive(Deserialize)]
pub(super) struct SweepBody {
    #[serde(flatten)]
    job: JobSpec,
    grid: BTreeMap<String, Vec<Value>>,
    random: Option<usize>,
    seed: Option<u64>,
}

impl SweepBody {
    /// The checked plan of a sweep body's grid.
    fn grid_plan(&self) -> ApiResult<SweepPlan> {
        let mut axes = Vec::new();
        for (name, values) in &self.grid {
            let vals = values.iter().map(|v| scalar(&format!("grid.{name}"), v)).collect::<ApiResult<Vec<_>>>()?;
            axes.push((name.clone(), vals));
        }
        let plan = SweepPlan { axes, random: self.random, seed: self.seed.unwrap_or(0) };
        plan.check().map_err(launch_error)?;
        Ok(plan)
    }

    /// The checked plan and job template of a sweep body.
    fn plan(&self, state: &AppState) -> ApiResult<(SweepPlan, Job)> {
        let plan = self.grid_plan()?;
        let names: Vec<String> = plan.axes.iter().map(|(k, _)| k.clone()).collect();
        let base = template(state, &self.job, if self.job.trainer.is_some() { &names } else { &[] })?;
        Ok((plan, base))
    }

    /// True when the body names no command (a dry run then plans the grid alone).
    fn grid_only(&self) -> bool {
        self.job.program.is_none() && self.job.trainer.is_none()
    }
}

pub(super) async fn create_sweep(
    State(s): State<Arc<AppState>>,
    JsonBody(body): JsonBody<SweepBody>,
) -> ApiResult<Response> {
    check_launch(&s, body.job.on)?;
    let state = s.clone();
    let out = crate::state::blocking(move || {
        let (plan, base) = body.plan(&state)?;
        let (group, jobs) = plan.jobs(&base);
        let slurm = body.job.slurm_options(&state, &group)?;
        let jobs = jobs.into_iter().map(|j| (j, Some(group.clone()), None)).collect();
        let views = queue(&state, slurm, jobs, None)?;
        Ok(json!({ "sweep_id": group, "jobs": views }))
    })
    .await?;
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

/// Most planned jobs a dry run lists by default (`limit` asks for another number).
const PLAN_SHOWN: usize = 20;

#[derive(Deserialize)]
pub(super) struct PlanQuery {
    limit: Option<usize>,
}

/// `POST /api/v1/sweeps/plan`: what `POST /api/v1/sweeps` with the same body would start,
/// checked the same way, without starting anything: the number of combinations and jobs, and
/// the first jobs in launch order (parameters, name, command line, device). A body without a
/// command plans the grid alone (the launch form's preview while the command is still empty):
/// its jobs have parameters and names only.
pub(super) async fn plan_sweep(
    State(s): State<Arc<AppState>>,
    Query(q): Query<PlanQuery>,
    JsonBody(body): JsonBody<SweepBody>,
) -> ApiResult<axum::Json<Value>> {
    check_launch(&s, body.job.on)?;
    let state = s.clone();
    let limit = q.limit.unwrap_or(PLAN_SHOWN).min(MAX_JOBS);
    let out = crate::state::blocking(move || {
        if body.grid_only() {
            let plan = body.grid_plan()?;
            let combos = plan.combos();
            let jobs: Vec<Value> = combos
                .iter()
                .take(limit)
                .map(|p| json!({ "params": params_json(p), "name": grid::describe(p) }))
                .collect();
            return Ok(json!({ "combinations": plan.size(), "count": combos.len(), "jobs": jobs }));
        }
        let (plan, base) = body.plan(&state)?;
        let combos = plan.combos();
        let shown = &combos[..combos.len().min(limit)];
        let jobs: Vec<Value> = sweep_jobs(&base, shown, base.group.as_deref().unwrap_or("sweep-…"))
            .iter()
            .zip(shown)
            .map(|(j, p)| {
                let device = match body.job.on {
                    On::Local => j.device.to_string(),
                    On::Slurm => "slurm".to_string(),
                };
                json!({ "params": params_json(p), "name": j.name, "command": j.command_line(), "device": device })
            })
            .collect();
        Ok(json!({ "combinations": plan.size(), "count": combos.len(), "jobs": jobs }))
    })
    .await?;
    Ok(axum::Json(out))
}

fn params_json(p: &Params) -> Value {
    Value::Object(p.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect())
}

#[derive(Deserialize)]
pub(super) struct AbBody {
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

pub(super) async fn create_ab(State(s): State<Arc<AppState>>, JsonBody(body): JsonBody<AbBody>) -> ApiResult<Response> {
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
    check_launch(&s, body.job.on)?;
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
        let goal = AbGoal { metric: body.metric.clone(), direction, name: body.job.name.clone() };
        // Slurm checks its options before the A/B exists, so a refusal creates nothing.
        let name = format!("ab {}", goal.name.clone().unwrap_or_else(|| plan.default_name()));
        let slurm = body.job.slurm_options(&state, &name)?;
        let (launch, ab_jobs) = match slurm {
            None => {
                let mut st = Store::open(&state.root, state.opts.clone())?;
                AbLaunch::create(&mut st, &plan, &template, &goal).map_err(launch_error)?
            }
            // The store this server serves (a team store too): the tasks' runs go there.
            Some(_) => AbLaunch::create(state.open()?.as_mut(), &plan, &template, &goal).map_err(launch_error)?,
        };
        let id = launch.id().to_string();
        let jobs = ab_jobs.into_iter().enumerate().map(|(i, j)| (j.job, None, Some((id.clone(), i)))).collect();
        let views = queue(&state, slurm, jobs, Some(launch))?;
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
pub(super) struct AbListQuery {
    project: Option<String>,
}

pub(super) async fn list_abs(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Query(q): Query<AbListQuery>,
) -> ApiResult<Response> {
    let mut list = s.read(move |st| Ok(st.list_abs(q.project.as_deref())?)).await?;
    list.retain(|a| crate::access::can_read(&caller, &a.project));
    Ok(axum::Json(list).into_response())
}

pub(super) async fn ab_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Response> {
    let ab = s.read(move |st| Ok(st.ab(&st.resolve_ab(&id)?)?)).await?;
    Ok(axum::Json(ab).into_response())
}

/// `GET /api/v1/ab/{id}/stats`: the A/B as it stands now (running or ended): each run's current
/// value of the metric and whether it counts, and each arm's mean with its 95% interval.
pub(super) async fn ab_stats(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Response> {
    let live = s
        .read(move |st| {
            let ab = st.ab(&st.resolve_ab(&id)?)?;
            ab_live(st, &ab).map_err(compare_error)
        })
        .await?;
    Ok(axum::Json(live).into_response())
}
