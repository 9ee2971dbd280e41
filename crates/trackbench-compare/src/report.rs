//! Everything `trackbench compare` shows, in one value: the runs, their param diff, a summary
//! table per metric and, when asked, grouped aggregates per metric. The CLI prints it as
//! tables or as JSON; a server can return it as is.

use serde::Serialize;
use trackbench_stats::Direction;
use trackbench_store::prelude::*;
use trackbench_store::{MetricSummary, RunInfo};

use crate::error::{CompareError, Result};
use crate::group::{GroupAggregate, GroupBy, grouped};
use crate::params::{ParamDiff, param_diff};
use crate::select::RunRef;
use crate::summary::{SummaryRow, common_metric_keys, guess_direction, summary_row};

/// Per-step points of grouped series when not said otherwise.
pub const DEFAULT_GROUP_POINTS: usize = 200;

/// What to put in a [`Report`].
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Metrics to summarise; `None`: every metric all the runs logged, system metrics left out.
    pub metrics: Option<Vec<String>>,
    /// Which way is better, for every metric; `None`: guessed per metric by
    /// [`guess_direction`].
    pub direction: Option<Direction>,
    /// Also aggregate the metrics over groups of runs.
    pub group_by: Option<GroupBy>,
    /// Most points of each group's per-step series.
    pub group_points: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { metrics: None, direction: None, group_by: None, group_points: DEFAULT_GROUP_POINTS }
    }
}

/// A comparison of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub runs: Vec<RunRef>,
    pub params: ParamDiff,
    pub metrics: Vec<MetricTable>,
    /// Empty unless grouping was asked for; then one entry per metric.
    pub grouped: Vec<GroupedMetric>,
}

/// The summary table of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTable {
    pub metric: String,
    pub direction: Direction,
    /// Whether `direction` was guessed from the metric's name.
    pub direction_guessed: bool,
    /// One row per run, in the order of [`Report::runs`].
    pub rows: Vec<SummaryRow>,
}

/// One metric aggregated over groups of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupedMetric {
    pub metric: String,
    pub direction: Direction,
    pub group_by: GroupBy,
    pub groups: Vec<GroupAggregate>,
}

/// Builds the comparison of `runs`. A metric named in `opts.metrics` that no run logged is
/// [`CompareError::MetricNotFound`].
pub fn report(store: &mut dyn Backend, runs: &[RunInfo], opts: &ReportOptions) -> Result<Report> {
    let params = param_diff(store, runs)?;
    let summaries: Vec<Vec<MetricSummary>> =
        runs.iter().map(|r| store.metric_summaries(&r.id)).collect::<Result<_, _>>()?;
    let keys = match &opts.metrics {
        Some(keys) => {
            for k in keys {
                if !summaries.iter().any(|run| run.iter().any(|s| &s.key == k)) {
                    return Err(CompareError::MetricNotFound(k.clone()));
                }
            }
            keys.clone()
        }
        None => common_metric_keys(&summaries),
    };
    let direction_of = |k: &str| opts.direction.unwrap_or_else(|| guess_direction(k));
    let metrics = keys
        .iter()
        .map(|k| MetricTable {
            metric: k.clone(),
            direction: direction_of(k),
            direction_guessed: opts.direction.is_none(),
            rows: runs
                .iter()
                .zip(&summaries)
                .map(|(r, s)| summary_row(r, s.iter().find(|s| &s.key == k), direction_of(k)))
                .collect(),
        })
        .collect();
    let mut grouped_metrics = Vec::new();
    if let Some(by) = &opts.group_by {
        for k in &keys {
            grouped_metrics.push(GroupedMetric {
                metric: k.clone(),
                direction: direction_of(k),
                group_by: by.clone(),
                groups: grouped(store, runs, by, k, direction_of(k), opts.group_points)?,
            });
        }
    }
    Ok(Report { runs: runs.iter().map(RunRef::from).collect(), params, metrics, grouped: grouped_metrics })
}
