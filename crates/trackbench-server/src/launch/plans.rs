//! Sweeps and A/B comparisons: many jobs from one plan (a grid, or arms × seeds interleaved),
//! an A/B from two existing run groups, and the A/B list and detail.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_compare::{Direction, ab_from_groups};
use trackbench_launch::grid;
use trackbench_launch::plan::{AbPlan, MAX_JOBS, sweep_jobs};
use trackbench_store::{NewAb, Store};

use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::jobs::{JobSpec, params_of, scalar, template};
use super::{check_enabled, launch_error};

#[derive(Deserialize)]
pub(super) struct SweepBody {
    #[serde(flatten)]
    job: JobSpec,
    grid: BTreeMap<String, Vec<Value>>,
    random: Option<usize>,
    seed: Option<u64>,
}

pub(super) async fn create_sweep(
    State(s): State<Arc<AppState>>,
    JsonBody(body): JsonBody<SweepBody>,
) -> ApiResult<Response> {
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
pub(super) struct AbListQuery {
    project: Option<String>,
}

pub(super) async fn list_abs(State(s): State<Arc<AppState>>, Query(q): Query<AbListQuery>) -> ApiResult<Response> {
    let list = s.read(move |st| Ok(st.list_abs(q.project.as_deref())?)).await?;
    Ok(axum::Json(list).into_response())
}

pub(super) async fn ab_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<Response> {
    let ab = s.read(move |st| Ok(st.ab(&st.resolve_ab(&id)?)?)).await?;
    Ok(axum::Json(ab).into_response())
}
