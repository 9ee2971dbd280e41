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
