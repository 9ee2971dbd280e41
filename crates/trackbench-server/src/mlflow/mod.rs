//! The MLflow tracking REST API (`/api/2.0/mlflow/...`, `/ajax-api/2.0/mlflow/...`), MLflow 3's
//! logged models and the model registry, and the `mlflow-artifacts` proxy, mapped onto the
//! store: experiments are projects, runs are runs, logged models and registered models are the
//! store's (`models`, `registry`).
//!
//! Unchanged code using the official `mlflow` client (`mlflow.set_tracking_uri(url)`, the token
//! in `MLFLOW_TRACKING_TOKEN`, or a user's name and token in `MLFLOW_TRACKING_USERNAME` /
//! `MLFLOW_TRACKING_PASSWORD`) logs here, with that user's permissions (`crate::access`). The mapping:
//! - experiment id = the project's numeric id as text; experiment `"0"` is the project named
//!   `Default`, created on first use (MLflow always has it). `artifact_location` is
//!   `mlflow-artifacts:/<experiment id>`.
//! - run id (`run_id` and `run_uuid`) = our run id; `run_name` = the run's name, also shown
//!   (and settable) as tag `mlflow.runName`; `user_id` is tag `mlflow.user`; `artifact_uri` is
//!   `mlflow-artifacts:/<experiment id>/<run id>/artifacts`, which the client turns into
//!   `/api/2.0/mlflow-artifacts/artifacts/<experiment id>/<run id>/artifacts/<path>`.
//! - statuses by name: `running` RUNNING, `finished` FINISHED, `failed` FAILED, `killed`
//!   KILLED. MLflow has no heartbeat, so no `crashed`: a run that stopped heartbeating without
//!   an end reads as FAILED (with no `end_time`). Every MLflow write to a run records a
//!   heartbeat, so a live MLflow run is not mistaken for a crashed one while it logs.
//! - params are strings in MLflow and are stored as JSON strings (write-once: the same value
//!   again is accepted, a different one is `INVALID_PARAMETER_VALUE`).
//! - metrics in a run's `data` are the latest value per key (greatest step, then latest
//!   logged), as MLflow's `latest_metrics`.
//!
//! JSON is written as MLflow writes it: int64 as numbers, enums by name, empty fields left out,
//! NaN/±inf as the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (the client's protobuf parser
//! reads them; it sends bare `NaN`, which [`crate::body`] accepts). Errors are
//! `{"error_code", "message"}` with MLflow's status codes.

mod artifacts;
mod experiments;
mod filter;
mod history;
mod logging;
mod models;
mod registry;
mod runs;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::{MethodRouter, any, delete, get, patch, post};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use trackbench_store::prelude::*;
use trackbench_store::{ProjectInfo, RunInfo, RunStatus, StoreError};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

type AppJson = axum::Json<Value>;

/// Name of the project that stands for MLflow's default experiment `"0"`.
pub const DEFAULT_EXPERIMENT: &str = "Default";

