//! The per-run summary table of one metric: last value (and its step), min, max, best by
//! direction and point count, straight from the summaries the store keeps on ingest (no
//! series is read).

use serde::Serialize;
use trackbench_stats::Direction;
use trackbench_store::prelude::*;
use trackbench_store::{MetricSummary, RunInfo, json_opt_f64};

use crate::error::Result;

/// Metric keys under this prefix are system metrics (GPU, memory…): left out when the metrics
/// to compare are not named.
pub const SYSTEM_PREFIX: &str = "sys/";

/// One run's row of the summary table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    pub run: String,
    pub name: String,
    /// Value at the greatest step (may be NaN); `None` when the run never logged the metric.
    #[serde(with = "json_opt_f64")]
    pub last: Option<f64>,
    pub last_step: Option<i64>,
    /// Over non-NaN values; `None` when there are none.
    #[serde(with = "json_opt_f64")]
    pub min: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub max: Option<f64>,
    /// `max` when maximizing, `min` when minimizing.
    #[serde(with = "json_opt_f64")]
    pub best: Option<f64>,
    /// Points logged, NaN included.
    pub count: u64,
    pub nan_count: u64,
}

/// The summary table of `metric` over `runs`, one row per run in their order.
pub fn summary_table(
    store: &dyn Backend,
    runs: &[RunInfo],
    metric: &str,
    direction: Direction,
) -> Result<Vec<SummaryRow>> {
    runs.iter()
        .map(|r| {
            let s = store.metric_summaries(&r.id)?.into_iter().find(|s| s.key == metric);
            Ok(summary_row(r, s.as_ref(), direction))
        })
        .collect()
}

/// One row from a run's summary of the metric (`None`: the run lacks it).
pub fn summary_row(run: &RunInfo, s: Option<&MetricSummary>, direction: Direction) -> SummaryRow {
    let (min, max) = (s.and_then(|s| s.min), s.and_then(|s| s.max));
    SummaryRow {
        run: run.id.clone(),
        name: run.name.clone(),
        last: s.map(|s| s.last),
        last_step: s.map(|s| s.last_step),
        min,
        max,
        best: match direction {
            Direction::Maximize => max,
            Direction::Minimize => min,
        },
        count: s.map_or(0, |s| s.count.max(0) as u64),
        nan_count: s.map_or(0, |s| s.nan_count.max(0) as u64),
    }
}

/// Metric keys every run has logged, sorted, system metrics (`sys/…`) left out.
pub fn common_metric_keys(summaries: &[Vec<MetricSummary>]) -> Vec<String> {
    let Some((first, rest)) = summaries.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|s| &s.key)
        .filter(|k| !k.starts_with(SYSTEM_PREFIX))
        .filter(|k| rest.iter().all(|run| run.binary_search_by(|s| s.key.as_str().cmp(k)).is_ok()))
        .cloned()
        .collect()
}

/// A guess at which way is better for a metric named `key`, for when nobody said: lower for
/// names that read as a loss, an error or a cost (`loss`, `err`, `perplexity`, `mse`,
/// `latency`, `time`…), higher otherwise. Matched on the last path segment, case-insensitive.
pub fn guess_direction(key: &str) -> Direction {
    const LOWER: [&str; 14] = [
        "loss",
        "err",
        "perplexity",
        "ppl",
        "mse",
        "mae",
        "rmse",
        "nll",
        "wer",
        "cer",
        "latency",
        "time",
        "regret",
        "cost",
    ];
    let last = key.rsplit(['/', '.']).next().unwrap_or(key).to_ascii_lowercase();
    if LOWER.iter().any(|w| last.contains(w)) { Direction::Minimize } else { Direction::Maximize }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_are_guessed_from_the_name() {
        for k in ["loss", "val/loss", "train.error_rate", "eval/ppl", "step_time", "MSE"] {
            assert_eq!(guess_direction(k), Direction::Minimize, "{k}");
        }
        for k in ["acc", "val/accuracy", "reward", "f1", "loss/acc"] {
            assert_eq!(guess_direction(k), Direction::Maximize, "{k}");
        }
    }
}
