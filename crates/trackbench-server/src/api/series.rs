//! Series and log lines over the native API: whole or step-ranged series, downsampled on the
//! step, relative-time or wall-time axis (min/max/last or LTTB), `since=` for live reads.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_compare::minmax_by_x;
use trackbench_store::StepRange;
use trackbench_store::json_f64::{self, Floats};

use crate::downsample;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::AppJson;

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum XAxis {
    Step,
    Relative,
    Wall,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum Method {
    Minmax,
    Lttb,
}

#[derive(Deserialize)]
pub(super) struct SeriesQuery {
    key: String,
    /// Downsample to at most this many buckets/points (whole series when absent).
    max_points: Option<usize>,
    x: Option<XAxis>,
    method: Option<Method>,
    /// Only points with a step greater than this (incremental reads of a live run).
    since: Option<i64>,
    min_step: Option<i64>,
    max_step: Option<i64>,
    /// `binary`: the whole series as little-endian arrays (see [`binary_series`]), for
    /// clients reading a million points at once; JSON otherwise.
    format: Option<String>,
}

/// A whole series' answer (`downsampled: false`).
#[derive(serde::Serialize)]
struct Whole<'a> {
    key: &'a str,
    x: &'a str,
    downsampled: bool,
    total: i64,
    points: WholePoints<'a>,
}

#[derive(serde::Serialize)]
struct WholePoints<'a> {
    /// The x of each point when the axis is not the step (null on the step axis).
    x: Option<&'a [f64]>,
    steps: &'a [i64],
    wall_ms: &'a [i64],
    values: Floats<'a>,
}

/// The media type of a series in binary.
pub const BINARY_SERIES: &str = "application/vnd.trackbench.series";

