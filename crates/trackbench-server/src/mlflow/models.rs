//! MLflow 3 logged models: create, get, finalize, delete, search, tags, params, the artifact
//! listing, and `runs/outputs`, over the store's logged models.
//!
//! A model's `artifact_uri` is `mlflow-artifacts:/<experiment id>/models/<model id>/artifacts`
//! (what MLflow's `--serve-artifacts` server gives), so the client uploads and downloads its
//! files through the `mlflow-artifacts` proxy ([`super::artifacts`]) and never needs storage
//! credentials. Statuses: `pending` LOGGED_MODEL_PENDING, `ready` LOGGED_MODEL_READY, `failed`
//! LOGGED_MODEL_UPLOAD_FAILED.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_query::{Attribute, Expr, Field};
use trackbench_store::prelude::*;
use trackbench_store::{LoggedModel, ModelStatus, NewLoggedModel};

use super::filter::{self, Val};
use super::runs::ExpIds;
use super::{AppJson, KeyValue, empty, find_run, float, key_values, project_for, put};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// MLflow's status name for a logged model's.
fn status_name(s: ModelStatus) -> &'static str {
    match s {
        ModelStatus::Pending => "LOGGED_MODEL_PENDING",
        ModelStatus::Ready => "LOGGED_MODEL_READY",
        ModelStatus::Failed => "LOGGED_MODEL_UPLOAD_FAILED",
    }
}

fn parse_status(v: &Value) -> ApiResult<ModelStatus> {
    match v {
        Value::String(s) if s == "LOGGED_MODEL_READY" => Ok(ModelStatus::Ready),
        Value::String(s) if s == "LOGGED_MODEL_UPLOAD_FAILED" => Ok(ModelStatus::Failed),
        Value::String(s) if s == "LOGGED_MODEL_PENDING" => Ok(ModelStatus::Pending),
        Value::Number(n) if n.as_u64() == Some(2) => Ok(ModelStatus::Ready),
        Value::Number(n) if n.as_u64() == Some(3) => Ok(ModelStatus::Failed),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(ModelStatus::Pending),
        other => Err(ApiError::invalid(format!("Invalid logged model status {other}"))),
    }
}

/// Where a logged model's files live, as MLflow's tracking server names it.
pub fn artifact_uri(exp_id: &str, model_id: &str) -> String {
    format!("mlflow-artifacts:/{exp_id}/models/{model_id}/artifacts")
}

/// MLflow's `LoggedModel` JSON.
pub(super) fn model_json(m: &LoggedModel, exp_id: &str) -> Value {
    let mut info = serde_json::Map::new();
    info.insert("model_id".into(), json!(m.id));
    info.insert("experiment_id".into(), json!(exp_id));
    info.insert("name".into(), json!(m.name));
    info.insert("creation_timestamp_ms".into(), json!(m.created_ms));
    info.insert("last_updated_timestamp_ms".into(), json!(m.updated_ms));
    info.insert("artifact_uri".into(), json!(artifact_uri(exp_id, &m.id)));
    info.insert("status".into(), json!(status_name(m.status)));
    put(&mut info, "model_type", json!(m.model_type));
    put(&mut info, "source_run_id", json!(m.source_run));
    put(&mut info, "status_message", json!(m.status_message));
    put(&mut info, "tags", Value::Array(key_values(m.tags.clone())));
    let mut data = serde_json::Map::new();
    put(&mut data, "params", Value::Array(key_values(m.params.clone())));
    let metrics: Vec<Value> = m
        .metrics
        .iter()
        .map(|x| {
            let mut o = serde_json::Map::new();
            o.insert("key".into(), json!(x.key));
            o.insert("value".into(), float(x.value));
            o.insert("timestamp".into(), json!(x.wall_ms));
            o.insert("step".into(), json!(x.step));
            o.insert("model_id".into(), json!(m.id));
            put(&mut o, "run_id", json!(x.run));
            Value::Object(o)
        })
        .collect();
    put(&mut data, "metrics", Value::Array(metrics));
    json!({ "info": info, "data": data })
}

