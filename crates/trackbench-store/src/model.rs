//! Plain data types of the store's API: runs, statuses, params, batches, summaries.

use serde::{Deserialize, Serialize};

use crate::codec::Points;

/// Lifecycle of a run. `Crashed` is never written: a `Running` run whose heartbeat is older
/// than the store's heartbeat timeout, or whose process on this host is gone, reads as
/// `Crashed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    Finished,
    Failed,
    Killed,
    Crashed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Killed => "killed",
            RunStatus::Crashed => "crashed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s.to_ascii_lowercase().as_str() {
            "running" => RunStatus::Running,
            "finished" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            "killed" => RunStatus::Killed,
            "crashed" => RunStatus::Crashed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Running)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a new run records about where it came from. Every field is optional context.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct NewRun {
    pub project: String,
    /// Display name; a readable one is generated when `None`.
    pub name: Option<String>,
    pub group: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<(String, String)>,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub command: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    /// Free-form environment description (interpreter, OS, packages, devices), as JSON.
    pub env: Option<serde_json::Value>,
    /// Creation time in epoch ms; the store's clock when `None`.
    pub created_ms: Option<i64>,
    /// Start time of process `pid` in clock ticks since boot (`/proc/PID/stat` field 22):
    /// with `proc_boot`, lets the store see at once that the run's process is gone.
    pub proc_start: Option<i64>,
    /// Boot key of the machine `pid` runs on (see [`crate::liveness`]).
    pub proc_boot: Option<String>,
}

impl NewRun {
    /// Records `p` as the process holding the run (host, pid, start time, boot key).
    pub fn held_by(&mut self, p: &crate::liveness::ProcessIdentity) {
        self.host = Some(p.host.clone());
        self.pid = Some(p.pid);
        self.proc_start = Some(p.start_ticks);
        self.proc_boot = Some(p.boot.clone());
    }
}

/// A run as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub project: String,
    pub name: String,
    /// Effective status (`crashed` derived from the heartbeat and, on this host, the process).
    pub status: RunStatus,
    pub group: Option<String>,
    pub notes: Option<String>,
    pub created_ms: i64,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub heartbeat_ms: i64,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub command: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub env: Option<serde_json::Value>,
    pub error: Option<String>,
    pub deleted: bool,
}

/// A project with counts, for listings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    /// Stable numeric id (MLflow's experiment id).
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
    /// Last rename/delete/restore/tag edit.
    pub updated_ms: Option<i64>,
    pub deleted: bool,
    pub runs: i64,
    /// Latest heartbeat/creation of any of its runs.
    pub last_activity_ms: Option<i64>,
}

/// New points of one metric series.
#[derive(Debug, Clone, Default)]
pub struct SeriesBatch {
    pub key: String,
    pub points: Points,
}

/// Captured output of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One captured line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub stream: Stream,
    pub ts_ms: i64,
    pub line: String,
}

/// A stored log line with its position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLogLine {
    pub seq: i64,
    #[serde(flatten)]
    pub line: LogLine,
}

/// Everything one flush writes into one run, in one transaction: the store's single write.
/// `log_metric`, `log_param`, `set_tag` and friends are thin wrappers around it.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub series: Vec<SeriesBatch>,
    /// Params are write-once: the same value again is a no-op, a different one is rejected.
    pub params: Vec<(String, serde_json::Value)>,
    pub tags: Vec<(String, String)>,
    /// User summary values (`run.summary["best"] = 0.9`); last write wins.
    pub summary: Vec<(String, serde_json::Value)>,
    pub log_lines: Vec<LogLine>,
    /// Heartbeat to record (epoch ms).
    pub heartbeat_ms: Option<i64>,
    /// Writer id and sequence number of a batch that may be sent again (a remote SDK retrying
    /// after a lost answer): a batch whose number is not above the last one stored from that
    /// writer for this run is skipped whole, so a retry never stores a point twice.
    pub mark: Option<(String, i64)>,
}

impl Batch {
    /// Adds one point, grouping by key (linear scan over the few keys of a batch).
    pub fn push_metric(&mut self, key: &str, step: i64, wall_ms: i64, value: f64) {
        match self.series.iter_mut().rev().find(|s| s.key == key) {
            Some(s) => s.points.push(step, wall_ms, value),
            None => {
                let mut points = Points::default();
                points.push(step, wall_ms, value);
                self.series.push(SeriesBatch { key: key.to_string(), points });
            }
        }
    }

    pub fn point_count(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
            && self.params.is_empty()
            && self.tags.is_empty()
            && self.summary.is_empty()
            && self.log_lines.is_empty()
            && self.heartbeat_ms.is_none()
    }
}

/// What part of a batch was refused, and why. Everything else was stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    pub points: usize,
    pub params: usize,
    /// The batch's [`Batch::mark`] was already stored: nothing was written again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    pub rejected: Vec<Rejected>,
}

