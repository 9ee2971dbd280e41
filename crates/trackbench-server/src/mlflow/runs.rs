//! MLflow runs: create, update, get, delete, restore and search (logging is in [`super::logging`],
//! metric history in [`super::history`]).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_query::{Attribute, Expr, Field, Literal};
use trackbench_store::prelude::*;
use trackbench_store::{NewRun, RunInfo, RunQuery, RunStatus};

use super::experiments::ViewType;
use super::logging::check_tags;
use super::{
    AppJson, KeyValue, active_run, empty, experiment_id, find_run, float, key_values, parse_page_token, project_for,
    put, run_id_of, status_name,
};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Tag holding a run's display name in MLflow.
pub const RUN_NAME_TAG: &str = "mlflow.runName";
/// Tag holding the user who created a run.
pub const USER_TAG: &str = "mlflow.user";

/// The text of a stored param (MLflow params are strings; ours may be any JSON scalar).
pub(super) fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Caches experiment ids by project name while building several runs.
#[derive(Default)]
pub struct ExpIds(HashMap<String, String>);

impl ExpIds {
    pub(super) fn get(&mut self, st: &dyn Backend, project: &str) -> ApiResult<String> {
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
fn run_tags(st: &dyn Backend, run: &RunInfo) -> ApiResult<Vec<(String, String)>> {
    let mut tags: Vec<(String, String)> = st.tags(&run.id)?.into_iter().filter(|(k, _)| k != RUN_NAME_TAG).collect();
    tags.push((RUN_NAME_TAG.to_string(), run.name.clone()));
    Ok(tags)
}

fn run_info_only(st: &dyn Backend, run: &RunInfo, exps: &mut ExpIds) -> ApiResult<Value> {
    let exp = exps.get(st, &run.project)?;
    let tags = st.tags(&run.id)?;
    let user = tags.iter().find(|(k, _)| k == USER_TAG).map(|(_, v)| v.as_str());
    Ok(info_json(run, &exp, user))
}

/// MLflow's `Run`: info, data (latest metrics, params, tags), inputs and outputs (logged models).
pub fn run_json(st: &dyn Backend, run: &RunInfo, exps: &mut ExpIds) -> ApiResult<Value> {
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
    let model_outputs: Vec<Value> =
        st.model_outputs(&run.id)?.into_iter().map(|(m, step)| json!({ "model_id": m, "step": step })).collect();
    let mut outputs = serde_json::Map::new();
    put(&mut outputs, "model_outputs", Value::Array(model_outputs));
    Ok(json!({
        "info": info_json(run, &exp, user.as_deref()),
        "data": Value::Object(data),
        "inputs": Value::Object(inputs),
        "outputs": Value::Object(outputs),
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

pub async fn create(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    JsonBody(req): JsonBody<CreateReq>,
) -> ApiResult<AppJson> {
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
            crate::access::stamp_owner(&caller, &mut tags);
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
