//! MLflow metric history: one run's series (whole or paged) and several runs' series sampled
//! over a step interval.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trackbench_store::StepRange;

use super::{find_run, parse_page_token, run_id_of, ser_float};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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
