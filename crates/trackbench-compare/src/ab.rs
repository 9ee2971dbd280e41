//! A/B verdicts: the final metric value of each run of an A/B comparison (finished runs only)
//! and the `trackbench-stats` comparison of arm A with arm B, computed the same way wherever
//! it is needed (`trackbench ab`, `report --ab`, the server's A/B endpoints), and stored on the
//! A/B object when its runs are done; and the live view of an A/B ([`ab_live`]: each run's
//! value now, each arm's mean and interval) that the server gives the UI, so the UI computes
//! no statistics of its own.

use serde::Serialize;
use serde_json::{Value, json};
use trackbench_stats::{Comparison, Direction, StatsError, describe};
use trackbench_store::prelude::*;
use trackbench_store::{
    AbInfo, Arm, ModelVersion, NewAb, NewModelVersion, RunInfo, RunQuery, RunStatus, StoreError, json_opt_f64,
};

use crate::group::{MeanCi, mean_ci};
use crate::{CompareError, Result};

/// One run of an A/B with its value of the metric.
#[derive(Debug, Clone)]
pub struct ArmValue {
    pub arm: Arm,
    pub run: RunInfo,
    /// Last value of the metric; `None` when the run did not finish or never logged it.
    pub value: Option<f64>,
}

/// Confidence level and bootstrap seed of every A/B verdict (so all callers agree).
pub const AB_CONFIDENCE: f64 = 0.95;
pub const AB_BOOTSTRAP_SEED: u64 = 0;

/// The runs of `ab` with their final metric values; only finished runs count.
pub fn ab_values(store: &dyn Backend, ab: &AbInfo) -> Result<Vec<ArmValue>> {
    ab.runs
        .iter()
        .map(|r| {
            let run = store.run(&r.run_id)?;
            let value = if run.status == RunStatus::Finished {
                store.metric_summaries(&r.run_id)?.into_iter().find(|s| s.key == ab.metric).map(|s| s.last)
            } else {
                None
            };
            Ok(ArmValue { arm: r.arm, run, value })
        })
        .collect()
}

/// One run of an A/B as it stands now: its last value of the metric whatever its status, and
/// whether that value counts for the verdict (the run finished).
#[derive(Debug, Clone, Serialize)]
pub struct LiveValue {
    pub arm: Arm,
    /// Launch order (A1 B1 A2 B2 …).
    pub seq: i64,
    pub run: String,
    pub name: String,
    pub status: RunStatus,
    #[serde(with = "json_opt_f64")]
    pub value: Option<f64>,
    pub counts: bool,
}

/// One arm's counted values: the mean with its [`AB_CONFIDENCE`] interval (Student's t), the
/// spread, the median and the range.
#[derive(Debug, Clone, Serialize)]
pub struct ArmStats {
    #[serde(flatten)]
    pub mean: MeanCi,
    /// Standard error of the mean; `None` for fewer than two values.
    #[serde(with = "json_opt_f64")]
    pub sem: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub median: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub min: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub max: Option<f64>,
}

/// An A/B as it stands now, finished or not: each run's value and each arm's statistics.
#[derive(Debug, Clone, Serialize)]
pub struct AbLive {
    pub runs: Vec<LiveValue>,
    pub a: ArmStats,
    pub b: ArmStats,
}

/// The statistics of one arm's values (NaN and infinities say so in the note).
pub fn arm_stats(values: &[f64]) -> ArmStats {
    let mean = mean_ci(values, AB_CONFIDENCE);
    let s = (mean.mean.is_some()).then(|| describe(values).ok()).flatten();
    let s = s.as_ref();
    ArmStats {
        mean,
        sem: s.and_then(|s| s.sem),
        median: s.map(|s| s.median),
        min: s.map(|s| s.min),
        max: s.map(|s| s.max),
    }
}

/// Each run of `ab` with its current value (running runs included, for a live view) and each
/// arm's statistics over the values that count: those of finished runs, as in the verdict.
pub fn ab_live(store: &dyn Backend, ab: &AbInfo) -> Result<AbLive> {
    let mut links = ab.runs.clone();
    links.sort_by_key(|r| r.seq);
    let runs = links
        .iter()
        .map(|r| {
            let run = store.run(&r.run_id)?;
            let value = store.metric_summaries(&r.run_id)?.into_iter().find(|s| s.key == ab.metric).map(|s| s.last);
            let counts = run.status == RunStatus::Finished && value.is_some();
            Ok(LiveValue { arm: r.arm, seq: r.seq, run: run.id, name: run.name, status: run.status, value, counts })
        })
        .collect::<Result<Vec<_>>>()?;
    let counted = |arm| runs.iter().filter(|v| v.arm == arm && v.counts).filter_map(|v| v.value).collect::<Vec<f64>>();
    Ok(AbLive { a: arm_stats(&counted(Arm::A)), b: arm_stats(&counted(Arm::B)), runs })
}

