//! Comparing runs: what differs between them and how their metrics compare.
//!
//! Given runs — named, matched by a filter, or one `group` ([`Selection`]) — this crate
//! computes, through the store's public API only (no SQL here):
//!
//! - [`param_diff`] -> [`ParamDiff`]: which param keys differ, which are equal, which some runs
//!   lack; values compare by JSON type, numbers by value (`1 == 1.0`), and a string/number
//!   pair holding the same number is marked [`ParamRow::numeric_equal`].
//! - [`summary_table`] -> [`SummaryRow`]s: per run last/min/max/best-by-direction of a metric,
//!   from the summaries the store keeps on ingest.
//! - [`aligned`] -> [`AlignedSeries`]: each run's series on one x axis ([`AxisKind`]: step,
//!   time since start, wall time), reduced to N min/max/last buckets for charts; smoothing by
//!   [`smooth_ema`] (TensorBoard's debiased EMA) and [`smooth_gaussian`], both NaN-aware.
//! - [`minmax_by_x`] -> [`XBucket`]s: a series reduced to equal-width min/max/last buckets
//!   over an integer x; the one definition, used by [`aligned`] and the server's series API.
//! - [`grouped`] -> [`GroupAggregate`]s: runs grouped by a param or by `group` (the seeds of a
//!   variant): per step mean/std/min/max across the group's runs, and per metric n, mean ±
//!   std and a 95% Student t interval of the runs' final and best values ([`MeanCi`]).
//! - [`report`] -> [`Report`]: all of the above as `trackbench compare` shows it.
//! - [`document`] -> `trackbench-report`'s `ReportInput`: a report document of runs or of an
//!   A/B, the same for the CLI and the server.
//! - [`finish_ab`]: an A/B's verdict from its runs' final values ([`ab_comparison`]), stored.
//!
//! Every result is `Serialize`, ordered deterministically (runs in selection order, keys
//! sorted, groups by value), and NaN-safe: NaN never makes a statistic silently NaN (it is
//! excluded and noted), and floats that can be NaN serialize as `"NaN"` like the store's.
//! Statistics come from `trackbench-stats`; `Direction` is its type.

mod ab;
mod align;
mod bucket;
mod document;
mod error;
mod group;
mod json;
mod params;
mod report;
mod select;
mod smooth;
mod summary;

#[cfg(test)]
mod tests;

pub use ab::{
    AB_BOOTSTRAP_SEED, AB_CONFIDENCE, AbLive, ArmStats, ArmValue, LiveValue, Promotion, ab_comparison, ab_direction,
    ab_from_groups, ab_live, ab_values, arm_stats, finish_ab, promote_ab,
};
pub use align::{AlignedSeries, AxisKind, MAX_POINTS, aligned};
pub use bucket::{XBucket, minmax_by_x};
pub use document::{DocumentOptions, ab_selection, document, json_cell};
pub use error::{CompareError, Result};
pub use group::{CONFIDENCE, GroupAggregate, GroupBy, GroupSeries, MeanCi, grouped, mean_ci};
pub use params::{ParamDiff, ParamRow, diff_params, json_eq, param_diff};
pub use report::{DEFAULT_GROUP_POINTS, GroupedMetric, MetricTable, Report, ReportOptions, report};
pub use select::{RunRef, Selection};
pub use smooth::{MAX_EMA_WEIGHT, smooth_ema, smooth_gaussian};
pub use summary::{SYSTEM_PREFIX, SummaryRow, common_metric_keys, guess_direction, summary_row, summary_table};
/// The table number format, shared with the reports (defined once, in `trackbench-report`).
pub use trackbench_report::format_num;
pub use trackbench_stats::Direction;
