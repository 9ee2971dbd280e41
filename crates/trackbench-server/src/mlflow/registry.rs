//! The MLflow model registry (`registered-models/*`, `model-versions/*`): registered models,
//! versions, tags, aliases, legacy stages and download URIs, over the store's registry.
//!
//! A version's source is in this store (`models:/m-…`, `runs:/RUN/PATH` or the
//! `mlflow-artifacts:/…` location of either; its download URI is then the location the client
//! reads through the proxy) or on a remote object store (`s3://…`, taken as is: the client
//! reads it with its own credentials). A local path or `file:` is `INVALID_PARAMETER_VALUE`,
//! so the server never serves files it does not keep. Versions travel as strings (`"3"`), as
//! in MLflow's JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use trackbench_query::{Attribute, Field};
use trackbench_store::prelude::*;
use trackbench_store::{ModelVersion, NewModelVersion, RegisteredModel, STAGES, StoreError};

use super::filter::{self, Val};
use super::runs::ExpIds;
use super::{AppJson, KeyValue, empty, find_run, key_values, parse_page_token, put};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A request's arguments: the JSON body, or the query string when there is no body (GET, and
/// the DELETE calls some clients send without one).
async fn args<T: DeserializeOwned>(req: Request) -> ApiResult<T> {
    let uri = req.uri().clone();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map_err(|e| ApiError::invalid(format!("reading the request body: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let q = axum::extract::Query::<T>::try_from_uri(&uri).map_err(|e| ApiError::invalid(e.body_text()))?;
        return Ok(q.0);
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid(format!("Malformed request body: {e}")))
}

/// A version number sent as `"3"` or `3`.
fn version_of(v: &Option<Value>) -> ApiResult<i64> {
    let bad = || ApiError::invalid(format!("Invalid model version number {}", v.clone().unwrap_or(Value::Null)));
    match v {
        Some(Value::Number(n)) => n.as_i64().ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad()),
        _ => Err(ApiError::invalid("Missing value for required parameter 'version'")),
    }
}

fn name_of(name: &Option<String>) -> ApiResult<String> {
    match name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => Ok(name.clone().unwrap_or_default()),
        _ => Err(ApiError::invalid("Missing value for required parameter 'name'")),
    }
}

/// Store errors in MLflow's words for the registry.
fn registry_error(e: StoreError) -> ApiError {
    match &e {
        StoreError::NotFound { what: "registered model", name } => {
            ApiError::not_found(format!("Registered Model with name={name} not found"))
        }
        StoreError::AlreadyExists { name, .. } => ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "RESOURCE_ALREADY_EXISTS",
            format!("Registered Model (name={name}) already exists."),
        ),
        _ => e.into(),
    }
}

fn version_json(v: &ModelVersion) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("name".into(), json!(v.name));
    o.insert("version".into(), json!(v.version.to_string()));
    o.insert("creation_timestamp".into(), json!(v.created_ms));
    o.insert("last_updated_timestamp".into(), json!(v.updated_ms));
    o.insert("current_stage".into(), json!(v.stage));
    put(&mut o, "description", json!(v.description));
    o.insert("source".into(), json!(v.source));
    put(&mut o, "run_id", json!(v.run));
    o.insert("status".into(), json!("READY"));
    put(&mut o, "tags", Value::Array(key_values(v.tags.clone())));
    put(&mut o, "aliases", json!(v.aliases));
    put(&mut o, "model_id", json!(v.logged_model));
    Value::Object(o)
}

/// MLflow's `RegisteredModel`, with the latest version in each stage.
fn model_json(st: &dyn Backend, m: &RegisteredModel) -> ApiResult<Value> {
    let mut latest: BTreeMap<&str, ModelVersion> = BTreeMap::new();
    for v in st.model_versions(Some(&m.name))? {
        let stage = STAGES.iter().copied().find(|s| *s == v.stage).unwrap_or("None");
        latest.insert(stage, v);
    }
    let mut o = serde_json::Map::new();
    o.insert("name".into(), json!(m.name));
    o.insert("creation_timestamp".into(), json!(m.created_ms));
    o.insert("last_updated_timestamp".into(), json!(m.updated_ms));
    put(&mut o, "description", json!(m.description));
    put(&mut o, "latest_versions", Value::Array(latest.values().map(version_json).collect()));
    put(&mut o, "tags", Value::Array(key_values(m.tags.clone())));
    let aliases: Vec<Value> = m.aliases.iter().map(|(a, v)| json!({ "alias": a, "version": v.to_string() })).collect();
    put(&mut o, "aliases", Value::Array(aliases));
    Ok(Value::Object(o))
}

