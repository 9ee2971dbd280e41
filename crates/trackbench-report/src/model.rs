//! The report's input: everything a report shows, already computed and formatted where it is
//! text. Callers (the CLI, a compare step) fill a [`ReportInput`]; the renderers only lay it out.
//!
//! Times are strings supplied by the caller (the renderers read no clock). Numbers that may be
//! NaN or ±inf (summary values, chart points) serialize as JSON numbers when finite and as the
//! strings `"NaN"`, `"inf"`, `"-inf"` otherwise, so the JSON output parses back to the same input.

use serde::{Deserialize, Serialize};

/// One report. Field order is the order of the sections in the rendered document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ReportInput {
    /// Document title (`<h1>` / `#`).
    pub title: String,
    /// When the report was made, as the caller wants it shown (e.g. RFC 3339).
    pub generated_at: String,
    /// How it was made: the command line, shown verbatim.
    pub generated_by: String,
    /// The runs table, one row per run, in display order.
    pub runs: Vec<RunRow>,
    /// Params that differ between the runs.
    #[serde(default)]
    pub param_diff: ParamDiff,
    /// One chart per metric, in display order.
    #[serde(default)]
    pub charts: Vec<Chart>,
    /// Present when two groups of runs are compared.
    #[serde(default)]
    pub stats: Option<StatsSection>,
    /// Present when two logged dataset profiles are tested for drift. A report with a drift
    /// section and no runs shows only the drift section.
    #[serde(default)]
    pub drift: Option<DriftSection>,
}

/// One run: identity, status, provenance and user summary values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunRow {
    pub id: String,
    pub name: String,
    pub project: String,
    /// `running`, `finished`, `failed`, `killed`, `crashed` (any string is shown as given).
    pub status: String,
    #[serde(default)]
    pub group: Option<String>,
    /// Creation time as the caller wants it shown.
    pub created: String,
    #[serde(default)]
    pub duration_s: Option<f64>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub git_commit: Option<String>,
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// Captured environment (an object of name -> value is shown as a table; anything else as
    /// JSON). `null` when nothing was captured.
    #[serde(default)]
    pub env: serde_json::Value,
    /// Tags as `(key, value)`; an empty value shows the key alone.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Summary values (`best_acc`, last `val/loss`, …) shown as extra columns in the runs table;
    /// the columns are the union of the keys over all runs, in first-seen order.
    #[serde(default, with = "f64_pairs")]
    pub summary: Vec<(String, f64)>,
}

/// Params that differ between runs. Keys equal in every run are only counted (and optionally
/// listed in `equal`), since they say nothing about why the runs differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ParamDiff {
    /// One entry per differing key, in display order.
    pub keys: Vec<ParamKeyDiff>,
    /// How many keys have the same value in every run.
    pub equal_count: usize,
    /// Optionally, those equal keys with their value (shown folded); may be empty or a prefix
    /// even when `equal_count` is larger.
    #[serde(default)]
    pub equal: Vec<(String, String)>,
}

/// One differing param key: its value in each run, aligned with [`ReportInput::runs`]
/// (`None`: the run has no such param). Shorter vectors are read as missing values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ParamKeyDiff {
    pub key: String,
    pub values: Vec<Option<String>>,
}

/// One chart: every series overlaid on the same axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Chart {
    /// Metric key; the chart's title and y-axis label.
    pub metric: String,
    /// X-axis label (`step`, `relative time (s)`, `wall time`).
    pub x_label: String,
    /// Logarithmic y axis (non-positive values are then left out of the drawing).
    #[serde(default)]
    pub log_y: bool,
    /// A line shown under the chart, e.g. `EMA smoothing 0.6; band: min–max over 3 seeds`.
    #[serde(default)]
    pub note: Option<String>,
    pub series: Vec<ChartSeries>,
}

/// One line of a chart (a run, or a group's mean), with an optional band around it (a group's
/// min–max or ± std). `x`, `y` and the band vectors have the same length; non-finite values
/// break the line (and the band) there, and so do values no chart can place: beyond ±1e300, or
/// on a log axis outside [1e-150, 1e150].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ChartSeries {
    pub label: String,
    #[serde(with = "f64_vec")]
    pub x: Vec<f64>,
    #[serde(with = "f64_vec")]
    pub y: Vec<f64>,
    #[serde(default)]
    pub band: Option<Band>,
}

