//! Metric series of several runs on one x axis (step, time since the run started, or wall
//! time), reduced to at most `max_points` buckets per run for charts.
//!
//! Every bucket keeps its point count, min and max (NaN ignored) and the value of its last
//! point, so a chart can draw the line through the last values and a band from min to max
//! without hiding an extreme. On the step axis the store does the reduction
//! ([`Store::downsample`], folding chunk summaries without decoding them); on the time axes
//! the series is read and reduced by [`minmax_by_x`] (in [`crate::bucket`], shared with the
//! server) to equal-width wall-time buckets, x being the bucket's latest time minus the origin.

use serde::Serialize;
use trackbench_store::prelude::*;
use trackbench_store::{RunInfo, StepRange};

use crate::bucket::minmax_by_x;
use crate::error::Result;
use crate::json::{vec_f64, vec_opt_f64};

/// The most buckets one series is reduced to; larger requests are clamped to it.
pub const MAX_POINTS: usize = 100_000;

/// What the x axis measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisKind {
    /// The logged step.
    Step,
    /// Milliseconds since the run started (`RunInfo::started_ms`).
    RelativeTime,
    /// Epoch milliseconds of the point's wall clock.
    WallTime,
}

impl AxisKind {
    /// `step`, `relative` (or `relative_time`), `wall` (or `wall_time`).
    pub fn parse(s: &str) -> Option<AxisKind> {
        Some(match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "step" => AxisKind::Step,
            "relative" | "relative_time" => AxisKind::RelativeTime,
            "wall" | "wall_time" => AxisKind::WallTime,
            _ => return None,
        })
    }
}

/// One run's series of one metric on the chosen axis, as buckets in increasing x. Every
/// column has one entry per bucket. A run that never logged the metric has empty columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignedSeries {
    pub run: String,
    pub metric: String,
    pub axis: AxisKind,
    /// Points in the series (the sum of `count`).
    pub points: u64,
    /// x of each bucket's last point (its greatest step, or its latest time).
    pub x: Vec<i64>,
    /// Value of each bucket's last point (may be NaN).
    #[serde(serialize_with = "vec_f64")]
    pub y: Vec<f64>,
    /// Over the bucket's non-NaN values; `None` when all were NaN.
    #[serde(serialize_with = "vec_opt_f64")]
    pub min: Vec<Option<f64>>,
    #[serde(serialize_with = "vec_opt_f64")]
    pub max: Vec<Option<f64>>,
    pub count: Vec<u64>,
}

impl AlignedSeries {
    fn new(run: &RunInfo, metric: &str, axis: AxisKind) -> AlignedSeries {
        AlignedSeries {
            run: run.id.clone(),
            metric: metric.to_string(),
            axis,
            points: 0,
            x: Vec::new(),
            y: Vec::new(),
            min: Vec::new(),
            max: Vec::new(),
            count: Vec::new(),
        }
    }

    fn push(&mut self, x: i64, y: f64, min: Option<f64>, max: Option<f64>, count: u64) {
        self.x.push(x);
        self.y.push(y);
        self.min.push(min);
        self.max.push(max);
        self.count.push(count);
        self.points += count;
    }
}

/// Series `metric` of each run (in the order of `runs`) on `axis`, at most `max_points`
/// buckets each (clamped to `1..=MAX_POINTS`).
pub fn aligned(
    store: &mut dyn Backend,
    runs: &[RunInfo],
    metric: &str,
    axis: AxisKind,
    max_points: usize,
) -> Result<Vec<AlignedSeries>> {
    let buckets = max_points.clamp(1, MAX_POINTS);
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let mut series = AlignedSeries::new(run, metric, axis);
        match axis {
            AxisKind::Step => {
                for b in store.downsample(&run.id, metric, StepRange::ALL, buckets)? {
                    series.push(b.last_step, b.last, b.min, b.max, b.count);
                }
            }
            AxisKind::RelativeTime | AxisKind::WallTime => {
                let points = store.series(&run.id, metric, StepRange::ALL)?;
                let origin = if axis == AxisKind::RelativeTime { run.started_ms } else { 0 };
                for b in minmax_by_x(&points.wall_ms, &points, buckets) {
                    series.push(b.x_last.saturating_sub(origin), b.last, b.min, b.max, b.count);
                }
            }
        }
        out.push(series);
    }
    Ok(out)
}
