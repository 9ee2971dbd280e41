//! Grouped aggregates: runs grouped by a param value or by their `group` (typically the seeds
//! of one variant), and per group the spread of a metric across its runs.
//!
//! Per group: the member runs; per step the mean, sample std, min and max across the runs
//! that have a finite value at that step (a run missing the step, or NaN there, does not
//! contribute); and one row for the metric: n, mean ± std of each run's final (last) value
//! and of its best value (max or min by direction), each with a 95% Student t interval.

use std::cmp::Ordering;

use serde::{Serialize, Serializer};
use serde_json::Value;
use trackbench_stats::{Direction, describe, welch};
use trackbench_store::prelude::*;
use trackbench_store::{MetricSummary, RunInfo, StepRange, json_opt_f64};

use crate::align::MAX_POINTS;
use crate::error::{CompareError, Result};
use crate::json::{vec_f64, vec_opt_f64};
use crate::params::json_eq;

/// The confidence level of the intervals in [`GroupAggregate`].
pub const CONFIDENCE: f64 = 0.95;

/// What puts runs in the same group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// Equal values of one param (by [`json_eq`]: `1` and `1.0` are one group, `"1"` another).
    Param(String),
    /// The run's `group` attribute.
    Group,
}

impl GroupBy {
    /// `params.KEY` (also `param.KEY`) or `group` (also `attributes.group`).
    pub fn parse(s: &str) -> Result<GroupBy> {
        let t = s.trim();
        if matches!(t, "group" | "attributes.group" | "attribute.group" | "attr.group" | "run.group") {
            return Ok(GroupBy::Group);
        }
        for prefix in ["params.", "param.", "parameters.", "parameter."] {
            if let Some(key) = t.strip_prefix(prefix).filter(|k| !k.is_empty()) {
                return Ok(GroupBy::Param(key.to_string()));
            }
        }
        Err(CompareError::Invalid { what: "group-by", why: format!("`{s}`: expected `params.KEY` or `group`") })
    }

    /// `params.KEY` or `group`.
    pub fn label(&self) -> String {
        match self {
            GroupBy::Param(k) => format!("params.{k}"),
            GroupBy::Group => "group".to_string(),
        }
    }
}

impl Serialize for GroupBy {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

/// Mean, spread and confidence interval of one value per run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeanCi {
    /// Values used (NaN excluded).
    pub n: usize,
    #[serde(with = "json_opt_f64")]
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1); `None` for n < 2.
    #[serde(with = "json_opt_f64")]
    pub std: Option<f64>,
    pub confidence: f64,
    /// Student t interval for the mean; `None` for n < 2.
    #[serde(with = "json_opt_f64")]
    pub ci_low: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub ci_high: Option<f64>,
    /// Why a value is missing, or what was excluded.
    pub note: Option<String>,
}

/// Mean ± std of `values` (NaN excluded) and the Student t interval `mean ± t(n-1) * std/√n`.
///
/// The interval comes from `trackbench-stats`' Welch test of the values against a constant
/// group of zeros: with one group's variance 0 the Welch–Satterthwaite degrees of freedom are
/// exactly n - 1 and the standard error is std/√n, so its interval for the difference is the
/// one-sample interval for the mean (checked against scipy in the tests below).
pub fn mean_ci(values: &[f64], confidence: f64) -> MeanCi {
    let mut out = MeanCi { n: 0, mean: None, std: None, confidence, ci_low: None, ci_high: None, note: None };
    if values.iter().any(|v| v.is_infinite()) {
        out.n = values.iter().filter(|v| v.is_finite()).count();
        out.note = Some("a value is infinite: no mean or interval".to_string());
        return out;
    }
    let Ok(s) = describe(values) else {
        out.note = Some("no run has a finite value".to_string());
        return out;
    };
    let mut notes: Vec<String> = s.note.into_iter().collect();
    (out.n, out.mean, out.std) = (s.n, Some(s.mean), s.std);
    if s.n < 2 {
        notes.push("one run: no spread or interval".to_string());
    } else {
        match welch(&[0.0, 0.0], values, confidence) {
            Ok(w) => {
                if w.note.is_some() {
                    notes.push("all values are equal: the interval is that value".to_string());
                }
                (out.ci_low, out.ci_high) = (Some(w.ci_low), Some(w.ci_high));
            }
            Err(e) => notes.push(e.to_string()),
        }
    }
    out.note = (!notes.is_empty()).then(|| notes.join("; "));
    out
}