/// The lower and upper edges of a band, aligned with the series' `x`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Band {
    #[serde(with = "f64_vec")]
    pub low: Vec<f64>,
    #[serde(with = "f64_vec")]
    pub high: Vec<f64>,
}

/// The statistics of a two-group comparison, already formatted by the statistics step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StatsSection {
    /// The metric compared (`val/acc`).
    pub metric: String,
    /// `maximize` or `minimize`.
    pub direction: String,
    /// Rows of `(label, [(column, formatted value)])`. Consecutive rows with the same columns
    /// form one table (e.g. per-group `n, mean, std, median`, then per-test `difference, 95% CI,
    /// p`).
    pub rows: Vec<(String, Vec<(String, String)>)>,
    /// The plain-words conclusion, shown prominently.
    pub verdict: String,
}

/// Data drift between two logged dataset profiles (a reference and the current data), tested
/// column by column by the caller: both sides, the dataset's verdict, and per column the test,
/// its numbers and the chart of both distributions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DriftSection {
    pub reference: DriftSide,
    pub current: DriftSide,
    /// Columns that got a verdict.
    pub tested: usize,
    /// Tested columns that drifted.
    pub drifted: usize,
    /// `drifted / tested`; `None` when no column could be tested.
    #[serde(default, with = "f64_opt")]
    pub share: Option<f64>,
    /// The share of drifted columns at which the dataset drifts.
    #[serde(with = "f64_one")]
    pub drift_share: f64,
    /// The dataset's verdict.
    pub drift: bool,
    /// One row per column, in any order: the renderers show them by severity (see
    /// [`DriftSection::sort_by_severity`]).
    pub columns: Vec<DriftColumn>,
}

/// One side of a drift comparison: a dataset profile logged by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DriftSide {
    /// The run's id.
    pub run: String,
    /// The run's name (may be empty).
    #[serde(default)]
    pub run_name: String,
    pub dataset: String,
    /// The step the profile was logged at, if any.
    #[serde(default)]
    pub step: Option<i64>,
    /// Rows profiled.
    pub rows: u64,
}

/// Which number a drift test's threshold applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DriftRule {
    /// Drift when the p-value is below the threshold (KS, chi-square).
    PValueBelow,
    /// Drift when the statistic is at or above the threshold (distances, PSI).
    #[default]
    StatisticAtLeast,
}

/// One column's drift test, as the test step computed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DriftColumn {
    pub column: String,
    /// The column's type in each profile (`None`: the profile lacks the column).
    #[serde(default)]
    pub ref_dtype: Option<String>,
    #[serde(default)]
    pub cur_dtype: Option<String>,
    /// The test run (`ks`, `chi2`, …); `None`: not tested (the notes say why).
    #[serde(default)]
    pub test: Option<String>,
    /// Why this test was chosen.
    #[serde(default)]
    pub reason: String,
    #[serde(default, with = "f64_opt")]
    pub statistic: Option<f64>,
    #[serde(default, with = "f64_opt")]
    pub p_value: Option<f64>,
    #[serde(default, with = "f64_opt")]
    pub threshold: Option<f64>,
    /// What the threshold applies to.
    #[serde(default)]
    pub rule: DriftRule,
    /// The column's verdict; `None`: untested.
    #[serde(default)]
    pub drift: Option<bool>,
    /// Both sides exact: the statistic is the data's own.
    #[serde(default)]
    pub exact: bool,
    /// Bound on the statistic's error when a side is sketched.
    #[serde(default, with = "f64_opt")]
    pub error_bound: Option<f64>,
    /// Values tested on each side.
    #[serde(default)]
    pub ref_n: u64,
    #[serde(default)]
    pub cur_n: u64,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Both distributions, for the column's chart.
    #[serde(default)]
    pub chart: DriftChart,
}