/// Logged model `id` as MLflow's 404 when it does not exist (or was deleted).
pub(super) fn find_model(st: &dyn Backend, id: &str) -> ApiResult<LoggedModel> {
    st.logged_model(id).map_err(|e| match e {
        trackbench_store::StoreError::NotFound { .. } => {
            ApiError::not_found(format!("Logged model with ID '{id}' not found."))
        }
        other => other.into(),
    })
}

fn pairs(kv: Vec<KeyValue>) -> Vec<(String, String)> {
    kv.into_iter().map(|t| (t.key, t.value)).collect()
}

#[derive(Deserialize)]
pub struct CreateReq {
    experiment_id: Option<String>,
    name: Option<String>,
    model_type: Option<String>,
    source_run_id: Option<String>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

/// `POST logged-models`.
pub async fn create(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<CreateReq>) -> ApiResult<AppJson> {
    super::logging::check_tags(&req.tags)?;
    let out = s
        .write(move |st| {
            let exp = req.experiment_id.filter(|e| !e.is_empty()).unwrap_or_else(|| "0".into());
            let project = project_for(st, &exp, true)?;
            let run = match req.source_run_id.filter(|r| !r.is_empty()) {
                Some(r) => Some(find_run(st, &r)?.id),
                None => None,
            };
            let name = req.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
                let id = trackbench_store::new_run_id();
                format!("model-{}", &id[..8.min(id.len())])
            });
            let new = NewLoggedModel {
                project: project.name.clone(),
                name,
                source_run: run,
                model_type: req.model_type.filter(|t| !t.is_empty()),
                tags: pairs(req.tags),
                params: pairs(req.params),
            };
            let m = st.create_logged_model(&new)?;
            Ok(model_json(&m, &super::experiment_id(&project)))
        })
        .await?;
    Ok(axum::Json(json!({ "model": out })))
}

/// `GET logged-models/{id}`.
pub async fn get(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let out = s
        .read(move |st| {
            let m = find_model(st, &id)?;
            let exp = ExpIds::default().get(st, &m.project)?;
            Ok(model_json(&m, &exp))
        })
        .await?;
    Ok(axum::Json(json!({ "model": out })))
}

