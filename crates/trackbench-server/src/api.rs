//! The native JSON API under `/api/v1`, used by the UI, the desktop shell and the remote SDK
//! transport. Described for tools by `/api/v1/openapi.json` (kept in `openapi.json`; a test
//! checks that every route here is in it).
//!
//! Numbers that JSON cannot hold (NaN, ±inf) travel as the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"`, both ways. Series travel column-wise (`steps`, `wall_ms`, `values`).

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::TryStreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use trackbench_store::json_f64::{self, Floats};
use trackbench_store::wire::WireBatch;
use trackbench_store::{Batch, MetricSummary, NewRun, RunInfo, RunQuery, RunStatus, StepRange, Store};

use crate::body::JsonBody;
use crate::downsample;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

type AppJson = axum::Json<Value>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/events", get(crate::events::events))
        .route("/api/v1/projects", get(projects))
        .route("/api/v1/runs", get(list_runs).post(create_run))
        .route("/api/v1/runs/{id}", get(run_detail).patch(edit_run).delete(delete_run))
        .route("/api/v1/runs/{id}/restore", post(restore_run))
        .route("/api/v1/runs/{id}/finish", post(finish_run))
        .route("/api/v1/runs/{id}/resume", post(resume_run))
        .route("/api/v1/runs/{id}/batch", post(log_batch))
        .route("/api/v1/runs/{id}/params", get(params))
        .route("/api/v1/runs/{id}/metrics", get(metrics))
        .route("/api/v1/runs/{id}/series", get(series))
        .route("/api/v1/runs/{id}/logs", get(logs))
        .route("/api/v1/runs/{id}/artifacts", get(list_artifacts))
        .route(
            "/api/v1/runs/{id}/artifacts/{*path}",
            get(download_artifact).put(upload_artifact).layer(DefaultBodyLimit::disable()),
        )
}

async fn health() -> AppJson {
    axum::Json(json!({ "ok": true, "version": env!("CARGO_PKG_VERSION") }))
}

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn projects(State(s): State<Arc<AppState>>) -> ApiResult<AppJson> {
    let p = s.read(|st| Ok(st.projects()?)).await?;
    Ok(axum::Json(json!({ "projects": p })))
}

#[derive(Deserialize)]
struct ListQuery {
    project: Option<String>,
    filter: Option<String>,
    order_by: Option<String>,
    /// Page size (default 100, at most 10,000).
    limit: Option<usize>,
    #[serde(default)]
    offset: usize,
    /// Comma-separated extra columns: `params.KEY`, `metrics.KEY`, `tags.KEY`, `summary.KEY`,
    /// or `params.*`, `metrics.*`, `tags.*`, `summary.*` for all of a kind.
    columns: Option<String>,
    #[serde(default)]
    include_deleted: bool,
}

/// Largest paging offset accepted (native `offset=`, MLflow page tokens): far beyond any real
/// result list, and small enough that offset + page size never overflows, not even as SQL's
/// signed 64-bit `LIMIT`/`OFFSET`.
pub const MAX_OFFSET: usize = 1 << 48;

async fn list_runs(State(s): State<Arc<AppState>>, Query(q): Query<ListQuery>) -> ApiResult<AppJson> {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    if q.offset > MAX_OFFSET {
        return Err(ApiError::invalid(format!("offset {}: at most {MAX_OFFSET}", q.offset)));
    }
    let out = s
        .read(move |st| {
            let query = RunQuery {
                project: q.project,
                filter: q.filter,
                order_by: q.order_by,
                limit: Some(limit + 1),
                offset: q.offset,
                include_deleted: q.include_deleted,
            };
            let mut runs = st.list_runs(&query)?;
            let more = runs.len() > limit;
            runs.truncate(limit);
            let columns: Vec<String> = q
                .columns
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect();
            let mut rows = Vec::with_capacity(runs.len());
            for run in runs {
                let cols = if columns.is_empty() { None } else { Some(run_columns(st, &run.id, &columns)?) };
                let mut v = serde_json::to_value(&run).map_err(|e| ApiError::internal(e.to_string()))?;
                if let Some(c) = cols {
                    v["columns"] = c;
                }
                rows.push(v);
            }
            let next = more.then_some(q.offset.saturating_add(limit));
            Ok(json!({ "runs": rows, "next_offset": next }))
        })
        .await?;
    Ok(axum::Json(out))
}