/// `maximize` unless the A/B says `minimize`.
pub fn ab_direction(ab: &AbInfo) -> Direction {
    if ab.direction == "minimize" { Direction::Minimize } else { Direction::Maximize }
}

/// The statistics on A/B `ab`'s runs as they are in the store now (the inner error says why
/// there is no verdict: too few values, no spread…).
pub fn ab_comparison(
    store: &dyn Backend,
    ab: &AbInfo,
) -> Result<(Vec<ArmValue>, std::result::Result<Comparison, StatsError>)> {
    let vals = ab_values(store, ab)?;
    let pick = |arm| vals.iter().filter(|v| v.arm == arm).filter_map(|v| v.value).collect::<Vec<f64>>();
    let c = trackbench_stats::compare(&pick(Arm::A), &pick(Arm::B), ab_direction(ab), AB_CONFIDENCE, AB_BOOTSTRAP_SEED);
    Ok((vals, c))
}

/// Computes and stores the verdict of A/B `id`; it ends `finished`, `failed` (too few values
/// for statistics) or `killed` (interrupted). Returns the A/B as stored.
pub fn finish_ab(store: &mut dyn Backend, id: &str, interrupted: bool) -> Result<AbInfo> {
    let ab = store.ab(id)?;
    let (vals, comparison) = ab_comparison(store, &ab)?;
    let runs: Vec<Value> = vals
        .iter()
        .map(|v| {
            json!({"arm": v.arm, "run": v.run.id, "name": v.run.name, "status": v.run.status,
                   "value": v.value, "error": v.run.error})
        })
        .collect();
    let failed = vals.iter().filter(|v| v.value.is_none()).count();
    match comparison {
        Ok(c) => {
            let result = json!({"comparison": c, "runs": runs, "failed_runs": failed});
            let status = if interrupted { RunStatus::Killed } else { RunStatus::Finished };
            store.finish_ab(id, status, Some(&result), interrupted.then_some("interrupted"))?;
        }
        Err(e) => {
            let why = format!("no verdict: {e}");
            let result = json!({"runs": runs, "failed_runs": failed});
            let status = if interrupted { RunStatus::Killed } else { RunStatus::Failed };
            store.finish_ab(id, status, Some(&result), Some(&why))?;
        }
    }
    Ok(store.ab(id)?)
}

/// Makes an A/B of two existing run groups (oldest run first in each; `project` narrows the
/// search and names the A/B's project, else the first run's), computes its verdict and
/// returns it. A group without runs is `RunNotFound`.
pub fn ab_from_groups(
    store: &mut dyn Backend,
    project: Option<&str>,
    name: Option<&str>,
    metric: &str,
    direction: Direction,
    group_a: &str,
    group_b: &str,
) -> Result<AbInfo> {
    let group_runs = |g: &str| -> Result<Vec<RunInfo>> {
        let q = RunQuery {
            project: project.map(str::to_string),
            filter: Some(format!("attributes.group = '{}'", g.replace('\'', "''"))),
            ..RunQuery::default()
        };
        let mut runs = store.list_runs(&q)?;
        runs.reverse(); // oldest first
        if runs.is_empty() {
            return Err(CompareError::Store(StoreError::RunNotFound(format!("no run in group `{g}`"))));
        }
        Ok(runs)
    };
    let (ra, rb) = (group_runs(group_a)?, group_runs(group_b)?);
    let id = store.create_ab(&NewAb {
        project: project.map(str::to_string).unwrap_or_else(|| ra[0].project.clone()),
        name: name.map(str::to_string).unwrap_or_else(|| format!("{group_a} vs {group_b}")),
        metric: metric.into(),
        direction: match direction {
            Direction::Minimize => "minimize".into(),
            Direction::Maximize => "maximize".into(),
        },
        spec: json!({"source": "groups", "a": {"group": group_a}, "b": {"group": group_b}}),
    })?;
    let mut seq = 0;
    for (arm, runs) in [(Arm::A, &ra), (Arm::B, &rb)] {
        for r in runs {
            seq += 1;
            store.add_ab_run(&id, arm, &r.id, seq)?;
        }
    }
    finish_ab(store, &id, false)
}