/// `DELETE logged-models/{id}`.
pub async fn delete(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    s.write(move |st| {
        find_model(st, &id)?;
        Ok(st.delete_logged_model(&id)?)
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct FinalizeReq {
    status: Option<Value>,
}

/// `PATCH logged-models/{id}`: the model's files are in (or failed).
pub async fn finalize(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<FinalizeReq>,
) -> ApiResult<AppJson> {
    let status = parse_status(req.status.as_ref().unwrap_or(&Value::Null))?;
    let out = s
        .write(move |st| {
            find_model(st, &id)?;
            let m = st.finalize_logged_model(&id, status, None)?;
            let exp = ExpIds::default().get(st, &m.project)?;
            Ok(model_json(&m, &exp))
        })
        .await?;
    Ok(axum::Json(json!({ "model": out })))
}

#[derive(Deserialize)]
pub struct TagsReq {
    #[serde(default)]
    tags: Vec<KeyValue>,
}

/// `PATCH logged-models/{id}/tags`.
pub async fn set_tags(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<TagsReq>,
) -> ApiResult<AppJson> {
    super::logging::check_tags(&req.tags)?;
    s.write(move |st| {
        find_model(st, &id)?;
        Ok(st.set_logged_model_tags(&id, &pairs(req.tags))?)
    })
    .await?;
    Ok(empty())
}

/// `DELETE logged-models/{id}/tags/{key}`.
pub async fn delete_tag(State(s): State<Arc<AppState>>, Path((id, key)): Path<(String, String)>) -> ApiResult<AppJson> {
    s.write(move |st| {
        find_model(st, &id)?;
        Ok(st.delete_logged_model_tag(&id, &key)?)
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct ParamsReq {
    #[serde(default)]
    params: Vec<KeyValue>,
}

/// `POST logged-models/{id}/params`.
pub async fn log_params(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ParamsReq>,
) -> ApiResult<AppJson> {
    s.write(move |st| {
        find_model(st, &id)?;
        Ok(st.log_logged_model_params(&id, &pairs(req.params))?)
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize, Default)]
pub struct OrderReq {
    #[serde(default)]
    field_name: String,
    #[serde(default = "yes")]
    ascending: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
pub struct SearchReq {
    #[serde(default)]
    experiment_ids: Vec<String>,
    filter: Option<String>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    max_results: Option<i64>,
    #[serde(default)]
    order_by: Vec<OrderReq>,
    page_token: Option<String>,
}

/// A logged model's value of a search field.
fn field_of(m: &LoggedModel, f: &Field) -> ApiResult<Option<Val>> {
    let num = |v: i64| Some(Val::Num(v as f64));
    let text = |v: &str| Some(Val::Text(v.to_string()));
    Ok(match (f, filter::attr_name(f)) {
        (Field::Attr(Attribute::RunName), _) | (_, Some("model_name")) => text(&m.name),
        (Field::Attr(Attribute::RunId), _) | (_, Some("model_id")) => text(&m.id),
        (Field::Attr(Attribute::Status), _) => text(status_name(m.status)),
        (Field::Attr(Attribute::Created), _)
        | (_, Some("creation_timestamp" | "creation_time" | "creation_timestamp_ms")) => num(m.created_ms),
        (_, Some("last_updated_timestamp" | "last_updated_timestamp_ms" | "last_update_time")) => num(m.updated_ms),
        (_, Some("source_run_id")) => m.source_run.as_deref().and_then(text),
        (_, Some("model_type")) => m.model_type.as_deref().and_then(text),
        (Field::Tag(k), None) => m.tags.get(k).map(|v| Val::Text(v.clone())),
        (Field::Param(k), _) => m.params.get(k).map(|v| Val::Text(v.clone())),
        // The model's latest value of the metric (greatest step, then last logged).
        (Field::Metric { key, .. }, _) => m.metrics.iter().rfind(|x| &x.key == key).map(|x| Val::Num(x.value)),
        (other, _) => {
            return Err(ApiError::invalid(format!(
                "Invalid logged model search field {}",
                filter::attr_name(other).map(str::to_string).unwrap_or_else(|| format!("{other:?}"))
            )));
        }
    })
}

/// A model with every attribute set, to check a field is searchable before any model is.
fn probe() -> LoggedModel {
    LoggedModel {
        id: "m-0".into(),
        project: String::new(),
        name: String::new(),
        source_run: Some(String::new()),
        model_type: Some(String::new()),
        status: ModelStatus::Ready,
        status_message: None,
        created_ms: 0,
        updated_ms: 0,
        tags: Default::default(),
        params: Default::default(),
        metrics: Vec::new(),
    }
}

/// Refuses a comparison MLflow's logged-model search refuses: an unknown field, a string
/// operator (LIKE, ILIKE) on a number, IN on a number.
fn check_term(e: &Expr) -> ApiResult<()> {
    let (field, op) = match e {
        Expr::Compare { field, .. } => (field, None),
        Expr::Like { field, .. } => (field, Some("LIKE")),
        Expr::In { field, .. } => (field, Some("IN")),
        Expr::IsNull { field, .. } => (field, None),
        _ => return Ok(()),
    };
    let numeric = matches!(field, Field::Metric { .. }) || matches!(field_of(&probe(), field)?, Some(Val::Num(_)));
    if let Some(op) = op
        && numeric
    {
        return Err(ApiError::invalid(format!("Invalid filter: {op} is not supported on a numeric field ({field:?})")));
    }
    Ok(())
}

/// `POST logged-models/search`: models of the experiments, filtered, ordered (newest first by
/// default) and paged.
pub async fn search(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<SearchReq>) -> ApiResult<AppJson> {
    let max = req.max_results.unwrap_or(100);
    if !(1..=50_000).contains(&max) {
        return Err(ApiError::invalid(format!("Invalid value {max} for parameter 'max_results'")));
    }
    let expr = filter::parse(req.filter.as_deref())?;
    if let Some(e) = &expr {
        for term in filter::and_terms(e)? {
            check_term(term)?;
        }
    }
    let mut order = Vec::new();
    for o in &req.order_by {
        let term = filter::parse_order(&o.field_name)?;
        if matches!(term.field, Field::Param(_)) {
            return Err(ApiError::invalid(format!("Invalid order_by field '{}': params cannot order", o.field_name)));
        }
        field_of(&probe(), &term.field)?;
        order.push((term.field, o.ascending));
    }
    // The token is bound to what is searched, so it cannot continue another search.
    let search_key = serde_json::to_string(&json!([
        req.experiment_ids,
        req.filter,
        req.order_by.iter().map(|o| (o.field_name.clone(), o.ascending)).collect::<Vec<_>>()
    ]))
    .unwrap_or_default();
    let offset = filter::parse_bound_token(req.page_token.as_deref(), &search_key)?;
    let out = s
        .read(move |st| {
            let mut ids = ExpIds::default();
            let mut projects = Vec::new();
            for e in &req.experiment_ids {
                projects.push(super::experiment_project(st, e)?.name);
            }
            let mut rows = Vec::new();
            for m in st.logged_models(&projects)? {
                if let Some(e) = &expr
                    && !filter::eval(e, &|f| field_of(&m, f))?
                {
                    continue;
                }
                rows.push(m);
            }
            let mut keyed = Vec::with_capacity(rows.len());
            for m in rows {
                let keys = order.iter().map(|(f, _)| field_of(&m, f)).collect::<ApiResult<Vec<_>>>()?;
                keyed.push((keys, m));
            }
            keyed.sort_by(|(ka, a), (kb, b)| {
                for ((x, y), (_, asc)) in ka.iter().zip(kb).zip(&order) {
                    let o = Val::order(x, y);
                    let o = if *asc { o } else { o.reverse() };
                    if o.is_ne() {
                        return o;
                    }
                }
                b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id))
            });
            let (page, next) = filter::page(keyed, offset, max as usize);
            let next = next.and_then(|n| n.parse().ok()).map(|n| filter::bound_token(n, &search_key));
            let models = page
                .iter()
                .map(|(_, m)| Ok(model_json(m, &ids.get(st, &m.project)?)))
                .collect::<ApiResult<Vec<_>>>()?;
            let mut obj = serde_json::Map::new();
            obj.insert("models".into(), Value::Array(models));
            put(&mut obj, "next_page_token", json!(next));
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
pub struct ArtifactsReq {
    artifact_directory_path: Option<String>,
}

/// `GET logged-models/{id}/artifacts/directories`: a folder of the model's files.
pub async fn list_artifacts(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ArtifactsReq>,
) -> ApiResult<AppJson> {
    let out = s
        .read(move |st| {
            let m = find_model(st, &id)?;
            let exp = ExpIds::default().get(st, &m.project)?;
            let dir = q.artifact_directory_path.unwrap_or_default();
            let dir = dir.trim_matches('/');
            let files = super::artifacts::list_dir(&st.model_artifacts(&id)?, dir, true);
            let mut obj = serde_json::Map::new();
            obj.insert("root_uri".into(), json!(artifact_uri(&exp, &id)));
            put(&mut obj, "files", Value::Array(files));
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
pub struct OutputsReq {
    run_id: Option<String>,
    #[serde(default)]
    models: Vec<ModelOutput>,
}

#[derive(Deserialize)]
pub struct ModelOutput {
    #[serde(default)]
    model_id: String,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    step: Option<i64>,
}

/// `POST runs/outputs`: the run produced these models (at these steps); `get-run` lists them.
pub async fn log_outputs(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<OutputsReq>) -> ApiResult<AppJson> {
    let run = super::run_id_of(req.run_id, None)?;
    s.write(move |st| {
        super::active_run(st, &run)?;
        let mut outputs = Vec::new();
        for o in &req.models {
            outputs.push((find_model(st, &o.model_id)?.id, o.step.unwrap_or(0)));
        }
        Ok(st.log_model_outputs(&run, &outputs)?)
    })
    .await?;
    Ok(empty())
}