/// Routes of the MLflow API, to be merged into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    let mut r = Router::new();
    let tracking: Vec<(&str, MethodRouter<Arc<AppState>>)> = vec![
        ("experiments/create", post(experiments::create)),
        ("experiments/get", get(experiments::get)),
        ("experiments/get-by-name", get(experiments::get_by_name)),
        ("experiments/search", get(experiments::search_get).post(experiments::search)),
        ("experiments/update", post(experiments::update)),
        ("experiments/delete", post(experiments::delete)),
        ("experiments/restore", post(experiments::restore)),
        ("experiments/set-experiment-tag", post(experiments::set_tag)),
        ("experiments/delete-experiment-tag", post(experiments::delete_tag)),
        ("runs/create", post(runs::create)),
        ("runs/update", post(runs::update)),
        ("runs/get", get(runs::get)),
        ("runs/delete", post(runs::delete)),
        ("runs/restore", post(runs::restore)),
        ("runs/search", post(runs::search)),
        ("runs/log-metric", post(logging::log_metric)),
        ("runs/log-parameter", post(logging::log_param)),
        ("runs/log-batch", post(logging::log_batch)),
        ("runs/log-inputs", post(logging::log_inputs)),
        ("runs/set-tag", post(logging::set_tag)),
        ("runs/delete-tag", post(logging::delete_tag)),
        ("metrics/get-history", get(history::get_history)),
        ("metrics/get-history-bulk-interval", get(history::get_history_bulk_interval)),
        ("artifacts/list", get(artifacts::list_for_run)),
        ("runs/outputs", post(models::log_outputs)),
        ("logged-models", post(models::create)),
        ("logged-models/search", post(models::search)),
        ("logged-models/{model_id}", get(models::get).patch(models::finalize).delete(models::delete)),
        ("logged-models/{model_id}/tags", patch(models::set_tags)),
        ("logged-models/{model_id}/tags/{tag_key}", delete(models::delete_tag)),
        ("logged-models/{model_id}/params", post(models::log_params)),
        ("logged-models/{model_id}/artifacts/directories", get(models::list_artifacts)),
        ("registered-models/create", post(registry::create_model)),
        ("registered-models/rename", post(registry::rename_model)),
        ("registered-models/update", patch(registry::update_model)),
        ("registered-models/delete", delete(registry::delete_model)),
        ("registered-models/get", get(registry::get_model)),
        ("registered-models/search", get(registry::search_models)),
        ("registered-models/get-latest-versions", post(registry::latest_versions).get(registry::latest_versions)),
        ("registered-models/set-tag", post(registry::set_model_tag)),
        ("registered-models/delete-tag", delete(registry::delete_model_tag)),
        (
            "registered-models/alias",
            post(registry::set_alias).delete(registry::delete_alias).get(registry::get_by_alias),
        ),
        ("model-versions/create", post(registry::create_version)),
        ("model-versions/update", patch(registry::update_version)),
        ("model-versions/transition-stage", post(registry::transition_stage)),
        ("model-versions/delete", delete(registry::delete_version)),
        ("model-versions/get", get(registry::get_version)),
        ("model-versions/search", get(registry::search_versions)),
        ("model-versions/get-download-uri", get(registry::download_uri_of)),
        ("model-versions/set-tag", post(registry::set_version_tag)),
        ("model-versions/delete-tag", delete(registry::delete_version_tag)),
    ];
    for prefix in ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"] {
        for (path, handler) in &tracking {
            r = r.route(&format!("{prefix}/{path}"), handler.clone());
        }
        r = r.route(&format!("{prefix}/{{*rest}}"), any(unknown_endpoint));
    }
    for prefix in ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"] {
        r = r
            .route(&format!("{prefix}/artifacts"), get(artifacts::list))
            .route(
                &format!("{prefix}/artifacts/{{*path}}"),
                get(artifacts::download)
                    .put(artifacts::upload)
                    .delete(artifacts::delete)
                    .layer(axum::extract::DefaultBodyLimit::disable()),
            )
            .route(&format!("{prefix}/{{*rest}}"), any(unknown_endpoint));
    }
    r
}

async fn unknown_endpoint(uri: Uri) -> ApiError {
    tracing::warn!(path = %uri.path(), "MLflow endpoint not implemented");
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ENDPOINT_NOT_FOUND",
        format!("`{}` is not part of the MLflow API this server implements", uri.path()),
    )
}

/// MLflow's `{"key": …, "value": …}` pair.
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

fn key_values(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<Value> {
    pairs.into_iter().map(|(key, value)| serde_json::json!({ "key": key, "value": value })).collect()
}

/// Inserts `key: value` into `obj` unless `value` is an empty array or object (MLflow leaves
/// empty fields out).
fn put(obj: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Null => true,
        _ => false,
    };
    if !empty {
        obj.insert(key.to_string(), value);
    }
}

/// An f64 as MLflow's JSON writes it: a number, or "NaN"/"Infinity"/"-Infinity".
fn float(v: f64) -> Value {
    trackbench_store::json_f64::value(v)
}