/// One refused item of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub what: String,
    pub key: String,
    pub reason: String,
}

/// Summary of one metric series, kept on ingest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub key: String,
    pub count: i64,
    pub nan_count: i64,
    /// Value at the greatest step (the later-logged one on a tie). May be NaN.
    #[serde(with = "json_f64")]
    pub last: f64,
    pub last_step: i64,
    pub last_wall_ms: i64,
    /// Over non-NaN values; `None` when every value was NaN.
    #[serde(with = "json_opt_f64")]
    pub min: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub max: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub sum: Option<f64>,
}

impl MetricSummary {
    /// Mean over the non-NaN points.
    pub fn mean(&self) -> Option<f64> {
        let n = self.count - self.nan_count;
        self.sum.filter(|_| n > 0).map(|s| s / n as f64)
    }
}

/// A stored artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    pub path: String,
    pub size: u64,
    pub hash: String,
    pub media_type: String,
    pub created_ms: i64,
}

/// Which points of a series to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepRange {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl StepRange {
    pub const ALL: StepRange = StepRange { min: None, max: None };

    pub fn contains(&self, step: i64) -> bool {
        self.min.is_none_or(|m| step >= m) && self.max.is_none_or(|m| step <= m)
    }
}

/// One bucket of a downsampled series: no extreme is ever hidden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub first_step: i64,
    pub last_step: i64,
    pub count: u64,
    /// Over non-NaN values; `None` when every value in the bucket was NaN.
    #[serde(with = "json_opt_f64")]
    pub min: Option<f64>,
    #[serde(with = "json_opt_f64")]
    pub max: Option<f64>,
    /// Value at `last_step` (the later-logged one on a tie). May be NaN.
    #[serde(with = "json_f64")]
    pub last: f64,
}

/// Filters, order and paging for [`crate::Store::list_runs`].
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub project: Option<String>,
    /// Filter in the query language (see `trackbench-query`).
    pub filter: Option<String>,
    /// Order-by clause in the query language, e.g. `metrics.acc desc`.
    pub order_by: Option<String>,
    pub limit: Option<usize>,
    pub offset: usize,
    pub include_deleted: bool,
}

/// JSON has no NaN/inf: serialize them as the strings "NaN", "Infinity", "-Infinity". The one
/// definition of that encoding (the server, the SDK, compare and the CLI use it); reading also
/// takes the spellings other tools write ("nan", "inf", "+Infinity") and numbers as strings.
pub mod json_f64 {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    /// Serializes a slice of f64 as a JSON array, the non-finite values as their strings
    /// (column-wise series on the wire: the server's answers, the remote SDK's batches).
    pub struct Floats<'a>(pub &'a [f64]);

    impl serde::Serialize for Floats<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = s.serialize_seq(Some(self.0.len()))?;
            for v in self.0 {
                if v.is_finite() {
                    seq.serialize_element(v)?;
                } else {
                    seq.serialize_element(text(*v))?;
                }
            }
            seq.end()
        }
    }

    /// The JSON text of a non-finite value: "NaN", "Infinity" or "-Infinity".
    pub fn text(v: f64) -> &'static str {
        if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
    }

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }

    /// `v` as a JSON value: a number, or its string when not finite.
    pub fn value(v: f64) -> serde_json::Value {
        match serde_json::Number::from_f64(v) {
            Some(n) => serde_json::Value::Number(n),
            None => serde_json::Value::String(text(v).to_string()),
        }
    }

    /// A non-finite value's text: "NaN", "Infinity", "-Infinity", or the spellings Python and
    /// other tools write ("nan", "inf", "-inf", "+Infinity").
    pub fn non_finite(s: &str) -> Option<f64> {
        match s {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" | "inf" | "+Infinity" => Some(f64::INFINITY),
            "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        }
    }

    /// A number written as text: a [`non_finite`] spelling or a decimal number.
    pub fn parse_text(s: &str) -> Option<f64> {
        let s = s.trim();
        non_finite(s).or_else(|| s.parse().ok())
    }

    /// A visitor, not an untagged enum: no buffering of each value (ingest parses millions).
    struct Lenient;

    impl Visitor<'_> for Lenient {
        type Value = f64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number, or \"NaN\", \"Infinity\", \"-Infinity\"")
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }

        fn visit_str<E: Error>(self, s: &str) -> Result<f64, E> {
            parse_text(s).ok_or_else(|| E::custom(format!("`{s}` is not a number")))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(Lenient)
    }
}

/// [`json_f64`] for `Option<f64>`.
pub mod json_opt_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::json_f64::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        #[derive(serde::Deserialize)]
        struct W(#[serde(with = "super::json_f64")] f64);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}