/// The chosen columns of one run.
fn run_columns(st: &Store, uid: &str, columns: &[String]) -> ApiResult<Value> {
    let want = |kind: &str| columns.iter().any(|c| c.starts_with(&format!("{kind}.")));
    let pick =
        |kind: &str, key: &str| columns.iter().any(|c| c == &format!("{kind}.*") || c == &format!("{kind}.{key}"));
    let mut out = serde_json::Map::new();
    if want("params") {
        for (k, v) in st.params(uid)? {
            if pick("params", &k) {
                out.insert(format!("params.{k}"), v);
            }
        }
    }
    if want("summary") {
        for (k, v) in st.summary_values(uid)? {
            if pick("summary", &k) {
                out.insert(format!("summary.{k}"), v);
            }
        }
    }
    if want("tags") {
        for (k, v) in st.tags(uid)? {
            if pick("tags", &k) {
                out.insert(format!("tags.{k}"), Value::String(v));
            }
        }
    }
    if want("metrics") {
        for m in st.metric_summaries(uid)? {
            if pick("metrics", &m.key) {
                out.insert(format!("metrics.{}", m.key), metric_json(&m));
            }
        }
    }
    Ok(Value::Object(out))
}

fn metric_json(m: &MetricSummary) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
    if let Some(mean) = m.mean() {
        v["mean"] = json!(mean);
    }
    v
}

/// What a remote SDK (or any client) sends to create a run.
#[derive(Deserialize)]
struct CreateRun {
    /// Caller-chosen id (the SDK resuming a run it created); a fresh one when absent.
    id: Option<String>,
    #[serde(flatten)]
    new: NewRun,
}