/// Serializes an f64 like [`float`] without building a `Value`.
fn ser_float<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_str(trackbench_store::json_f64::text(*v)) }
}

/// An int64 sent as a JSON number or as a string holding one (protobuf's JSON form).
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrText {
        Int(i64),
        Float(f64),
        Text(String),
    }
    Ok(match Option::<NumOrText>::deserialize(d)? {
        None => None,
        Some(NumOrText::Int(v)) => Some(v),
        Some(NumOrText::Float(v)) if v.fract() == 0.0 && v.abs() < 9.2e18 => Some(v as i64),
        Some(NumOrText::Float(v)) => return Err(serde::de::Error::custom(format!("{v} is not an integer"))),
        Some(NumOrText::Text(s)) => {
            Some(s.trim().parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not an integer")))?)
        }
    })
}

/// The experiment id MLflow shows for a project.
pub fn experiment_id(p: &ProjectInfo) -> String {
    if p.name == DEFAULT_EXPERIMENT { "0".to_string() } else { p.id.to_string() }
}

/// The project behind experiment `id` (creating `Default` for `"0"` when `create` is set).
fn project_for(st: &mut dyn Backend, id: &str, create: bool) -> ApiResult<ProjectInfo> {
    if id == "0" && create {
        st.ensure_project(DEFAULT_EXPERIMENT)?;
    }
    experiment_project(st, id)
}

/// The project behind experiment `id`, as MLflow's 404 when there is none.
fn experiment_project(st: &dyn Backend, id: &str) -> ApiResult<ProjectInfo> {
    let missing = || ApiError::not_found(format!("No Experiment with id={id} exists"));
    if id == "0" {
        return st.project(DEFAULT_EXPERIMENT).map_err(|_| missing());
    }
    let n: i64 = id.trim().parse().map_err(|_| missing())?;
    match st.project_by_id(n) {
        Ok(p) => Ok(p),
        Err(StoreError::ProjectNotFound(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}

/// MLflow's status name for ours.
fn status_name(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "RUNNING",
        RunStatus::Finished => "FINISHED",
        RunStatus::Failed | RunStatus::Crashed => "FAILED",
        RunStatus::Killed => "KILLED",
    }
}

/// `run_id`, or the deprecated `run_uuid`; one is required.
fn run_id_of(run_id: Option<String>, run_uuid: Option<String>) -> ApiResult<String> {
    run_id
        .filter(|s| !s.is_empty())
        .or(run_uuid.filter(|s| !s.is_empty()))
        .ok_or_else(|| ApiError::invalid("Missing value for required parameter 'run_id'"))
}

/// Run `id`, as MLflow's 404 when it does not exist.
fn find_run(st: &dyn Backend, id: &str) -> ApiResult<RunInfo> {
    match st.run(id) {
        Ok(r) => Ok(r),
        Err(StoreError::RunNotFound(_)) => Err(ApiError::not_found(format!("Run with id={id} not found"))),
        Err(e) => Err(e.into()),
    }
}

/// Run `id`, which must not be deleted (MLflow refuses writes to deleted runs).
fn active_run(st: &dyn Backend, id: &str) -> ApiResult<RunInfo> {
    let run = find_run(st, id)?;
    if run.deleted {
        return Err(ApiError::invalid(format!(
            "The run {id} must be in the 'active' state. Current state is deleted."
        )));
    }
    Ok(run)
}

fn empty() -> AppJson {
    axum::Json(Value::Object(Default::default()))
}

/// A page token: the offset into the result list, as text. One this server cannot have
/// written (not a number, or past [`crate::api::MAX_OFFSET`]) is MLflow's
/// `INVALID_PARAMETER_VALUE`, so offset + page size can never overflow.
fn parse_page_token(token: Option<&str>) -> ApiResult<usize> {
    match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(0),
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= crate::api::MAX_OFFSET)
            .ok_or_else(|| ApiError::invalid(format!("Invalid page token `{t}`"))),
    }
}