/// A whole series as bytes: `TBSERIES`, the point count `n` (u64), then `n` steps (i64), `n`
/// wall times in ms (i64) and `n` values (f64, bit-exact: NaN payloads and -0.0 kept), all
/// little-endian. 24 bytes a point, written and read without parsing numbers.
fn binary_series(points: &trackbench_store::Points) -> Vec<u8> {
    let n = points.len();
    let mut out = Vec::with_capacity(16 + 24 * n);
    out.extend_from_slice(b"TBSERIES");
    out.extend_from_slice(&(n as u64).to_le_bytes());
    for v in &points.steps {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in &points.wall_ms {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for v in &points.values {
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
    out
}

fn opt_floats(v: &[Option<f64>]) -> Vec<Value> {
    v.iter().map(|x| x.map_or(Value::Null, float)).collect()
}

fn float(v: f64) -> Value {
    json_f64::value(v)
}

pub(super) async fn series(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<Response> {
    let x = q.x.unwrap_or(XAxis::Step);
    let method = q.method.unwrap_or(Method::Minmax);
    if q.max_points == Some(0) {
        return Err(ApiError::invalid("`max_points` must be at least 1"));
    }
    let binary = match q.format.as_deref() {
        None | Some("json") => false,
        Some("binary") if q.max_points.is_none() && x == XAxis::Step => true,
        Some("binary") => return Err(ApiError::invalid("`format=binary` is for whole series on the step axis")),
        Some(other) => return Err(ApiError::invalid(format!("`format` is json or binary, not `{other}`"))),
    };
    let body = s
        .read(move |st| {
            let run = st.run(&id)?;
            let mut range = StepRange { min: q.min_step, max: q.max_step };
            if let Some(since) = q.since {
                match since.checked_add(1) {
                    Some(after) => range.min = Some(range.min.map_or(after, |m| m.max(after))),
                    // Nothing comes after the largest step there can be: an empty range.
                    None => range = StepRange { min: Some(i64::MAX), max: Some(i64::MIN) },
                }
            }
            let total = st.metric_summaries(&id)?.into_iter().find(|m| m.key == q.key).map_or(0, |m| m.count);
            // Fast path: min/max/last per step bucket from chunk summaries.
            if let (Some(n), XAxis::Step, Method::Minmax) = (q.max_points, x, method)
                && (total as usize) > n
            {
                let b = st.downsample(&id, &q.key, range, n)?;
                let body = json!({
                    "key": q.key, "x": "step", "downsampled": true, "method": "minmax", "total": total,
                    "buckets": {
                        "x": b.iter().map(|b| b.last_step).collect::<Vec<_>>(),
                        "first_step": b.iter().map(|b| b.first_step).collect::<Vec<_>>(),
                        "last_step": b.iter().map(|b| b.last_step).collect::<Vec<_>>(),
                        "count": b.iter().map(|b| b.count).collect::<Vec<_>>(),
                        "min": opt_floats(&b.iter().map(|b| b.min).collect::<Vec<_>>()),
                        "max": opt_floats(&b.iter().map(|b| b.max).collect::<Vec<_>>()),
                        "last": Floats(&b.iter().map(|b| b.last).collect::<Vec<_>>()),
                    }
                });
                return serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()));
            }
            let points = st.series(&id, &q.key, range)?;
            if binary {
                return Ok(binary_series(&points));
            }
            // x as a whole number (the step, or milliseconds), which min/max buckets split
            // exactly, and as shown (seconds on the relative axis).
            let x_int: Cow<[i64]> = match x {
                XAxis::Step => Cow::Borrowed(&points.steps),
                XAxis::Wall => Cow::Borrowed(&points.wall_ms),
                XAxis::Relative => points.wall_ms.iter().map(|&w| w.saturating_sub(run.started_ms)).collect(),
            };
            let shown = |v: i64| if x == XAxis::Relative { v as f64 / 1000.0 } else { v as f64 };
            let xs: Vec<f64> = x_int.iter().map(|&v| shown(v)).collect();
            let x_name = match x {
                XAxis::Step => "step",
                XAxis::Wall => "wall_ms",
                XAxis::Relative => "relative_s",
            };
            let body = match q.max_points {
                Some(n) if points.len() > n && method == Method::Lttb => {
                    let idx = downsample::lttb(&xs, &points.values, n);
                    let pick = |v: &[i64]| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
                    json!({
                        "key": q.key, "x": x_name, "downsampled": true, "method": "lttb", "total": total,
                        "points": {
                            "x": idx.iter().map(|&i| xs[i]).collect::<Vec<_>>(),
                            "steps": pick(&points.steps),
                            "wall_ms": pick(&points.wall_ms),
                            "values": Floats(&idx.iter().map(|&i| points.values[i]).collect::<Vec<_>>()),
                        }
                    })
                }
                Some(n) if points.len() > n => {
                    let b = minmax_by_x(&x_int, &points, n);
                    json!({
                        "key": q.key, "x": x_name, "downsampled": true, "method": "minmax", "total": total,
                        "buckets": {
                            "x": b.iter().map(|b| shown(b.x_last)).collect::<Vec<_>>(),
                            "x_first": b.iter().map(|b| shown(b.x_first)).collect::<Vec<_>>(),
                            "last_step": b.iter().map(|b| b.last_step).collect::<Vec<_>>(),
                            "count": b.iter().map(|b| b.count).collect::<Vec<_>>(),
                            "min": opt_floats(&b.iter().map(|b| b.min).collect::<Vec<_>>()),
                            "max": opt_floats(&b.iter().map(|b| b.max).collect::<Vec<_>>()),
                            "last": Floats(&b.iter().map(|b| b.last).collect::<Vec<_>>()),
                        }
                    })
                }
                // The whole series, serialized straight from the arrays (a million points
                // as a JSON tree first would cost more than the store's read).
                _ => {
                    let whole = Whole {
                        key: &q.key,
                        x: x_name,
                        downsampled: false,
                        total,
                        points: WholePoints {
                            x: (x != XAxis::Step).then_some(&xs[..]),
                            steps: &points.steps,
                            wall_ms: &points.wall_ms,
                            values: Floats(&points.values),
                        },
                    };
                    return serde_json::to_vec(&whole).map_err(|e| ApiError::internal(e.to_string()));
                }
            };
            serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    let media_type = if binary { BINARY_SERIES } else { "application/json" };
    Ok(([(header::CONTENT_TYPE, media_type)], body).into_response())
}

#[derive(Deserialize)]
pub(super) struct LogsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

pub(super) async fn logs(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<AppJson> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 100_000);
    let lines = s.read(move |st| Ok(st.log_lines(&id, q.after, limit)?)).await?;
    Ok(axum::Json(json!({ "lines": lines })))
}
