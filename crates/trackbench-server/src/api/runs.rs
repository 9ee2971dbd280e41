//! Runs over the native API: listing with the query language, create (or resume), detail,
//! edit, delete and restore, finish, the remote SDK's batches, params and metric summaries.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_store::prelude::*;
use trackbench_store::{Batch, MetricSummary, NewRun, RunInfo, RunQuery, RunStatus};

use crate::body::{BatchBody, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::AppJson;

#[derive(Deserialize)]
pub(super) struct ListQuery {
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

pub(super) async fn list_runs(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Query(q): Query<ListQuery>,
) -> ApiResult<AppJson> {
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
            // A user sees only readable projects' runs (a page may then hold fewer than `limit`).
            runs.retain(|r| crate::access::can_read(&caller, &r.project));
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
fn run_columns(st: &dyn Backend, uid: &str, columns: &[String]) -> ApiResult<Value> {
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
pub(super) struct CreateRun {
    /// Caller-chosen id (the SDK resuming a run it created); a fresh one when absent.
    id: Option<String>,
    #[serde(flatten)]
    new: NewRun,
}

pub(super) async fn create_run(
    State(s): State<Arc<AppState>>,
    scope: Option<axum::Extension<crate::auth::JobScope>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    JsonBody(mut req): JsonBody<CreateRun>,
) -> ApiResult<Response> {
    if req.new.project.is_empty() {
        return Err(ApiError::invalid("`project` is required"));
    }
    // A job token creates only runs of its scope, and resumes only those still in it.
    let scope = scope.map(|axum::Extension(crate::auth::JobScope(s))| s);
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "a job token creates only its job's runs (by id, tagged with the job's scope) and resumes them \
             only while the job runs",
        )
    };
    if scope.is_some() && req.id.is_none() {
        return Err(refused());
    }
    if scope.is_none() {
        crate::access::stamp_owner(&caller, &mut req.new.tags);
    }
    let run = s
        .write(move |st| {
            Ok(match &req.id {
                // As a local resume does: an id, a unique id prefix or a run name.
                Some(id) => match st.resolve_run(id) {
                    Ok(uid) => {
                        if let Some(scope) = &scope {
                            let tags = st.tags(&uid)?;
                            let mine =
                                tags.iter().any(|(k, v)| k == trackbench_launch::jobtoken::SCOPE_TAG && v == scope)
                                    && uid == *id
                                    && !tags.iter().any(|(k, _)| k == trackbench_launch::jobtoken::REVOKED_TAG);
                            if !mine {
                                return Err(refused());
                            }
                        }
                        st.resume_run(&uid)?;
                        // As a local resume does: the resuming caller's tags are logged.
                        if !req.new.tags.is_empty() {
                            let tags = Batch { tags: req.new.tags.clone(), ..Batch::default() };
                            st.log_batch(&uid, &tags)?;
                        }
                        st.run(&uid)?
                    }
                    Err(trackbench_store::StoreError::RunNotFound(_)) => {
                        let tagged = |scope: &String| {
                            req.new.tags.iter().any(|(k, v)| k == trackbench_launch::jobtoken::SCOPE_TAG && v == scope)
                        };
                        if scope.as_ref().is_some_and(|s| !tagged(s)) {
                            return Err(refused());
                        }
                        st.create_run_with_id(id, &req.new)?
                    }
                    Err(e) => return Err(e.into()),
                },
                None => st.create_run(&req.new)?,
            })
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(run)).into_response())
}

pub(super) async fn run_detail(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
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
pub(super) struct EditRun {
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

pub(super) async fn edit_run(
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

pub(super) async fn delete_run(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.write(move |st| Ok(st.delete_run(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn restore_run(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.write(move |st| Ok(st.restore_run(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(super) struct Finish {
    status: String,
    error: Option<String>,
    /// When the run ended (Unix ms; `trackbench push` carries a run's own end); now when absent.
    ended_ms: Option<i64>,
}

pub(super) async fn finish_run(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(f): JsonBody<Finish>,
) -> ApiResult<axum::Json<RunInfo>> {
    let status = RunStatus::parse(&f.status)
        .ok_or_else(|| ApiError::invalid(format!("unknown status `{}`: use finished, failed or killed", f.status)))?;
    let run = s
        .write(move |st| {
            st.finish_run_at(&id, status, f.error.as_deref(), f.ended_ms)?;
            Ok(st.run(&id)?)
        })
        .await?;
    Ok(axum::Json(run))
}

pub(super) async fn resume_run(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<RunInfo>> {
    let run = s
        .write(move |st| {
            st.resume_run(&id)?;
            Ok(st.run(&id)?)
        })
        .await?;
    Ok(axum::Json(run))
}

pub(super) async fn log_batch(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: BatchBody,
) -> ApiResult<AppJson> {
    // A remote client's heartbeat is the server hearing from it now, on the server's clock: a
    // node whose clock runs behind would otherwise make its live run read `crashed`.
    let report = match body {
        BatchBody::Json(mut batch) => {
            batch.heartbeat_ms = None;
            s.write(move |st| Ok(st.log_batch(&id, &batch)?)).await?
        }
        // Binary: the chunks as the SDK encoded them, stored without encoding them again.
        BatchBody::Chunked(mut chunked) => {
            chunked.batch.heartbeat_ms = None;
            s.write(move |st| Ok(st.log_chunked_batch(&id, &chunked)?)).await?
        }
    };
    Ok(axum::Json(serde_json::to_value(report).unwrap_or(Value::Null)))
}

pub(super) async fn params(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let p = s.read(move |st| Ok(st.params(&id)?)).await?;
    Ok(axum::Json(json!({ "params": to_object(p) })))
}

pub(super) async fn metrics(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let m = s.read(move |st| Ok(st.metric_summaries(&id)?)).await?;
    Ok(axum::Json(json!({ "metrics": m.iter().map(metric_json).collect::<Vec<_>>() })))
}
