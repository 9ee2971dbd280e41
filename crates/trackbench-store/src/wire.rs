//! The network form of a [`Batch`]: what a remote SDK sends to a server's
//! `POST /api/v1/runs/{id}/batch`. JSON, each series column-wise (`steps`, `wall_ms`, `values`),
//! non-finite values as [`json_f64`] strings, `writer` + `seq` for the retry mark. Defined once:
//! the SDK writes [`WireBatchRef`] (borrowing the batch), the server reads [`WireBatch`].

use serde::{Deserialize, Serialize};

use crate::codec::Points;
use crate::error::{Result, StoreError};
use crate::model::json_f64::{self, Floats};
use crate::model::{Batch, LogLine, SeriesBatch};

/// One series of a batch, borrowed for writing.
#[derive(Serialize)]
struct SeriesRef<'a> {
    key: &'a str,
    steps: &'a [i64],
    wall_ms: &'a [i64],
    values: Floats<'a>,
}

/// A [`Batch`] as it goes on the wire, borrowing it.
#[derive(Serialize)]
pub struct WireBatchRef<'a> {
    series: Vec<SeriesRef<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    params: &'a [(String, serde_json::Value)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [(String, String)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    summary: &'a [(String, serde_json::Value)],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    log_lines: &'a [LogLine],
    heartbeat_ms: Option<i64>,
    writer: Option<&'a str>,
    seq: Option<i64>,
}

impl<'a> WireBatchRef<'a> {
    pub fn new(batch: &'a Batch) -> WireBatchRef<'a> {
        WireBatchRef {
            series: batch
                .series
                .iter()
                .map(|s| SeriesRef {
                    key: &s.key,
                    steps: &s.points.steps,
                    wall_ms: &s.points.wall_ms,
                    values: Floats(&s.points.values),
                })
                .collect(),
            params: &batch.params,
            tags: &batch.tags,
            summary: &batch.summary,
            log_lines: &batch.log_lines,
            heartbeat_ms: batch.heartbeat_ms,
            writer: batch.mark.as_ref().map(|m| m.0.as_str()),
            seq: batch.mark.as_ref().map(|m| m.1),
        }
    }
}

/// A value that may arrive as a number or as "NaN"/"Infinity"/"-Infinity".
#[derive(Deserialize, Clone, Copy)]
#[serde(transparent)]
struct Value(#[serde(with = "json_f64")] f64);

/// One series of a received batch.
#[derive(Deserialize)]
struct WireSeries {
    key: String,
    steps: Vec<i64>,
    wall_ms: Vec<i64>,
    values: Vec<Value>,
}

/// A received batch; [`WireBatch::into_batch`] checks it.
#[derive(Deserialize)]
pub struct WireBatch {
    #[serde(default)]
    series: Vec<WireSeries>,
    #[serde(default)]
    params: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    tags: Vec<(String, String)>,
    #[serde(default)]
    summary: Vec<(String, serde_json::Value)>,
    #[serde(default)]
    log_lines: Vec<LogLine>,
    heartbeat_ms: Option<i64>,
    /// Writer id and batch number (retries of one batch carry the same pair).
    writer: Option<String>,
    seq: Option<i64>,
}

impl WireBatch {
    /// The batch, or [`StoreError::Invalid`] when a series' columns differ in length or only
    /// one of `writer` and `seq` is given.
    pub fn into_batch(self) -> Result<Batch> {
        let mut series = Vec::with_capacity(self.series.len());
        for s in self.series {
            if s.steps.len() != s.wall_ms.len() || s.steps.len() != s.values.len() {
                return Err(StoreError::invalid(
                    "batch",
                    format!(
                        "series `{}`: steps, wall_ms and values must have the same length ({}, {}, {})",
                        s.key,
                        s.steps.len(),
                        s.wall_ms.len(),
                        s.values.len()
                    ),
                ));
            }
            let points =
                Points { steps: s.steps, wall_ms: s.wall_ms, values: s.values.into_iter().map(|v| v.0).collect() };
            series.push(SeriesBatch { key: s.key, points });
        }
        let mark = match (self.writer, self.seq) {
            (Some(w), Some(n)) => Some((w, n)),
            (None, None) => None,
            _ => return Err(StoreError::invalid("batch", "`writer` and `seq` go together")),
        };
        Ok(Batch {
            series,
            params: self.params,
            tags: self.tags,
            summary: self.summary,
            log_lines: self.log_lines,
            heartbeat_ms: self.heartbeat_ms,
            mark,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stream;

    #[test]
    fn a_batch_round_trips_bit_exactly() {
        let mut b = Batch::default();
        for (i, v) in [0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e-300].into_iter().enumerate() {
            b.push_metric(if i % 2 == 0 { "a" } else { "b/c" }, i as i64, 1000 + i as i64, v);
        }
        b.params = vec![("lr".into(), serde_json::json!(0.01))];
        b.tags = vec![("t".into(), "v".into())];
        b.summary = vec![("best".into(), serde_json::json!({"x": 1}))];
        b.log_lines = vec![LogLine { stream: Stream::Stderr, ts_ms: 5, line: "oops".into() }];
        b.heartbeat_ms = Some(7);
        b.mark = Some(("w1".into(), 3));
        let text = serde_json::to_string(&WireBatchRef::new(&b)).unwrap();
        assert!(text.contains(r#""NaN""#) && text.contains(r#""-Infinity""#), "{text}");
        let back = serde_json::from_str::<WireBatch>(&text).unwrap().into_batch().unwrap();
        assert_eq!(back.series.len(), b.series.len());
        for (x, y) in back.series.iter().zip(&b.series) {
            assert_eq!((&x.key, &x.points.steps, &x.points.wall_ms), (&y.key, &y.points.steps, &y.points.wall_ms));
            let bits = |p: &Points| p.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x.points), bits(&y.points), "values bit-exact");
        }
        assert_eq!((back.params, back.tags, back.summary), (b.params, b.tags, b.summary));
        assert_eq!((back.log_lines, back.heartbeat_ms, back.mark), (b.log_lines, b.heartbeat_ms, b.mark));
    }

    #[test]
    fn malformed_batches_are_refused() {
        let uneven = r#"{"series":[{"key":"a","steps":[1,2],"wall_ms":[1],"values":[1.0,2.0]}]}"#;
        let err = serde_json::from_str::<WireBatch>(uneven).unwrap().into_batch().err().unwrap();
        assert!(err.to_string().contains("same length"), "{err}");
        let half_mark = r#"{"writer":"w"}"#;
        assert!(serde_json::from_str::<WireBatch>(half_mark).unwrap().into_batch().is_err());
        let bad_value = r#"{"series":[{"key":"a","steps":[1],"wall_ms":[1],"values":["lots"]}]}"#;
        assert!(serde_json::from_str::<WireBatch>(bad_value).is_err());
        let lenient = r#"{"series":[{"key":"a","steps":[1,2],"wall_ms":[1,2],"values":["nan", 3]}]}"#;
        let b = serde_json::from_str::<WireBatch>(lenient).unwrap().into_batch().unwrap();
        assert!(b.series[0].points.values[0].is_nan() && b.series[0].points.values[1] == 3.0);
    }
}