/// What a drift chart draws: both sides' distributions as shares (so sides of different sizes
/// overlay), each with the largest error of one of its shares (0 where exact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DriftChart {
    /// A numeric column: bins both sides share (`edges` has one more value than each side's
    /// shares), drawn as overlaid histograms.
    Histogram {
        #[serde(with = "f64_vec")]
        edges: Vec<f64>,
        #[serde(with = "f64_vec")]
        reference: Vec<f64>,
        #[serde(with = "f64_vec")]
        current: Vec<f64>,
        #[serde(default, with = "f64_one")]
        reference_error: f64,
        #[serde(default, with = "f64_one")]
        current_error: f64,
    },
    /// A categorical column: the most frequent categories (each side's share, aligned with
    /// `labels`), then every other category together, drawn as grouped bars.
    Categories {
        labels: Vec<String>,
        #[serde(with = "f64_vec")]
        reference: Vec<f64>,
        #[serde(with = "f64_vec")]
        current: Vec<f64>,
        #[serde(default, with = "f64_one")]
        reference_other: f64,
        #[serde(default, with = "f64_one")]
        current_other: f64,
        #[serde(default, with = "f64_one")]
        reference_error: f64,
        #[serde(default, with = "f64_one")]
        current_error: f64,
    },
    /// Nothing to draw, and why.
    None { why: String },
}

impl Default for DriftChart {
    fn default() -> Self {
        DriftChart::None { why: "no chart given".into() }
    }
}

impl DriftColumn {
    /// How far past its threshold the column is, as a factor (above 1: past it):
    /// `statistic / threshold` for a statistic rule, `threshold / p_value` for a p-value rule
    /// (infinite for p = 0). `None` when untested or a number is missing.
    pub fn margin(&self) -> Option<f64> {
        let t = self.threshold?;
        self.drift?;
        let m = match self.rule {
            DriftRule::PValueBelow => t / self.p_value?,
            DriftRule::StatisticAtLeast => self.statistic? / t,
        };
        (!m.is_nan()).then_some(m)
    }
}

impl DriftSection {
    /// The order the renderers show columns in: drifted first, then the rest tested, then the
    /// untested; within each, farthest past (or nearest to) the threshold first (see
    /// [`DriftColumn::margin`]); ties keep the input order.
    pub fn severity_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.columns.len()).collect();
        let rank = |c: &DriftColumn| match c.drift {
            Some(true) => 0,
            Some(false) => 1,
            None => 2,
        };
        order.sort_by(|&a, &b| {
            let (ca, cb) = (&self.columns[a], &self.columns[b]);
            let margin = |c: &DriftColumn| c.margin().unwrap_or(f64::NEG_INFINITY);
            rank(ca).cmp(&rank(cb)).then_with(|| margin(cb).total_cmp(&margin(ca)))
        });
        order
    }

    /// Puts `columns` in [`DriftSection::severity_order`].
    pub fn sort_by_severity(&mut self) {
        let order = self.severity_order();
        let mut old: Vec<Option<DriftColumn>> = std::mem::take(&mut self.columns).into_iter().map(Some).collect();
        self.columns = order.into_iter().filter_map(|i| old[i].take()).collect();
    }
}

/// Serde for one `f64` that keeps NaN and ±inf (as strings).
mod f64_repr {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum Repr {
        Num(f64),
        Text(String),
    }

    pub fn to_repr(v: f64) -> Repr {
        if v.is_nan() {
            Repr::Text("NaN".into())
        } else if v.is_infinite() {
            Repr::Text(if v > 0.0 { "inf" } else { "-inf" }.into())
        } else {
            Repr::Num(v)
        }
    }

    pub fn from_repr<E: serde::de::Error>(r: Repr) -> Result<f64, E> {
        match r {
            Repr::Num(v) => Ok(v),
            Repr::Text(s) => match s.as_str() {
                "NaN" | "nan" => Ok(f64::NAN),
                "inf" | "+inf" | "Infinity" => Ok(f64::INFINITY),
                "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(E::custom(format!("expected a number, \"NaN\", \"inf\" or \"-inf\", got {other:?}"))),
            },
        }
    }

    pub struct F(pub f64);
    impl Serialize for F {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            to_repr(self.0).serialize(s)
        }
    }
    impl<'de> Deserialize<'de> for F {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            from_repr(Repr::deserialize(d)?).map(F)
        }
    }
}

mod f64_one {
    use super::f64_repr::F;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        F(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(F::deserialize(d)?.0)
    }
}

mod f64_opt {
    use super::f64_repr::F;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(F).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<F>::deserialize(d)?.map(|f| f.0))
    }
}

mod f64_vec {
    use super::f64_repr::F;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&F(*x))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<F>::deserialize(d)?.into_iter().map(|f| f.0).collect())
    }
}

mod f64_pairs {
    use super::f64_repr::F;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for (k, x) in v {
            seq.serialize_element(&(k, F(*x)))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        Ok(Vec::<(String, F)>::deserialize(d)?.into_iter().map(|(k, f)| (k, f.0)).collect())
    }
}
