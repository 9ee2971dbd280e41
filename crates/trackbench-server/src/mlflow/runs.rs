//! MLflow runs: create, update, get, delete, restore, search; logging metrics, params, tags
//! and dataset inputs; metric history (whole, paged, and sampled across runs).
//!
//! Every log call goes through [`apply`], which checks MLflow's batch limits, refuses a param
//! whose value differs from the one logged before (the whole request then stores nothing), and
//! writes the rest as one store batch (which also records the run's heartbeat).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use trackbench_query::{Attribute, Expr, Field, Literal};
use trackbench_store::{Batch, NewRun, Points, RunInfo, RunQuery, RunStatus, SeriesBatch, StepRange, Store};

use super::experiments::ViewType;
use super::{
    AppJson, KeyValue, active_run, empty, experiment_id, find_run, float, key_values, parse_page_token, project_for,
    put, run_id_of, ser_float, status_name,
};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Tag holding a run's display name in MLflow.
pub const RUN_NAME_TAG: &str = "mlflow.runName";
/// Tag holding the user who created a run.
pub const USER_TAG: &str = "mlflow.user";

const MAX_METRICS: usize = 1000;
const MAX_PARAMS_TAGS: usize = 100;
const MAX_ENTITIES: usize = 1000;
const MAX_KEY: usize = 250;
const MAX_PARAM_VALUE: usize = 6000;
const MAX_TAG_VALUE: usize = 8000;

/// The text of a stored param (MLflow params are strings; ours may be any JSON scalar).
fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Caches experiment ids by project name while building several runs.
#[derive(Default)]
pub struct ExpIds(HashMap<String, String>);

impl ExpIds {
    pub(super) fn get(&mut self, st: &Store, project: &str) -> ApiResult<String> {
        if let Some(id) = self.0.get(project) {
            return Ok(id.clone());
        }
        let id = experiment_id(&st.project(project)?);
        self.0.insert(project.to_string(), id.clone());
        Ok(id)
    }
}

/// MLflow's `RunInfo`.
fn info_json(run: &RunInfo, exp_id: &str, user: Option<&str>) -> Value {
    let mut obj = serde_json::Map::new();
    obj.insert("run_id".into(), json!(run.id));
    obj.insert("run_uuid".into(), json!(run.id));
    obj.insert("run_name".into(), json!(run.name));
    obj.insert("experiment_id".into(), json!(exp_id));
    if let Some(u) = user {
        obj.insert("user_id".into(), json!(u));
    }
    obj.insert("status".into(), json!(status_name(run.status)));
    obj.insert("start_time".into(), json!(run.started_ms));
    if let Some(end) = run.ended_ms {
        obj.insert("end_time".into(), json!(end));
    }
    obj.insert("artifact_uri".into(), json!(format!("mlflow-artifacts:/{exp_id}/{}/artifacts", run.id)));
    obj.insert("lifecycle_stage".into(), json!(if run.deleted { "deleted" } else { "active" }));
    Value::Object(obj)
}

/// The run's tags as MLflow shows them: `mlflow.runName` always holds the current name.
fn run_tags(st: &Store, run: &RunInfo) -> ApiResult<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = st.tags(&run.id)?.into_iter().filter(|(k, _)| k != RUN_NAME_TAG).collect();
    tags.push((RUN_NAME_TAG.to_string(), run.name.clone()));
    Ok(tags)
}

fn run_info_only(st: &Store, run: &RunInfo, exps: &mut ExpIds) -> ApiResult<Value> {
    let exp = exps.get(st, &run.project)?;
    let tags = st.tags(&run.id)?;
    let user = tags.iter().find(|(k, _)| k == USER_TAG).map(|(_, v)| v.as_str());
    Ok(info_json(run, &exp, user))
}