/// Object-store schemes a version's source may name as it is: the client reads those files
/// with its own credentials, this server never does.
const REMOTE_SCHEMES: [&str; 7] = ["s3://", "gs://", "wasbs://", "abfss://", "az://", "hdfs://", "dbfs:/"];

/// Checks a version's source and returns the (run, logged model) it names. In this store:
/// `models:/m-…`, or `runs:/RUN/PATH` or a run's `mlflow-artifacts:/` location with `run_id`
/// RUN (as MLflow requires), or a logged model's location; or a remote object store, taken as is. A local
/// path, `file:` or another web host is refused, as MLflow's server refuses them once it
/// serves artifacts, so this server never serves files it does not keep. No `..` anywhere.
fn check_source(st: &dyn Backend, source: &str, run_id: Option<&str>) -> ApiResult<(Option<String>, Option<String>)> {
    let bad = |why: &str| ApiError::invalid(format!("Invalid model version source '{source}': {why}"));
    if source.split(['/', '\\']).any(|seg| seg == "..") {
        return Err(bad("`..` is not allowed in a source"));
    }
    if let Some(id) = source.strip_prefix("models:/") {
        let m = super::models::find_model(st, id.trim_end_matches('/'))?;
        return Ok((m.source_run, Some(m.id)));
    }
    if let Some(rest) = source.strip_prefix("runs:/") {
        let run = rest.split('/').next().unwrap_or("");
        if run_id != Some(run) {
            return Err(bad("a runs:/ source needs run_id, the same run"));
        }
        return Ok((Some(find_run(st, run)?.id), None));
    }
    if let Some(rest) = source.strip_prefix("mlflow-artifacts:/") {
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        return match parts.as_slice() {
            [_, "models", m, "artifacts", ..] => {
                let m = super::models::find_model(st, m)?;
                Ok((m.source_run, Some(m.id)))
            }
            [_, run, "artifacts", ..] if run_id == Some(*run) => Ok((Some(find_run(st, run)?.id), None)),
            [_, _, "artifacts", ..] => Err(bad("a run's artifact location needs run_id, the run that holds it")),
            _ => Err(bad("not the location of a run's or a logged model's artifacts")),
        };
    }
    if REMOTE_SCHEMES.iter().any(|p| source.starts_with(p)) {
        return Ok((None, None));
    }
    Err(bad("it must be in this server's store (models:/<model id>, runs:/<run id>/<path>, or an \
         mlflow-artifacts:/ location) or on a remote object store (s3://, gs://, …); local paths are refused"))
}

/// Where a version's files are, as the client downloads them.
fn download_uri(st: &dyn Backend, v: &ModelVersion) -> ApiResult<String> {
    if let Some(m) = &v.logged_model {
        let m = super::models::find_model(st, m)?;
        return Ok(super::models::artifact_uri(&ExpIds::default().get(st, &m.project)?, &m.id));
    }
    if let Some(rest) = v.source.strip_prefix("runs:/") {
        let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
        let r = find_run(st, run)?;
        let exp = ExpIds::default().get(st, &r.project)?;
        let path = path.trim_matches('/');
        let tail = if path.is_empty() { String::new() } else { format!("/{path}") };
        return Ok(format!("mlflow-artifacts:/{exp}/{}/artifacts{tail}", r.id));
    }
    Ok(v.source.clone())
}