/// Per-step aggregate of a group's runs; one entry per step where at least one run has a
/// finite value. With more distinct steps than the requested points, steps are gathered into
/// equal-width buckets shared by all groups, each run contributing its last value in the
/// bucket and `steps` holding the greatest step contributing.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GroupSeries {
    pub steps: Vec<i64>,
    /// Runs contributing at each step.
    pub n: Vec<u32>,
    #[serde(serialize_with = "vec_f64")]
    pub mean: Vec<f64>,
    /// Sample std across the runs (ddof = 1); `None` where one run contributes.
    #[serde(serialize_with = "vec_opt_f64")]
    pub std: Vec<Option<f64>>,
    #[serde(serialize_with = "vec_f64")]
    pub min: Vec<f64>,
    #[serde(serialize_with = "vec_f64")]
    pub max: Vec<f64>,
}

/// One group of runs and its aggregates of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAggregate {
    /// The group's value for display: a string bare, other JSON as text, `(none)` for runs
    /// without the param or group.
    pub label: String,
    pub value: Option<Value>,
    /// Member run ids, in the order of the input runs.
    pub runs: Vec<String>,
    /// Members that never logged the metric (counted in `runs`, not in the statistics).
    pub without_metric: Vec<String>,
    /// Over each run's last value.
    #[serde(rename = "final")]
    pub final_value: MeanCi,
    /// Over each run's best value (max or min by direction).
    pub best: MeanCi,
    pub series: GroupSeries,
}

/// Groups `runs` by `group_by` and aggregates `metric` in each group. Groups are ordered by
/// value: numbers ascending, then strings, booleans, other JSON, and `(none)` last. The
/// per-step series has at most `max_points` entries (clamped to `1..=MAX_POINTS`).
pub fn grouped(
    store: &mut dyn Backend,
    runs: &[RunInfo],
    group_by: &GroupBy,
    metric: &str,
    direction: Direction,
    max_points: usize,
) -> Result<Vec<GroupAggregate>> {
    let mut values = Vec::with_capacity(runs.len());
    let mut summaries = Vec::with_capacity(runs.len());
    for r in runs {
        values.push(match group_by {
            GroupBy::Param(key) => store.params(&r.id)?.into_iter().find(|(k, _)| k == key).map(|(_, v)| v),
            GroupBy::Group => r.group.clone().map(Value::String),
        });
        summaries.push(store.metric_summaries(&r.id)?.into_iter().find(|s| s.key == metric));
    }
    let steps = step_buckets(store, runs, &summaries, metric, max_points)?;
    Ok(assign(&values)
        .into_iter()
        .map(|(value, members)| {
            let of = |pick: &dyn Fn(&MetricSummary) -> f64| -> Vec<f64> {
                members.iter().filter_map(|&i| summaries[i].as_ref().map(pick)).collect()
            };
            let best = |s: &MetricSummary| {
                match direction {
                    Direction::Maximize => s.max,
                    Direction::Minimize => s.min,
                }
                .unwrap_or(f64::NAN)
            };
            GroupAggregate {
                label: label(value.as_ref()),
                runs: members.iter().map(|&i| runs[i].id.clone()).collect(),
                without_metric: members
                    .iter()
                    .filter(|&&i| summaries[i].is_none())
                    .map(|&i| runs[i].id.clone())
                    .collect(),
                final_value: mean_ci(&of(&|s| s.last), CONFIDENCE),
                best: mean_ci(&of(&best), CONFIDENCE),
                series: aggregate_steps(members.iter().map(|&i| steps[i].as_slice())),
                value,
            }
        })
        .collect())
}