/// MLflow's `Run`: info, data (latest metrics, params, tags) and inputs.
pub fn run_json(st: &Store, run: &RunInfo, exps: &mut ExpIds) -> ApiResult<Value> {
    let exp = exps.get(st, &run.project)?;
    let tags = run_tags(st, run)?;
    let user = tags.iter().find(|(k, _)| k == USER_TAG).map(|(_, v)| v.clone());
    let metrics: Vec<Value> = st
        .metric_summaries(&run.id)?
        .iter()
        .map(|m| json!({ "key": m.key, "value": float(m.last), "timestamp": m.last_wall_ms, "step": m.last_step }))
        .collect();
    let params: Vec<Value> =
        st.params(&run.id)?.into_iter().map(|(k, v)| json!({ "key": k, "value": param_text(&v) })).collect();
    let mut data = serde_json::Map::new();
    put(&mut data, "metrics", Value::Array(metrics));
    put(&mut data, "params", Value::Array(params));
    put(&mut data, "tags", Value::Array(key_values(tags)));
    let mut inputs = serde_json::Map::new();
    put(&mut inputs, "dataset_inputs", Value::Array(st.run_inputs(&run.id)?));
    Ok(json!({
        "info": info_json(run, &exp, user.as_deref()),
        "data": Value::Object(data),
        "inputs": Value::Object(inputs),
    }))
}

#[derive(Deserialize)]
pub struct CreateReq {
    experiment_id: Option<String>,
    user_id: Option<String>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    start_time: Option<i64>,
    run_name: Option<String>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

pub async fn create(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<CreateReq>) -> ApiResult<AppJson> {
    check_tags(&req.tags)?;
    let out = s
        .write(move |st| {
            let exp = req.experiment_id.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| "0".into());
            let project = project_for(st, &exp, true)?;
            if project.deleted {
                return Err(ApiError::invalid(format!(
                    "The experiment {exp} must be in the 'active' state. Current state is deleted."
                )));
            }
            let tag_name = req.tags.iter().rev().find(|t| t.key == RUN_NAME_TAG).map(|t| t.value.clone());
            let name = req.run_name.clone().filter(|n| !n.is_empty()).or(tag_name.filter(|n| !n.is_empty()));
            let mut tags: Vec<(String, String)> =
                req.tags.iter().filter(|t| t.key != RUN_NAME_TAG).map(|t| (t.key.clone(), t.value.clone())).collect();
            if let Some(u) = req.user_id.as_ref().filter(|u| !u.is_empty())
                && !tags.iter().any(|(k, _)| k == USER_TAG)
            {
                tags.push((USER_TAG.to_string(), u.clone()));
            }
            let new =
                NewRun { project: project.name.clone(), name, tags, created_ms: req.start_time, ..NewRun::default() };
            let run = st.create_run(&new)?;
            st.set_tag(&run.id, RUN_NAME_TAG, &run.name)?;
            run_json(st, &run, &mut ExpIds::default())
        })
        .await?;
    Ok(axum::Json(json!({ "run": out })))
}

#[derive(Deserialize)]
pub struct UpdateReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    status: Option<String>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    end_time: Option<i64>,
    run_name: Option<String>,
}

pub async fn update(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<UpdateReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, req.run_uuid)?;
    let status = match req.status.as_deref() {
        None | Some("") => None,
        Some("RUNNING") | Some("SCHEDULED") => Some(RunStatus::Running),
        Some("FINISHED") => Some(RunStatus::Finished),
        Some("FAILED") => Some(RunStatus::Failed),
        Some("KILLED") => Some(RunStatus::Killed),
        Some(other) => return Err(ApiError::invalid(format!("Invalid run status `{other}`"))),
    };
    let out = s
        .write(move |st| {
            let run = active_run(st, &id)?;
            if let Some(name) = req.run_name.as_deref().filter(|n| !n.is_empty()) {
                st.set_run_name(&id, name)?;
                st.set_tag(&id, RUN_NAME_TAG, name)?;
            }
            match status {
                Some(RunStatus::Running) if run.status.is_terminal() => st.resume_run(&id)?,
                Some(RunStatus::Running) | None => st.heartbeat(&id, trackbench_store::now_ms())?,
                Some(s) => st.finish_run_at(&id, s, None, req.end_time.filter(|&t| t > 0))?,
            }
            let run = st.run(&id)?;
            run_info_only(st, &run, &mut ExpIds::default())
        })
        .await?;
    Ok(axum::Json(json!({ "run_info": out })))
}

#[derive(Deserialize)]
pub struct RunIdReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
}