#[derive(Deserialize)]
pub struct CreateModelReq {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

fn pairs(kv: Vec<KeyValue>) -> Vec<(String, String)> {
    kv.into_iter().map(|t| (t.key, t.value)).collect()
}

/// `POST registered-models/create`.
pub async fn create_model(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: CreateModelReq = args(req).await?;
    let name = name_of(&req.name)?;
    super::logging::check_tags(&req.tags)?;
    let out = s
        .write(move |st| {
            let m = st
                .create_registered_model(&name, req.description.as_deref(), &pairs(req.tags))
                .map_err(registry_error)?;
            model_json(st, &m)
        })
        .await?;
    Ok(axum::Json(json!({ "registered_model": out })))
}

#[derive(Deserialize)]
pub struct NameReq {
    name: Option<String>,
    new_name: Option<String>,
    description: Option<String>,
    key: Option<String>,
    value: Option<String>,
    alias: Option<String>,
    version: Option<Value>,
    stage: Option<String>,
    #[serde(default)]
    archive_existing_versions: Option<Value>,
    #[serde(default)]
    stages: Vec<String>,
}

/// `GET registered-models/get`.
pub async fn get_model(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let out = s
        .read(move |st| {
            let m = st.registered_model(&name).map_err(registry_error)?;
            model_json(st, &m)
        })
        .await?;
    Ok(axum::Json(json!({ "registered_model": out })))
}

/// `POST registered-models/rename`.
pub async fn rename_model(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let new_name =
        name_of(&req.new_name).map_err(|_| ApiError::invalid("Missing value for required parameter 'new_name'"))?;
    let out = s
        .write(move |st| {
            let m = st.rename_registered_model(&name, &new_name).map_err(registry_error)?;
            model_json(st, &m)
        })
        .await?;
    Ok(axum::Json(json!({ "registered_model": out })))
}

/// `PATCH registered-models/update`: the description.
pub async fn update_model(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let out = s
        .write(move |st| {
            let m = st.update_registered_model(&name, req.description.as_deref()).map_err(registry_error)?;
            model_json(st, &m)
        })
        .await?;
    Ok(axum::Json(json!({ "registered_model": out })))
}

/// `DELETE registered-models/delete`: the model with its versions.
pub async fn delete_model(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    s.write(move |st| st.delete_registered_model(&name).map_err(registry_error)).await?;
    Ok(empty())
}

/// `POST registered-models/set-tag`.
pub async fn set_model_tag(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let (key, value) = (req.key.unwrap_or_default(), req.value.unwrap_or_default());
    super::logging::check_tags(&[KeyValue { key: key.clone(), value: value.clone() }])?;
    s.write(move |st| st.set_registered_model_tag(&name, &key, &value).map_err(registry_error)).await?;
    Ok(empty())
}

/// `DELETE registered-models/delete-tag`.
pub async fn delete_model_tag(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let key = req.key.unwrap_or_default();
    s.write(move |st| st.delete_registered_model_tag(&name, &key).map_err(registry_error)).await?;
    Ok(empty())
}

/// A search's `max_results`, `order_by` and `page_token` from query pairs.
struct SearchArgs {
    filter: Option<String>,
    max: usize,
    order: Vec<String>,
    offset: usize,
}

fn search_args(pairs: Vec<(String, String)>, default_max: usize, limit: usize) -> ApiResult<SearchArgs> {
    let mut a = SearchArgs { filter: None, max: default_max, order: Vec::new(), offset: 0 };
    for (k, v) in pairs {
        match k.as_str() {
            "filter" => a.filter = Some(v),
            "max_results" => {
                a.max = v.trim().parse().map_err(|_| ApiError::invalid(format!("Invalid max_results '{v}'")))?;
            }
            "order_by" => a.order.push(v),
            "page_token" => a.offset = parse_page_token(Some(&v))?,
            _ => {}
        }
    }
    if a.max == 0 || a.max > limit {
        return Err(ApiError::invalid(format!(
            "Invalid value for max_results. It must be at most {limit}, but got value {}",
            a.max
        )));
    }
    Ok(a)
}

/// Sorts `rows` by the order-by terms (then by `tie`), resolving fields with `field`.
fn sort_rows<T>(
    rows: Vec<T>,
    order: &[String],
    field: &dyn Fn(&T, &Field) -> ApiResult<Option<Val>>,
    tie: &dyn Fn(&T, &T) -> std::cmp::Ordering,
) -> ApiResult<Vec<T>> {
    let terms = order.iter().map(|t| filter::parse_order(t)).collect::<ApiResult<Vec<_>>>()?;
    let mut keyed = Vec::with_capacity(rows.len());
    for r in rows {
        let keys = terms.iter().map(|t| field(&r, &t.field)).collect::<ApiResult<Vec<_>>>()?;
        keyed.push((keys, r));
    }
    keyed.sort_by(|(ka, a), (kb, b)| {
        for ((x, y), t) in ka.iter().zip(kb).zip(&terms) {
            let o = Val::order(x, y);
            let o = if t.descending { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        tie(a, b)
    });
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

/// MLflow's tag marking a registered prompt (not a model); its client excludes prompts from
/// every registry search with `tags.mlflow.prompt.is_prompt != 'true'`.
const IS_PROMPT_TAG: &str = "mlflow.prompt.is_prompt";

/// A tag's value for a filter; a model without the prompt tag reads as `false` there, as
/// MLflow's registry treats it.
fn tag_value(tags: &BTreeMap<String, String>, key: &str) -> Option<Val> {
    match tags.get(key) {
        Some(v) => Some(Val::Text(v.clone())),
        None if key == IS_PROMPT_TAG => Some(Val::Text("false".into())),
        None => None,
    }
}

fn model_field(m: &RegisteredModel, f: &Field) -> ApiResult<Option<Val>> {
    Ok(match (f, filter::attr_name(f)) {
        (Field::Attr(Attribute::RunName), _) => Some(Val::Text(m.name.clone())),
        (Field::Attr(Attribute::Created), _) | (_, Some("creation_timestamp" | "timestamp")) => {
            Some(Val::Num(m.created_ms as f64))
        }
        (_, Some("last_updated_timestamp")) => Some(Val::Num(m.updated_ms as f64)),
        (Field::Tag(k), None) => tag_value(&m.tags, k),
        (other, _) => {
            return Err(ApiError::invalid(format!(
                "Invalid attribute key '{}' specified. Valid keys are '{{'name', 'tags'}}'",
                filter::attr_name(other).map(str::to_string).unwrap_or_else(|| format!("{other:?}"))
            )));
        }
    })
}

/// `GET registered-models/search`: filtered (`name`, `tags.<key>`), ordered (name by default)
/// and paged.
pub async fn search_models(
    State(s): State<Arc<AppState>>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> ApiResult<AppJson> {
    let a = search_args(pairs, 100, 1000)?;
    let expr = filter::parse(a.filter.as_deref())?;
    let out = s
        .read(move |st| {
            let mut rows = Vec::new();
            for m in st.registered_models()? {
                if let Some(e) = &expr
                    && !filter::eval(e, &|f| model_field(&m, f))?
                {
                    continue;
                }
                rows.push(m);
            }
            let rows = sort_rows(rows, &a.order, &model_field, &|x, y| x.name.cmp(&y.name))?;
            let (page, next) = filter::page(rows, a.offset, a.max);
            let models = page.iter().map(|m| model_json(st, m)).collect::<ApiResult<Vec<_>>>()?;
            let mut obj = serde_json::Map::new();
            put(&mut obj, "registered_models", Value::Array(models));
            put(&mut obj, "next_page_token", json!(next));
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

/// `POST registered-models/get-latest-versions`: the newest version in each stage asked for
/// (every stage when none is).
pub async fn latest_versions(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let out = s
        .read(move |st| {
            st.registered_model(&name).map_err(registry_error)?;
            let mut latest: BTreeMap<String, ModelVersion> = BTreeMap::new();
            for v in st.model_versions(Some(&name))? {
                latest.insert(v.stage.to_ascii_lowercase(), v);
            }
            let wanted: Vec<String> = req.stages.iter().map(|s| s.to_ascii_lowercase()).collect();
            for w in &wanted {
                if !STAGES.iter().any(|s| s.eq_ignore_ascii_case(w)) {
                    return Err(ApiError::invalid(format!(
                        "Invalid Model Version stage: {w}. Value must be one of {}.",
                        STAGES.join(", ")
                    )));
                }
            }
            let mut out: Vec<&ModelVersion> = latest
                .iter()
                .filter(|(stage, _)| wanted.is_empty() || wanted.contains(stage))
                .map(|(_, v)| v)
                .collect();
            out.sort_by_key(|v| v.version);
            Ok(out.into_iter().map(version_json).collect::<Vec<_>>())
        })
        .await?;
    let mut obj = serde_json::Map::new();
    put(&mut obj, "model_versions", Value::Array(out));
    Ok(axum::Json(Value::Object(obj)))
}

#[derive(Deserialize)]
pub struct CreateVersionReq {
    name: Option<String>,
    source: Option<String>,
    run_id: Option<String>,
    model_id: Option<String>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

/// `POST model-versions/create`: numbered after every version the model ever had.
pub async fn create_version(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: CreateVersionReq = args(req).await?;
    let name = name_of(&req.name)?;
    let source = req.source.clone().filter(|x| !x.trim().is_empty());
    let Some(source) = source else {
        return Err(ApiError::invalid("Missing value for required parameter 'source'"));
    };
    super::logging::check_tags(&req.tags)?;
    let out = s
        .write(move |st| {
            st.registered_model(&name).map_err(registry_error)?;
            let run_id = req.run_id.clone().filter(|r| !r.is_empty());
            let (src_run, src_model) = check_source(st, &source, run_id.as_deref())?;
            let run = match run_id {
                Some(r) => Some(find_run(st, &r)?.id),
                None => src_run,
            };
            let logged_model = match req.model_id.filter(|m| !m.is_empty()) {
                Some(m) => Some(super::models::find_model(st, &m)?.id),
                None => src_model,
            };
            let new = NewModelVersion {
                name,
                source,
                run,
                logged_model,
                description: req.description.filter(|d| !d.is_empty()),
                tags: pairs(req.tags),
            };
            let v = st.create_model_version(&new).map_err(registry_error)?;
            Ok(version_json(&v))
        })
        .await?;
    Ok(axum::Json(json!({ "model_version": out })))
}

/// The version named by a request, as MLflow's 404 when it does not exist.
fn find_version(st: &dyn Backend, name: &str, version: i64) -> ApiResult<ModelVersion> {
    st.registered_model(name).map_err(registry_error)?;
    st.model_version(name, version).map_err(|e| match e {
        StoreError::NotFound { .. } => {
            ApiError::not_found(format!("Model Version (name={name}, version={version}) not found"))
        }
        other => other.into(),
    })
}

/// `GET model-versions/get`.
pub async fn get_version(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let out = s.read(move |st| Ok(version_json(&find_version(st, &name, version)?))).await?;
    Ok(axum::Json(json!({ "model_version": out })))
}

/// `PATCH model-versions/update`: the description.
pub async fn update_version(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let out = s
        .write(move |st| {
            find_version(st, &name, version)?;
            Ok(version_json(&st.update_model_version(&name, version, req.description.as_deref())?))
        })
        .await?;
    Ok(axum::Json(json!({ "model_version": out })))
}

/// `POST model-versions/transition-stage` (MLflow's legacy stages).
pub async fn transition_stage(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let stage = req.stage.clone().unwrap_or_default();
    let archive = match &req.archive_existing_versions {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let out = s
        .write(move |st| {
            find_version(st, &name, version)?;
            Ok(version_json(&st.transition_model_version_stage(&name, version, &stage, archive)?))
        })
        .await?;
    Ok(axum::Json(json!({ "model_version": out })))
}

/// `DELETE model-versions/delete`.
pub async fn delete_version(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    s.write(move |st| {
        find_version(st, &name, version)?;
        Ok(st.delete_model_version(&name, version)?)
    })
    .await?;
    Ok(empty())
}

/// `POST model-versions/set-tag`.
pub async fn set_version_tag(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let (key, value) = (req.key.unwrap_or_default(), req.value.unwrap_or_default());
    super::logging::check_tags(&[KeyValue { key: key.clone(), value: value.clone() }])?;
    s.write(move |st| {
        find_version(st, &name, version)?;
        Ok(st.set_model_version_tag(&name, version, &key, &value)?)
    })
    .await?;
    Ok(empty())
}

/// `DELETE model-versions/delete-tag`.
pub async fn delete_version_tag(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let key = req.key.unwrap_or_default();
    s.write(move |st| {
        find_version(st, &name, version)?;
        Ok(st.delete_model_version_tag(&name, version, &key)?)
    })
    .await?;
    Ok(empty())
}

/// `GET model-versions/get-download-uri`.
pub async fn download_uri_of(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let uri = s.read(move |st| download_uri(st, &find_version(st, &name, version)?)).await?;
    Ok(axum::Json(json!({ "artifact_uri": uri })))
}

fn version_field(v: &ModelVersion, f: &Field) -> ApiResult<Option<Val>> {
    let text = |s: &str| Some(Val::Text(s.to_string()));
    Ok(match (f, filter::attr_name(f)) {
        (Field::Attr(Attribute::RunName), _) => text(&v.name),
        (Field::Attr(Attribute::RunId), _) => v.run.as_deref().and_then(text),
        (_, Some("version_number")) => Some(Val::Num(v.version as f64)),
        (_, Some("source_path")) => text(&v.source),
        (_, Some("model_id")) => v.logged_model.as_deref().and_then(text),
        (_, Some("current_stage")) => text(&v.stage),
        (Field::Attr(Attribute::Created), _) | (_, Some("creation_timestamp" | "timestamp")) => {
            Some(Val::Num(v.created_ms as f64))
        }
        (_, Some("last_updated_timestamp")) => Some(Val::Num(v.updated_ms as f64)),
        (Field::Tag(k), None) => tag_value(&v.tags, k),
        (other, _) => {
            return Err(ApiError::invalid(format!(
                "Invalid attribute key '{}' specified. Valid keys are name, run_id, source_path, \
                 version_number and tags.<key>",
                filter::attr_name(other).map(str::to_string).unwrap_or_else(|| format!("{other:?}"))
            )));
        }
    })
}

/// `GET model-versions/search`: filtered (`name`, `run_id`, `source_path`, `version_number`,
/// `tags.<key>`), ordered (newest first by default) and paged.
pub async fn search_versions(
    State(s): State<Arc<AppState>>,
    axum::extract::Query(pairs): axum::extract::Query<Vec<(String, String)>>,
) -> ApiResult<AppJson> {
    let a = search_args(pairs, 10_000, 200_000)?;
    let expr = filter::parse(a.filter.as_deref())?;
    let out = s
        .read(move |st| {
            let mut rows = Vec::new();
            for v in st.model_versions(None)? {
                if let Some(e) = &expr
                    && !filter::eval(e, &|f| version_field(&v, f))?
                {
                    continue;
                }
                rows.push(v);
            }
            let tie = |x: &ModelVersion, y: &ModelVersion| {
                y.updated_ms
                    .cmp(&x.updated_ms)
                    .then_with(|| x.name.cmp(&y.name))
                    .then_with(|| y.version.cmp(&x.version))
            };
            let rows = sort_rows(rows, &a.order, &version_field, &tie)?;
            let (page, next) = filter::page(rows, a.offset, a.max);
            let mut obj = serde_json::Map::new();
            put(&mut obj, "model_versions", Value::Array(page.iter().map(version_json).collect()));
            put(&mut obj, "next_page_token", json!(next));
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

/// `POST registered-models/alias`: points an alias at a version.
pub async fn set_alias(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let (name, version) = (name_of(&req.name)?, version_of(&req.version)?);
    let alias = req.alias.unwrap_or_default();
    s.write(move |st| {
        find_version(st, &name, version)?;
        Ok(st.set_model_alias(&name, &alias, version)?)
    })
    .await?;
    Ok(empty())
}

/// `DELETE registered-models/alias`.
pub async fn delete_alias(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let alias = req.alias.unwrap_or_default();
    s.write(move |st| st.delete_model_alias(&name, &alias).map_err(registry_error)).await?;
    Ok(empty())
}

/// `GET registered-models/alias`: the version an alias points at.
pub async fn get_by_alias(State(s): State<Arc<AppState>>, req: Request) -> ApiResult<AppJson> {
    let req: NameReq = args(req).await?;
    let name = name_of(&req.name)?;
    let alias = req.alias.unwrap_or_default();
    let out = s
        .read(move |st| {
            st.registered_model(&name).map_err(registry_error)?;
            // `latest` is the highest version; a missing alias is MLflow's invalid value.
            if alias.eq_ignore_ascii_case("latest") {
                let v = st.model_versions(Some(&name))?.pop().ok_or_else(|| {
                    ApiError::invalid(format!("Registered model {name} has no versions for alias 'latest'"))
                })?;
                return Ok(version_json(&v));
            }
            let v = st.model_version_by_alias(&name, &alias).map_err(|e| match e {
                StoreError::NotFound { .. } => ApiError::invalid(format!("Registered model alias {alias} not found.")),
                other => other.into(),
            })?;
            Ok(version_json(&v))
        })
        .await?;
    Ok(axum::Json(json!({ "model_version": out })))
}