/// One run's series as (bucket index, last step, last value) on the grid shared by all runs.
type Buckets = Vec<(usize, i64, f64)>;

/// Each run's series on one step grid over the extent of all of them.
fn step_buckets(
    store: &mut dyn Backend,
    runs: &[RunInfo],
    summaries: &[Option<MetricSummary>],
    metric: &str,
    max_points: usize,
) -> Result<Vec<Buckets>> {
    let buckets = max_points.clamp(1, MAX_POINTS);
    let mut extent: Option<(i64, i64)> = None;
    for (r, s) in runs.iter().zip(summaries) {
        if s.is_some() {
            for b in store.downsample(&r.id, metric, StepRange::ALL, 1)? {
                extent = Some(
                    extent.map_or((b.first_step, b.last_step), |(lo, hi)| (lo.min(b.first_step), hi.max(b.last_step))),
                );
            }
        }
    }
    let Some((lo, hi)) = extent else {
        return Ok(vec![Vec::new(); runs.len()]);
    };
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let index = |step: i64| ((step as i128 - lo as i128) as u128 * buckets as u128 / span) as usize;
    let range = StepRange { min: Some(lo), max: Some(hi) };
    runs.iter()
        .zip(summaries)
        .map(|(r, s)| {
            if s.is_none() {
                return Ok(Vec::new());
            }
            Ok(store
                .downsample(&r.id, metric, range, buckets)?
                .into_iter()
                .map(|b| (index(b.last_step), b.last_step, b.last))
                .collect())
        })
        .collect()
}

/// Mean/std/min/max across runs per bucket, finite values only.
fn aggregate_steps<'a>(runs: impl Iterator<Item = &'a [(usize, i64, f64)]>) -> GroupSeries {
    let mut all: Vec<(usize, i64, f64)> =
        runs.flat_map(|r| r.iter().copied()).filter(|(_, _, v)| v.is_finite()).collect();
    all.sort_by_key(|&(b, _, _)| b);
    let mut out = GroupSeries::default();
    for same in all.chunk_by(|a, b| a.0 == b.0) {
        let n = same.len();
        let mean = same.iter().map(|p| p.2).sum::<f64>() / n as f64;
        let std =
            (n >= 2).then(|| (same.iter().map(|p| (p.2 - mean) * (p.2 - mean)).sum::<f64>() / (n - 1) as f64).sqrt());
        out.steps.push(same.iter().map(|p| p.1).max().unwrap_or_default());
        out.n.push(n as u32);
        out.mean.push(mean);
        out.std.push(std);
        out.min.push(same.iter().map(|p| p.2).fold(f64::INFINITY, f64::min));
        out.max.push(same.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max));
    }
    out
}

/// Indices of runs with equal values, groups sorted by value.
fn assign(values: &[Option<Value>]) -> Vec<(Option<Value>, Vec<usize>)> {
    let mut groups: Vec<(Option<Value>, Vec<usize>)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let found = groups.iter_mut().find(|(g, _)| match (g, v) {
            (Some(a), Some(b)) => json_eq(a, b),
            (None, None) => true,
            _ => false,
        });
        match found {
            Some(g) => g.1.push(i),
            None => groups.push((v.clone(), vec![i])),
        }
    }
    groups.sort_by(|a, b| value_order(a.0.as_ref(), b.0.as_ref()));
    groups
}

/// Numbers (ascending), strings, booleans, other JSON (by text), then no value.
fn value_order(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    fn rank(v: Option<&Value>) -> u8 {
        match v {
            Some(Value::Number(_)) => 0,
            Some(Value::String(_)) => 1,
            Some(Value::Bool(_)) => 2,
            Some(_) => 3,
            None => 4,
        }
    }
    rank(a).cmp(&rank(b)).then_with(|| match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x.as_f64().unwrap_or(f64::NAN).total_cmp(&y.as_f64().unwrap_or(f64::NAN))
        }
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
        _ => Ordering::Equal,
    })
}

fn label(v: Option<&Value>) -> String {
    match v {
        None => "(none)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