/// What promoting an A/B's winner registered.
#[derive(Debug, Clone, Serialize)]
pub struct Promotion {
    pub version: ModelVersion,
    /// B's best run, the version's source.
    pub run: String,
    /// Its value of the A/B's metric.
    #[serde(with = "trackbench_store::json_f64")]
    pub value: f64,
    /// True when the verdict did not say B is better and `force` promoted it anyway.
    pub forced: bool,
}

/// Registers arm B's best run of A/B `id` (its newest logged model when it has one, else its
/// artifacts) as a new version of registered model `name` (created when missing), points
/// `alias` at it, and records the A/B id, outcome, verdict, effect size and interval as the
/// version's tags. Refused unless the stored verdict says B is better; `force` promotes anyway
/// (and says so in a tag).
pub fn promote_ab(
    store: &mut dyn Backend,
    id: &str,
    name: &str,
    alias: Option<&str>,
    force: bool,
) -> Result<Promotion> {
    // Everything that can be refused is checked before anything is written.
    if let Some(a) = alias {
        trackbench_store::check_alias(a)?;
    }
    let ab = store.ab(id)?;
    let comparison = ab.result.as_ref().map(|r| &r["comparison"]).filter(|c| c.is_object());
    let outcome = comparison.and_then(|c| c["outcome"].as_str()).unwrap_or("");
    let verdict = comparison.and_then(|c| c["verdict"].as_str()).unwrap_or("");
    let b_better = outcome == "b_better";
    if !b_better && !force {
        let why = match comparison {
            Some(_) => format!("the verdict is not that B is better ({}): {verdict}", outcome.replace('_', " ")),
            None => format!("A/B {} has no verdict ({})", ab.id, ab.error.as_deref().unwrap_or(ab.status.as_str())),
        };
        return Err(CompareError::Invalid { what: "promotion", why: format!("{why}; --force promotes anyway") });
    }
    let direction = ab_direction(&ab);
    let best = ab_values(store, &ab)?
        .into_iter()
        .filter(|v| v.arm == Arm::B)
        .filter_map(|v| v.value.filter(|x| !x.is_nan()).map(|x| (v.run.id, x)))
        .max_by(|(_, x), (_, y)| match direction {
            Direction::Maximize => x.total_cmp(y),
            Direction::Minimize => y.total_cmp(x),
        });
    let Some((run, value)) = best else {
        return Err(CompareError::Invalid { what: "promotion", why: "arm B has no finished run with a value".into() });
    };
    let model = store.logged_models_of_run(&run)?.into_iter().next();
    let source = match &model {
        Some(m) => format!("models:/{}", m.id),
        None => format!("runs:/{run}"),
    };
    match store.registered_model(name) {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            store.create_registered_model(name, None, &[])?;
        }
        Err(e) => return Err(e.into()),
    }
    let num = |v: &Value| match v.as_f64() {
        Some(x) => trackbench_report::format_num(x),
        None => v.as_str().unwrap_or("").to_string(),
    };
    let mut tags: Vec<(String, String)> = vec![
        ("ab.id".into(), ab.id.clone()),
        ("ab.name".into(), ab.name.clone()),
        ("ab.metric".into(), ab.metric.clone()),
        ("ab.direction".into(), ab.direction.clone()),
        ("ab.outcome".into(), outcome.to_string()),
        ("ab.verdict".into(), verdict.to_string()),
        ("ab.value".into(), trackbench_report::format_num(value)),
    ];
    if let Some(c) = comparison {
        tags.push(("ab.hedges_g".into(), num(&c["hedges_g"])));
        tags.push(("ab.diff".into(), num(&c["welch"]["diff"])));
        tags.push(("ab.ci_low".into(), num(&c["welch"]["ci_low"])));
        tags.push(("ab.ci_high".into(), num(&c["welch"]["ci_high"])));
        tags.push(("ab.p_value".into(), num(&c["welch"]["p_two_sided"])));
    }
    if !b_better {
        tags.push(("ab.forced".into(), "true".into()));
    }
    tags.retain(|(_, v)| !v.is_empty());
    let new = NewModelVersion {
        name: name.to_string(),
        source,
        run: Some(run.clone()),
        logged_model: model.map(|m| m.id),
        description: Some(format!("Arm B's best run of A/B {} ({}): {verdict}", ab.id, ab.name)),
        tags,
    };
    let mut version = store.create_model_version(&new)?;
    if let Some(alias) = alias {
        store.set_model_alias(name, alias, version.version)?;
        version = store.model_version(name, version.version)?;
    }
    Ok(Promotion { version, run, value, forced: !b_better })
}