async fn create_run(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<CreateRun>) -> ApiResult<Response> {
    if req.new.project.is_empty() {
        return Err(ApiError::invalid("`project` is required"));
    }
    let run = s
        .write(move |st| {
            Ok(match &req.id {
                Some(id) => match st.run(id) {
                    Ok(_) => {
                        st.resume_run(id)?;
                        // As a local resume does: the resuming caller's tags are logged.
                        if !req.new.tags.is_empty() {
                            let tags = Batch { tags: req.new.tags.clone(), ..Batch::default() };
                            st.log_batch(id, &tags)?;
                        }
                        st.run(id)?
                    }
                    Err(trackbench_store::StoreError::RunNotFound(_)) => st.create_run_with_id(id, &req.new)?,
                    Err(e) => return Err(e.into()),
                },
                None => st.create_run(&req.new)?,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(run)).into_response())
}

async fn run_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let out = s
        .read(move |st| {
            let run: RunInfo = st.run(&id)?;
            let metrics: Vec<Value> = st.metric_summaries(&id)?.iter().map(metric_json).collect();
            Ok(json!({
                "run": run,
                "params": to_object(st.params(&id)?),
                "tags": st.tags(&id)?.into_iter().collect::<BTreeMap<_, _>>(),
                "summary": to_object(st.summary_values(&id)?),
                "metrics": metrics,
                "inputs": st.run_inputs(&id)?,
            }))
        })
        .await?;
    Ok(axum::Json(out))
}

fn to_object(pairs: Vec<(String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect())
}

#[derive(Deserialize)]
struct EditRun {
    name: Option<String>,
    /// `null` clears the notes; absent leaves them.
    #[serde(default, with = "double_option")]
    notes: Option<Option<String>>,
    /// Tags to set; a `null` value removes the tag.
    #[serde(default)]
    tags: BTreeMap<String, Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn edit_run(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<EditRun>,
) -> ApiResult<axum::Json<RunInfo>> {
    let run = s
        .write(move |st| {
            st.run(&id)?;
            if let Some(name) = &edit.name {
                st.set_run_name(&id, name)?;
            }
            if let Some(notes) = &edit.notes {
                st.set_notes(&id, notes.as_deref())?;
            }
            for (k, v) in &edit.tags {
                match v {
                    Some(v) => st.set_tag(&id, k, v)?,
                    None => {
                        st.remove_tag(&id, k)?;
                    }
                }
            }
            Ok(st.run(&id)?)
        })
        .await?;
    Ok(axum::Json(run))
}

async fn delete_run(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.write(move |st| Ok(st.delete_run(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restore_run(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.write(move |st| Ok(st.restore_run(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Finish {
    status: String,
    error: Option<String>,
}

async fn finish_run(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(f): JsonBody<Finish>,
) -> ApiResult<axum::Json<RunInfo>> {
    let status = RunStatus::parse(&f.status)
        .ok_or_else(|| ApiError::invalid(format!("unknown status `{}`: use finished, failed or killed", f.status)))?;
    let run = s
        .write(move |st| {
            st.finish_run(&id, status, f.error.as_deref())?;
            Ok(st.run(&id)?)
        })
        .await?;
    Ok(axum::Json(run))
}

async fn resume_run(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<axum::Json<RunInfo>> {
    let run = s
        .write(move |st| {
            st.resume_run(&id)?;
            Ok(st.run(&id)?)
        })
        .await?;
    Ok(axum::Json(run))
}

async fn log_batch(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(wire): JsonBody<WireBatch>,
) -> ApiResult<AppJson> {
    let batch = wire.into_batch()?;
    let report = s.write(move |st| Ok(st.log_batch(&id, &batch)?)).await?;
    Ok(axum::Json(serde_json::to_value(report).unwrap_or(Value::Null)))
}

async fn params(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let p = s.read(move |st| Ok(st.params(&id)?)).await?;
    Ok(axum::Json(json!({ "params": to_object(p) })))
}

async fn metrics(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let m = s.read(move |st| Ok(st.metric_summaries(&id)?)).await?;
    Ok(axum::Json(json!({ "metrics": m.iter().map(metric_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum XAxis {
    Step,
    Relative,
    Wall,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Method {
    Minmax,
    Lttb,
}

#[derive(Deserialize)]
struct SeriesQuery {
    key: String,
    /// Downsample to at most this many buckets/points (whole series when absent).
    max_points: Option<usize>,
    x: Option<XAxis>,
    method: Option<Method>,
    /// Only points with a step greater than this (incremental reads of a live run).
    since: Option<i64>,
    min_step: Option<i64>,
    max_step: Option<i64>,
}

fn opt_floats(v: &[Option<f64>]) -> Vec<Value> {
    v.iter().map(|x| x.map_or(Value::Null, float)).collect()
}

fn float(v: f64) -> Value {
    json_f64::value(v)
}

async fn series(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<SeriesQuery>,
) -> ApiResult<Response> {
    let x = q.x.unwrap_or(XAxis::Step);
    let method = q.method.unwrap_or(Method::Minmax);
    if q.max_points == Some(0) {
        return Err(ApiError::invalid("`max_points` must be at least 1"));
    }
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
            let xs: Vec<f64> = match x {
                XAxis::Step => points.steps.iter().map(|&s| s as f64).collect(),
                XAxis::Wall => points.wall_ms.iter().map(|&w| w as f64).collect(),
                XAxis::Relative => {
                    points.wall_ms.iter().map(|&w| w.saturating_sub(run.started_ms) as f64 / 1000.0).collect()
                }
            };
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
                    let b = downsample::minmax_by_x(&xs, &points, n);
                    json!({
                        "key": q.key, "x": x_name, "downsampled": true, "method": "minmax", "total": total,
                        "buckets": {
                            "x": b.iter().map(|b| b.x_last).collect::<Vec<_>>(),
                            "x_first": b.iter().map(|b| b.x_first).collect::<Vec<_>>(),
                            "last_step": b.iter().map(|b| b.last_step).collect::<Vec<_>>(),
                            "count": b.iter().map(|b| b.count).collect::<Vec<_>>(),
                            "min": opt_floats(&b.iter().map(|b| b.min).collect::<Vec<_>>()),
                            "max": opt_floats(&b.iter().map(|b| b.max).collect::<Vec<_>>()),
                            "last": Floats(&b.iter().map(|b| b.last).collect::<Vec<_>>()),
                        }
                    })
                }
                _ => json!({
                    "key": q.key, "x": x_name, "downsampled": false, "total": total,
                    "points": {
                        "x": if x == XAxis::Step { Value::Null } else { json!(xs) },
                        "steps": points.steps,
                        "wall_ms": points.wall_ms,
                        "values": Floats(&points.values),
                    }
                }),
            };
            serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Deserialize)]
struct LogsQuery {
    #[serde(default)]
    after: i64,
    limit: Option<usize>,
}

async fn logs(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<AppJson> {
    let limit = q.limit.unwrap_or(1000).clamp(1, 100_000);
    let lines = s.read(move |st| Ok(st.log_lines(&id, q.after, limit)?)).await?;
    Ok(axum::Json(json!({ "lines": lines })))
}

async fn list_artifacts(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let a = s.read(move |st| Ok(st.artifacts(&id)?)).await?;
    Ok(axum::Json(json!({ "artifacts": a })))
}

/// Streams one artifact (with `Range: bytes=a-b` support); see [`serve_file`] for the headers
/// that keep an active artifact from running with the UI's origin.
pub async fn download_artifact(
    State(s): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (info, file) = s.read(move |st| Ok(st.artifact_file(&id, &path)?)).await?;
    serve_file(&file, &info.path, &info.media_type, info.size, &headers).await
}

/// Media types a browser only displays (no script, no markup that can load any): served
/// inline. Everything else, HTML, SVG, XML and JavaScript included, is a download
/// (`Content-Disposition: attachment`), on top of `Content-Security-Policy: sandbox` and
/// `X-Content-Type-Options: nosniff`, which every artifact gets.
fn is_passive(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "image/bmp"
            | "text/plain"
            | "text/csv"
            | "application/json"
    ) || ["audio/", "video/"].iter().any(|p| essence.starts_with(p))
}

/// `attachment; filename="NAME"`, with the last segment of `path` reduced to characters that
/// need no quoting.
fn attachment(path: &str) -> HeaderValue {
    let name = path.rsplit('/').next().unwrap_or("");
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let safe = if safe.trim_matches('.').is_empty() { "artifact".to_string() } else { safe };
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")).unwrap_or(HeaderValue::from_static("attachment"))
}

/// Answers a GET of stored file `path` (an artifact path, for its download name), honouring a
/// single byte `Range`.
pub async fn serve_file(
    file: &std::path::Path,
    path: &str,
    media_type: &str,
    size: u64,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let mut f = tokio::fs::File::open(file).await.map_err(|e| ApiError::internal(format!("opening blob: {e}")))?;
    let range = headers.get(header::RANGE).and_then(|r| r.to_str().ok()).map(|r| parse_range(r, size));
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        Some(None) => {
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))])
                .into_response());
        }
    };
    f.seek(SeekFrom::Start(start)).await.map_err(|e| ApiError::internal(format!("reading blob: {e}")))?;
    let stream = tokio_util::io::ReaderStream::new(f.take(len));
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    if !is_passive(media_type) {
        h.insert(header::CONTENT_DISPOSITION, attachment(path));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {}-{}/{size}", start, start + len - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Ok(resp)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` -> inclusive range within `size`; `None` if unsatisfiable.
fn parse_range(spec: &str, size: u64) -> Option<(u64, u64)> {
    let r = spec.trim().strip_prefix("bytes=")?;
    if r.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = r.split_once('-')?;
    let (a, b) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.saturating_sub(n), size - 1)
        }
        (a, "") => (a.parse().ok()?, size - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size - 1)),
    };
    (a <= b && a < size).then_some((a, b))
}

/// Streams a request body into the store as artifact `path` of run `id`, refusing more than
/// `max_upload` bytes (nothing is stored then).
pub async fn store_upload(
    s: &Arc<AppState>,
    id: String,
    path: String,
    req: Request,
) -> ApiResult<trackbench_store::ArtifactInfo> {
    let max = s.max_upload;
    if let Some(len) =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(upload_too_large(max));
    }
    let stream = req.into_body().into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let reader = tokio_util::io::SyncIoBridge::new(reader);
    s.read(move |store| {
        let limited = LimitedReader { inner: reader, left: max };
        store.put_artifact_from(&id, &path, limited, "upload").map_err(|e| match e {
            trackbench_store::StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::FileTooLarge => {
                upload_too_large(max)
            }
            e => e.into(),
        })
    })
    .await
}

fn upload_too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RESOURCE_EXHAUSTED",
        format!("artifact is larger than the limit of {max} bytes"),
    )
}

struct LimitedReader<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "upload over the limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

async fn upload_artifact(
    State(s): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let checked = {
        let (id, path) = (id.clone(), path.clone());
        s.read(move |st| {
            trackbench_store::validate::artifact_path(&path)?;
            st.run(&id)?;
            Ok(())
        })
        .await
    };
    if let Err(e) = checked {
        return Err(crate::body::drain_then(req, e, crate::body::DRAIN_LIMIT).await);
    }
    let info = store_upload(&s, id, path, req).await?;
    Ok((StatusCode::CREATED, axum::Json(info)).into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn every_route_is_in_the_openapi_description() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("openapi.json parses");
        let paths = doc["paths"].as_object().expect("paths");
        let source = [include_str!("api.rs"), include_str!("launch.rs"), include_str!("report.rs")].concat();
        let routes: Vec<&str> = source.split(".route(\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
        assert!(routes.len() >= 15, "found the routes: {routes:?}");
        for r in routes {
            let documented = r.replace("{*path}", "{path}");
            assert!(paths.contains_key(&documented), "route {r} is missing from openapi.json");
        }
    }

    #[test]
    fn active_artifacts_are_downloads() {
        use super::{attachment, is_passive};
        for t in ["image/png", "image/jpeg", "text/plain; charset=utf-8", "application/json", "video/mp4", "text/csv"] {
            assert!(is_passive(t), "{t}");
        }
        for t in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "text/javascript",
            "application/xml",
            "text/xml",
            "application/xhtml+xml",
            "application/pdf",
            "application/octet-stream",
            "",
        ] {
            assert!(!is_passive(t), "{t}");
        }
        assert_eq!(attachment("plots/a b\"é.html"), "attachment; filename=\"a_b__.html\"");
        assert_eq!(attachment(".."), "attachment; filename=\"artifact\"");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