pub async fn get(State(s): State<Arc<AppState>>, Query(q): Query<RunIdReq>) -> ApiResult<AppJson> {
    let id = run_id_of(q.run_id, q.run_uuid)?;
    let out = s
        .read(move |st| {
            let run = find_run(st, &id)?;
            run_json(st, &run, &mut ExpIds::default())
        })
        .await?;
    Ok(axum::Json(json!({ "run": out })))
}

pub async fn delete(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<RunIdReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, req.run_uuid)?;
    s.write(move |st| {
        find_run(st, &id)?;
        Ok(st.delete_run(&id)?)
    })
    .await?;
    Ok(empty())
}

pub async fn restore(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<RunIdReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, req.run_uuid)?;
    s.write(move |st| {
        find_run(st, &id)?;
        Ok(st.restore_run(&id)?)
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct SearchReq {
    #[serde(default)]
    experiment_ids: Vec<String>,
    filter: Option<String>,
    run_view_type: Option<String>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    max_results: Option<i64>,
    #[serde(default)]
    order_by: Vec<String>,
    page_token: Option<String>,
}

/// MLflow's run filter and order are our query language, except that MLflow's
/// `attributes.user_id` (any prefix or case) is our tag `mlflow.user`.
fn mlflow_alias(name: &str) -> Option<Field> {
    name.eq_ignore_ascii_case("user_id").then(|| Field::Tag("mlflow.user".into()))
}

/// The store query of a search: the MLflow filter parsed (with [`mlflow_alias`]), scoped to
/// `projects` (one: the query's project; several: an `attributes.project in (…)` clause added
/// to the tree), and printed back for the store.
fn search_filter(filter: Option<&str>, projects: &[String]) -> ApiResult<(Option<String>, Option<String>)> {
    let invalid = |e: trackbench_query::ParseError| ApiError::invalid(format!("Invalid search: {e}"));
    let user = match filter {
        Some(f) => trackbench_query::parse_filter_with(f, &mlflow_alias).map_err(invalid)?,
        None => None,
    };
    if let [project] = projects {
        return Ok((Some(project.clone()), user.map(|e| e.to_string())));
    }
    let scope = Expr::In {
        field: Field::Attr(Attribute::Project),
        values: projects.iter().map(|p| Literal::Str(p.clone())).collect(),
        negated: false,
    };
    let expr = match user {
        Some(u) => Expr::And(Box::new(u), Box::new(scope)),
        None => scope,
    };
    Ok((None, Some(expr.to_string())))
}

/// MLflow's `order_by` clauses as the store's order-by text.
fn search_order(order_by: &[String]) -> ApiResult<Option<String>> {
    if order_by.is_empty() {
        return Ok(None);
    }
    let terms = trackbench_query::parse_order_by_with(&order_by.join(", "), &mlflow_alias)
        .map_err(|e| ApiError::invalid(format!("Invalid order_by: {e}")))?;
    Ok(Some(terms.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")))
}

pub async fn search(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<SearchReq>) -> ApiResult<AppJson> {
    let max = req.max_results.unwrap_or(1000);
    if !(1..=50_000).contains(&max) {
        return Err(ApiError::invalid(format!(
            "Invalid value {max} for parameter 'max_results': must be in 1..=50000"
        )));
    }
    let max = max as usize;
    let view = ViewType::parse(req.run_view_type.as_deref())?;
    let offset = parse_page_token(req.page_token.as_deref())?;
    let out = s
        .read(move |st| {
            let mut projects = Vec::new();
            for e in &req.experiment_ids {
                match project_for(st, e, false) {
                    Ok(p) => projects.push(p.name),
                    Err(e) if e.code == "RESOURCE_DOES_NOT_EXIST" => {}
                    Err(e) => return Err(e),
                }
            }
            if projects.is_empty() {
                return Ok(json!({}));
            }
            let (project, filter) = search_filter(req.filter.as_deref(), &projects)?;
            let order_by = search_order(&req.order_by)?;
            let mut query = RunQuery {
                project,
                filter,
                order_by,
                limit: Some(offset.saturating_add(max).saturating_add(1)),
                offset: 0,
                include_deleted: view != ViewType::Active,
            };
            if view == ViewType::Deleted {
                query.limit = None;
            }
            let runs = st.list_runs(&query).map_err(|e| match e {
                trackbench_store::StoreError::Filter(_) | trackbench_store::StoreError::Invalid { .. } => {
                    ApiError::invalid(format!("Invalid search: {e}"))
                }
                e => e.into(),
            })?;
            let runs: Vec<RunInfo> = runs.into_iter().filter(|r| view.keeps(r.deleted)).collect();
            let more = runs.len() > offset.saturating_add(max);
            let mut exps = ExpIds::default();
            let page: Vec<Value> =
                runs.iter().skip(offset).take(max).map(|r| run_json(st, r, &mut exps)).collect::<ApiResult<_>>()?;
            let mut obj = serde_json::Map::new();
            put(&mut obj, "runs", Value::Array(page));
            if more {
                obj.insert("next_page_token".into(), json!(offset.saturating_add(max).to_string()));
            }
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

/// One metric value as the client sends it.
#[derive(Deserialize)]
pub struct MetricIn {
    #[serde(default)]
    key: String,
    #[serde(default, with = "opt_lenient")]
    value: Option<f64>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    timestamp: Option<i64>,
    #[serde(default, deserialize_with = "super::lenient_i64")]
    step: Option<i64>,
}

mod opt_lenient {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    struct W(#[serde(with = "trackbench_store::json_f64")] f64);

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

fn check_key(what: &str, key: &str) -> ApiResult<()> {
    if key.is_empty() {
        return Err(ApiError::invalid(format!("Missing value for required parameter '{what} key'")));
    }
    if key.len() > MAX_KEY {
        return Err(ApiError::invalid(format!(
            "{what} key '{}…' had length {}, which exceeded length limit of {MAX_KEY}",
            key.chars().take(40).collect::<String>(),
            key.len()
        )));
    }
    Ok(())
}

fn check_tags(tags: &[KeyValue]) -> ApiResult<()> {
    for t in tags {
        check_key("Tag", &t.key)?;
        if t.value.len() > MAX_TAG_VALUE {
            return Err(ApiError::invalid(format!(
                "Tag value for key '{}' had length {}, which exceeded length limit of {MAX_TAG_VALUE}",
                t.key,
                t.value.len()
            )));
        }
    }
    Ok(())
}

/// MLflow's batch limits and key/value lengths.
fn check_write(metrics: &[MetricIn], params: &[KeyValue], tags: &[KeyValue]) -> ApiResult<()> {
    let too_many = |n: usize, what: &str, max: usize| {
        ApiError::invalid(format!(
            "A batch logging request can contain at most {max} {what}. Got {n} {what}. \
             Please split up {what} across multiple requests and try again."
        ))
    };
    if metrics.len() > MAX_METRICS {
        return Err(too_many(metrics.len(), "metrics", MAX_METRICS));
    }
    if params.len() > MAX_PARAMS_TAGS {
        return Err(too_many(params.len(), "params", MAX_PARAMS_TAGS));
    }
    if tags.len() > MAX_PARAMS_TAGS {
        return Err(too_many(tags.len(), "tags", MAX_PARAMS_TAGS));
    }
    let total = metrics.len() + params.len() + tags.len();
    if total > MAX_ENTITIES {
        return Err(ApiError::invalid(format!(
            "A batch logging request can contain at most {MAX_ENTITIES} metrics, params, and tags in total. \
             Got {total} in total."
        )));
    }
    for m in metrics {
        check_key("Metric", &m.key)?;
        if m.value.is_none() {
            return Err(ApiError::invalid(format!(
                "Missing value for required parameter 'value' of metric `{}`",
                m.key
            )));
        }
    }
    for p in params {
        check_key("Param", &p.key)?;
        if p.value.len() > MAX_PARAM_VALUE {
            return Err(ApiError::invalid(format!(
                "Param value for key '{}' had length {}, which exceeded length limit of {MAX_PARAM_VALUE}",
                p.key,
                p.value.len()
            )));
        }
    }
    check_tags(tags)
}

/// Logs metrics, params and tags into run `id` as one store batch; see the module docs.
async fn apply(
    s: &Arc<AppState>,
    id: String,
    metrics: Vec<MetricIn>,
    params: Vec<KeyValue>,
    tags: Vec<KeyValue>,
) -> ApiResult<AppJson> {
    check_write(&metrics, &params, &tags)?;
    s.write(move |st| {
        active_run(st, &id)?;
        let mut batch = Batch::default();
        if !params.is_empty() {
            let old: HashMap<String, Value> = st.params(&id)?.into_iter().collect();
            let mut new: HashMap<&str, &str> = HashMap::new();
            for p in &params {
                let prev = old.get(&p.key).map(param_text);
                let prev = prev.as_deref().or_else(|| new.get(p.key.as_str()).copied());
                match prev {
                    Some(v) if v == p.value => {}
                    Some(v) => {
                        return Err(ApiError::invalid(format!(
                            "Changing param values is not allowed. Param with key='{}' was already logged with \
                             value='{v}' for run ID='{id}'. Attempted logging new value '{}'.",
                            p.key, p.value
                        )));
                    }
                    None => {
                        new.insert(&p.key, &p.value);
                        batch.params.push((p.key.clone(), Value::String(p.value.clone())));
                    }
                }
            }
        }
        let now = trackbench_store::now_ms();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for m in &metrics {
            let i = *index.entry(&m.key).or_insert_with(|| {
                batch.series.push(SeriesBatch { key: m.key.clone(), points: Points::default() });
                batch.series.len() - 1
            });
            batch.series[i].points.push(m.step.unwrap_or(0), m.timestamp.unwrap_or(now), m.value.unwrap_or(f64::NAN));
        }
        let mut rename = None;
        for t in &tags {
            if t.key == RUN_NAME_TAG {
                rename = Some(t.value.clone());
            }
            batch.tags.push((t.key.clone(), t.value.clone()));
        }
        let report = st.log_batch(&id, &batch)?;
        if let Some(r) = report.rejected.first() {
            return Err(ApiError::invalid(format!("Invalid {} `{}`: {}", r.what, r.key, r.reason)));
        }
        if let Some(name) = rename.filter(|n| !n.trim().is_empty()) {
            st.set_run_name(&id, &name)?;
        }
        Ok(())
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct LogMetricReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(flatten)]
    metric: MetricIn,
}

pub async fn log_metric(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<LogMetricReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, req.run_uuid)?;
    apply(&s, id, vec![req.metric], Vec::new(), Vec::new()).await
}

#[derive(Deserialize)]
pub struct KeyValueReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: Option<Value>,
}

impl KeyValueReq {
    fn pair(self) -> ApiResult<(String, KeyValue)> {
        let id = run_id_of(self.run_id, self.run_uuid)?;
        let value = match self.value {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        Ok((id, KeyValue { key: self.key, value }))
    }
}

pub async fn log_param(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<KeyValueReq>) -> ApiResult<AppJson> {
    let (id, kv) = req.pair()?;
    apply(&s, id, Vec::new(), vec![kv], Vec::new()).await
}

pub async fn set_tag(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<KeyValueReq>) -> ApiResult<AppJson> {
    let (id, kv) = req.pair()?;
    apply(&s, id, Vec::new(), Vec::new(), vec![kv]).await
}

#[derive(Deserialize)]
pub struct LogBatchReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    metrics: Vec<MetricIn>,
    #[serde(default)]
    params: Vec<KeyValue>,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

pub async fn log_batch(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<LogBatchReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, req.run_uuid)?;
    apply(&s, id, req.metrics, req.params, req.tags).await
}

pub async fn delete_tag(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<KeyValueReq>) -> ApiResult<AppJson> {
    let (id, kv) = req.pair()?;
    s.write(move |st| {
        active_run(st, &id)?;
        if !st.remove_tag(&id, &kv.key)? {
            return Err(ApiError::not_found(format!("No tag with name: {} in run with id {id}", kv.key)));
        }
        st.heartbeat(&id, trackbench_store::now_ms())?;
        Ok(())
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct LogInputsReq {
    run_id: Option<String>,
    #[serde(default)]
    datasets: Vec<Value>,
}

/// Records dataset inputs (MLflow's `DatasetInput`, kept as sent), one per name and digest.
pub async fn log_inputs(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<LogInputsReq>) -> ApiResult<AppJson> {
    let id = run_id_of(req.run_id, None)?;
    if req.datasets.len() > 1000 {
        return Err(ApiError::invalid("A log-inputs request can contain at most 1000 datasets"));
    }
    let mut inputs = Vec::with_capacity(req.datasets.len());
    for d in req.datasets {
        let ds = &d["dataset"];
        let (Some(name), Some(digest)) = (ds["name"].as_str(), ds["digest"].as_str()) else {
            return Err(ApiError::invalid("Each dataset input needs `dataset.name` and `dataset.digest`"));
        };
        if name.len() > 500 || digest.len() > 36 {
            return Err(ApiError::invalid("Dataset name is limited to 500 characters and digest to 36"));
        }
        let key = blake3::hash(format!("{name}\0{digest}").as_bytes()).to_hex().to_string();
        inputs.push((key, d));
    }
    s.write(move |st| {
        active_run(st, &id)?;
        st.add_run_inputs(&id, &inputs)?;
        st.heartbeat(&id, trackbench_store::now_ms())?;
        Ok(())
    })
    .await?;
    Ok(empty())
}

/// One point of a history answer.
#[derive(Serialize)]
struct MetricOut<'a> {
    key: &'a str,
    #[serde(serialize_with = "ser_float")]
    value: f64,
    timestamp: i64,
    step: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
}

#[derive(Deserialize)]
pub struct HistoryReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    #[serde(default)]
    metric_key: String,
    page_token: Option<String>,
    max_results: Option<String>,
}

/// `metrics/get-history`: every point of one series in logging order (by step), or one page
/// when `max_results` is given.
pub async fn get_history(
    State(s): State<Arc<AppState>>,
    Query(q): Query<HistoryReq>,
) -> ApiResult<axum::response::Response> {
    let id = run_id_of(q.run_id, q.run_uuid)?;
    if q.metric_key.is_empty() {
        return Err(ApiError::invalid("Missing value for required parameter 'metric_key'"));
    }
    let max = match q.max_results.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=25_000).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::invalid(format!(
                    "Invalid value {m} for parameter 'max_results': must be in 1..=25000"
                )));
            }
        },
    };
    let offset = parse_page_token(q.page_token.as_deref())?;
    let body = s
        .read(move |st| {
            find_run(st, &id)?;
            let points = st.series(&id, &q.metric_key, StepRange::ALL)?;
            let end = max.map_or(points.len(), |m| offset.saturating_add(m).min(points.len()));
            let start = offset.min(end);
            let metrics: Vec<MetricOut> = (start..end)
                .map(|i| MetricOut {
                    key: &q.metric_key,
                    value: points.values[i],
                    timestamp: points.wall_ms[i],
                    step: points.steps[i],
                    run_id: None,
                })
                .collect();
            #[derive(Serialize)]
            struct Page<'a> {
                #[serde(skip_serializing_if = "Vec::is_empty")]
                metrics: Vec<MetricOut<'a>>,
                #[serde(skip_serializing_if = "Option::is_none")]
                next_page_token: Option<String>,
            }
            let next = (end < points.len()).then(|| end.to_string());
            serde_json::to_vec(&Page { metrics, next_page_token: next }).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(json_response(body))
}

fn json_response(body: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `metrics/get-history-bulk-interval`: one series of up to 100 runs, sampled to at most
/// `max_results` steps (default and limit 2500) spread evenly over the steps any of the runs
/// logged, always keeping the first and the last.
pub async fn get_history_bulk_interval(
    State(s): State<Arc<AppState>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<axum::response::Response> {
    let mut run_ids = Vec::new();
    let (mut key, mut start, mut end, mut max) = (String::new(), None, None, 2500usize);
    let int = |name: &str, v: &str| -> ApiResult<i64> {
        v.trim().parse().map_err(|_| ApiError::invalid(format!("Invalid value {v} for parameter '{name}'")))
    };
    for (k, v) in pairs {
        match k.as_str() {
            "run_ids" | "run_ids[]" => run_ids.push(v),
            "metric_key" => key = v,
            "start_step" => start = Some(int("start_step", &v)?),
            "end_step" => end = Some(int("end_step", &v)?),
            "max_results" => {
                let n = int("max_results", &v)?;
                if !(1..=2500).contains(&n) {
                    return Err(ApiError::invalid("max_results must be between 1 and 2500."));
                }
                max = n as usize;
            }
            _ => {}
        }
    }
    if run_ids.is_empty() {
        return Err(ApiError::invalid("Missing value for required parameter 'run_ids'"));
    }
    if run_ids.len() > 100 {
        return Err(ApiError::invalid(format!(
            "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received {} run_ids.",
            run_ids.len()
        )));
    }
    if key.is_empty() {
        return Err(ApiError::invalid("Missing value for required parameter 'metric_key'"));
    }
    let range = match (start, end) {
        (Some(a), Some(b)) if a > b => {
            return Err(ApiError::invalid(format!(
                "end_step must be greater than start_step. Found start_step={a} and end_step={b}."
            )));
        }
        (Some(a), Some(b)) => StepRange { min: Some(a), max: Some(b) },
        (None, None) => StepRange::ALL,
        _ => return Err(ApiError::invalid("If either start step or end step are specified, both must be specified.")),
    };
    let body = s
        .read(move |st| {
            let mut series = Vec::with_capacity(run_ids.len());
            for id in &run_ids {
                find_run(st, id)?;
                series.push(st.series(id, &key, range)?);
            }
            let steps: BTreeSet<i64> = series.iter().flat_map(|p| p.steps.iter().copied()).collect();
            let keep: BTreeSet<i64> = if steps.len() <= max {
                steps
            } else {
                let all: Vec<i64> = steps.into_iter().collect();
                let n = all.len();
                if max == 1 { [all[n - 1]].into() } else { (0..max).map(|i| all[i * (n - 1) / (max - 1)]).collect() }
            };
            let mut metrics = Vec::new();
            for (id, p) in run_ids.iter().zip(&series) {
                for i in 0..p.len() {
                    if keep.contains(&p.steps[i]) {
                        metrics.push(MetricOut {
                            key: &key,
                            value: p.values[i],
                            timestamp: p.wall_ms[i],
                            step: p.steps[i],
                            run_id: Some(id),
                        });
                    }
                }
            }
            let body = if metrics.is_empty() { json!({}) } else { json!({ "metrics": metrics }) };
            serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    Ok(json_response(body))
}

#[cfg(test)]
mod tests {
    use trackbench_query::{parse_filter, parse_order_by};

    use super::{search_filter, search_order};

    #[test]
    fn user_id_becomes_the_user_tag_on_the_parsed_tree() {
        let one = ["p".to_string()];
        let check = |src: &str, ours: &str| {
            let (project, printed) = search_filter(Some(src), &one).unwrap();
            assert_eq!(project.as_deref(), Some("p"));
            assert_eq!(parse_filter(&printed.unwrap()).unwrap(), parse_filter(ours).unwrap(), "{src}");
        };
        check("attributes.user_id = 'ada'", "tags.`mlflow.user` = 'ada'");
        check("user_id='ada' and params.user_id = 'x'", "tags.`mlflow.user`='ada' and params.user_id = 'x'");
        check("tags.user_id = 'user_id'", "tags.user_id = 'user_id'");
        check(r#"tags."it''s" = 'user_id ''q'''"#, r#"tags."it''s" = 'user_id ''q'''"#);
        check("metrics.`user_id` > 1", "metrics.`user_id` > 1");
        check("Attribute.User_Id LIKE 'a%'", "tags.`mlflow.user` LIKE 'a%'");
        assert!(search_filter(Some("attributes.nope = 1"), &one).is_err(), "unknown attributes stay errors");
        assert!(search_filter(Some("metrics.a >"), &one).is_err());
        assert_eq!(search_filter(Some("  "), &one).unwrap(), (Some("p".into()), None));
    }

    #[test]
    fn several_experiments_scope_the_tree_not_the_text() {
        let two = ["a'b".to_string(), "c) or (1 = 1".to_string()];
        let (project, printed) = search_filter(Some("metrics.x > 1 or user_id = 'u'"), &two).unwrap();
        assert_eq!(project, None);
        let want = r#"(metrics.x > 1 or tags.`mlflow.user` = 'u') and attributes.project in ('a''b', 'c) or (1 = 1')"#;
        assert_eq!(parse_filter(&printed.unwrap()).unwrap(), parse_filter(want).unwrap());
        let order = search_order(&["user_id DESC".into(), "metrics.x".into()]).unwrap().unwrap();
        assert_eq!(parse_order_by(&order).unwrap(), parse_order_by("tags.`mlflow.user` desc, metrics.x").unwrap());
        assert_eq!(search_order(&[]).unwrap(), None);
    }
}
