//! A/B verdicts: the final metric value of each run of an A/B comparison (finished runs only)
//! and the `trackbench-stats` comparison of arm A with arm B, computed the same way wherever
//! it is needed (`trackbench ab`, `report --ab`, the server's A/B endpoints), and stored on the
//! A/B object when its runs are done; and the live view of an A/B ([`ab_live`]: each run's
//! value now, each arm's mean and interval) that the server gives the UI, so the UI computes
//! no statistics of its own.

use serde::Serialize;
use serde_json::{Value, json};
use trackbench_stats::{Comparison, Direction, StatsError, describe};
use trackbench_store::{AbInfo, Arm, NewAb, RunInfo, RunQuery, RunStatus, Store, StoreError, json_opt_f64};

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
pub fn ab_values(store: &Store, ab: &AbInfo) -> Result<Vec<ArmValue>> {
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
pub fn ab_live(store: &Store, ab: &AbInfo) -> Result<AbLive> {
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
    store: &Store,
    ab: &AbInfo,
) -> Result<(Vec<ArmValue>, std::result::Result<Comparison, StatsError>)> {
    let vals = ab_values(store, ab)?;
    let pick = |arm| vals.iter().filter(|v| v.arm == arm).filter_map(|v| v.value).collect::<Vec<f64>>();
    let c = trackbench_stats::compare(&pick(Arm::A), &pick(Arm::B), ab_direction(ab), AB_CONFIDENCE, AB_BOOTSTRAP_SEED);
    Ok((vals, c))
}

/// Computes and stores the verdict of A/B `id`; it ends `finished`, `failed` (too few values
/// for statistics) or `killed` (interrupted). Returns the A/B as stored.
pub fn finish_ab(store: &mut Store, id: &str, interrupted: bool) -> Result<AbInfo> {
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
    store: &mut Store,
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
