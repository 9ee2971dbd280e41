//! MLflow logging: metrics, params, tags (set and delete), batches and dataset inputs.
//!
//! Every log call goes through [`apply`], which checks MLflow's batch limits, refuses a param
//! whose value differs from the one logged before (the whole request then stores nothing), and
//! writes the rest as one store batch (which also records the run's heartbeat).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use trackbench_store::{Batch, Points, SeriesBatch};

use super::runs::{RUN_NAME_TAG, param_text};
use super::{AppJson, KeyValue, active_run, empty, run_id_of};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// MLflow's limits on one logging request, its keys and its values, as its server enforces them.
const MAX_METRICS: usize = 1000;
const MAX_PARAMS_TAGS: usize = 100;
const MAX_ENTITIES: usize = 1000;
const MAX_KEY: usize = 250;
const MAX_PARAM_VALUE: usize = 6000;
const MAX_TAG_VALUE: usize = 8000;

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
    /// MLflow 3: the logged model the value belongs to (it is also a value of the run's).
    #[serde(default)]
    model_id: Option<String>,
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

pub(super) fn check_tags(tags: &[KeyValue]) -> ApiResult<()> {
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
        // Values for logged models: every model must exist before anything is written.
        let mut for_models: HashMap<&str, Vec<(String, f64, i64, i64)>> = HashMap::new();
        for m in metrics.iter().filter(|m| m.model_id.as_deref().is_some_and(|x| !x.is_empty())) {
            let model = m.model_id.as_deref().unwrap_or_default();
            if !for_models.contains_key(model) {
                super::models::find_model(st, model)?;
            }
            let v = (m.key.clone(), m.value.unwrap_or(f64::NAN), m.step.unwrap_or(0), m.timestamp.unwrap_or(now));
            for_models.entry(model).or_default().push(v);
        }
        let report = st.log_batch(&id, &batch)?;
        if let Some(r) = report.rejected.first() {
            return Err(ApiError::invalid(format!("Invalid {} `{}`: {}", r.what, r.key, r.reason)));
        }
        for (model, values) in for_models {
            st.log_model_metrics(model, Some(&id), &values)?;
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
