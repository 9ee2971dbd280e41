//! MLflow experiments: create, get, get-by-name, search, update (rename), delete, restore and
//! tags, over the store's projects.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_query::{Attribute, Expr, Field};
use trackbench_store::prelude::*;
use trackbench_store::{ProjectInfo, StoreError};

use super::filter::{self, Val};
use super::{
    AppJson, DEFAULT_EXPERIMENT, KeyValue, empty, experiment_id, key_values, parse_page_token, project_for, put,
};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An experiment as MLflow's JSON shows it.
fn experiment_json(st: &dyn Backend, p: &ProjectInfo) -> ApiResult<Value> {
    let id = experiment_id(p);
    let mut obj = serde_json::Map::new();
    obj.insert("experiment_id".into(), json!(id));
    obj.insert("name".into(), json!(p.name));
    obj.insert("artifact_location".into(), json!(format!("mlflow-artifacts:/{id}")));
    obj.insert("lifecycle_stage".into(), json!(if p.deleted { "deleted" } else { "active" }));
    obj.insert("last_update_time".into(), json!(p.updated_ms.unwrap_or(p.created_ms)));
    obj.insert("creation_time".into(), json!(p.created_ms));
    put(&mut obj, "tags", Value::Array(key_values(st.project_tags(p.id)?)));
    Ok(Value::Object(obj))
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() {
        return Err(ApiError::invalid("Invalid experiment name: ''. Experiment name must be a non-empty string"));
    }
    if name.len() > 500 {
        return Err(ApiError::invalid("Experiment name exceeds the maximum length of 500 characters"));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct CreateReq {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tags: Vec<KeyValue>,
}

pub async fn create(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<CreateReq>) -> ApiResult<AppJson> {
    check_name(&req.name)?;
    let id = s
        .write(move |st| {
            let p = match st.create_project(&req.name) {
                Ok(p) => p,
                Err(StoreError::ProjectExists(_)) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "RESOURCE_ALREADY_EXISTS",
                        format!("Experiment '{}' already exists.", req.name),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            for t in &req.tags {
                st.set_project_tag(p.id, &t.key, &t.value)?;
            }
            Ok(experiment_id(&p))
        })
        .await?;
    Ok(axum::Json(json!({ "experiment_id": id })))
}

#[derive(Deserialize)]
pub struct GetReq {
    #[serde(default)]
    experiment_id: String,
}

pub async fn get(State(s): State<Arc<AppState>>, Query(q): Query<GetReq>) -> ApiResult<AppJson> {
    let out = s
        .write(move |st| {
            let p = project_for(st, &q.experiment_id, true)?;
            experiment_json(st, &p)
        })
        .await?;
    Ok(axum::Json(json!({ "experiment": out })))
}

#[derive(Deserialize)]
pub struct GetByNameReq {
    #[serde(default)]
    experiment_name: String,
}

pub async fn get_by_name(State(s): State<Arc<AppState>>, Query(q): Query<GetByNameReq>) -> ApiResult<AppJson> {
    let out = s
        .write(move |st| {
            if q.experiment_name == DEFAULT_EXPERIMENT {
                st.ensure_project(DEFAULT_EXPERIMENT)?;
            }
            let p = st.project(&q.experiment_name).map_err(|e| match e {
                StoreError::ProjectNotFound(_) => {
                    ApiError::not_found(format!("Could not find experiment with name '{}'", q.experiment_name))
                }
                e => e.into(),
            })?;
            experiment_json(st, &p)
        })
        .await?;
    Ok(axum::Json(json!({ "experiment": out })))
}

#[derive(Deserialize, Default)]
pub struct SearchReq {
    #[serde(default, deserialize_with = "super::lenient_i64")]
    max_results: Option<i64>,
    page_token: Option<String>,
    filter: Option<String>,
    #[serde(default)]
    order_by: OneOrMany,
    view_type: Option<String>,
}

/// `order_by` arrives as a list in JSON bodies and as a single (repeatable) value in queries.
#[derive(Deserialize, Default)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

pub async fn search_get(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<AppJson> {
    let mut req = SearchReq::default();
    let mut order = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "max_results" => {
                req.max_results = Some(v.parse().map_err(|_| ApiError::invalid("max_results must be an integer"))?)
            }
            "page_token" => req.page_token = Some(v),
            "filter" => req.filter = Some(v),
            "order_by" => order.push(v),
            "view_type" => req.view_type = Some(v),
            _ => {}
        }
    }
    req.order_by = OneOrMany::Many(order);
    search(State(s), caller, JsonBody(req)).await
}

/// Which lifecycle stages a search wants (`ACTIVE_ONLY`, `DELETED_ONLY`, `ALL`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ViewType {
    Active,
    Deleted,
    All,
}

impl ViewType {
    pub fn parse(s: Option<&str>) -> ApiResult<ViewType> {
        Ok(match s.unwrap_or("ACTIVE_ONLY") {
            "ACTIVE_ONLY" | "1" | "" => ViewType::Active,
            "DELETED_ONLY" | "2" => ViewType::Deleted,
            "ALL" | "3" => ViewType::All,
            other => return Err(ApiError::invalid(format!("Invalid view type `{other}`"))),
        })
    }

    pub fn keeps(self, deleted: bool) -> bool {
        match self {
            ViewType::Active => !deleted,
            ViewType::Deleted => deleted,
            ViewType::All => true,
        }
    }
}

pub async fn search(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
    JsonBody(req): JsonBody<SearchReq>,
) -> ApiResult<AppJson> {
    let max = req.max_results.unwrap_or(1000);
    if !(1..=50_000).contains(&max) {
        return Err(ApiError::invalid(format!(
            "Invalid value {max} for parameter 'max_results': must be in 1..=50000"
        )));
    }
    let view = ViewType::parse(req.view_type.as_deref())?;
    let offset = parse_page_token(req.page_token.as_deref())?;
    let filter = match req.filter.as_deref() {
        Some(f) => trackbench_query::parse_filter(f).map_err(|e| ApiError::invalid(format!("Invalid filter: {e}")))?,
        None => None,
    };
    let order = parse_order(&req.order_by.into_vec())?;
    let out = s
        .write(move |st| {
            st.ensure_project(DEFAULT_EXPERIMENT)?;
            let mut rows = Vec::new();
            for p in st.list_projects(true)? {
                if !view.keeps(p.deleted) || !crate::access::can_read(&caller, &p.name) {
                    continue;
                }
                let tags = st.project_tags(p.id)?;
                if let Some(f) = &filter
                    && !matches(f, &p, &tags)?
                {
                    continue;
                }
                rows.push(p);
            }
            rows.sort_by(|a, b| {
                for (key, desc) in &order {
                    let ord = match key {
                        OrderKey::Name => a.name.cmp(&b.name),
                        OrderKey::Created => a.created_ms.cmp(&b.created_ms),
                        OrderKey::Updated => {
                            a.updated_ms.unwrap_or(a.created_ms).cmp(&b.updated_ms.unwrap_or(b.created_ms))
                        }
                        OrderKey::Id => a.id.cmp(&b.id),
                    };
                    let ord = if *desc { ord.reverse() } else { ord };
                    if ord.is_ne() {
                        return ord;
                    }
                }
                a.id.cmp(&b.id)
            });
            let total = rows.len();
            let page: Vec<Value> = rows
                .iter()
                .skip(offset)
                .take(max as usize)
                .map(|p| experiment_json(st, p))
                .collect::<ApiResult<_>>()?;
            let mut obj = serde_json::Map::new();
            put(&mut obj, "experiments", Value::Array(page));
            let next = offset.saturating_add(max as usize);
            if next < total {
                obj.insert("next_page_token".into(), json!(next.to_string()));
            }
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

enum OrderKey {
    Name,
    Created,
    Updated,
    Id,
}

/// `name`, `creation_time`, `last_update_time`, `experiment_id`, each with `ASC`/`DESC`;
/// MLflow's default is newest created first.
fn parse_order(terms: &[String]) -> ApiResult<Vec<(OrderKey, bool)>> {
    let mut out = Vec::new();
    for t in terms {
        let mut words = t.split_whitespace();
        let field = words.next().unwrap_or("");
        let desc = match words.next().map(str::to_ascii_uppercase).as_deref() {
            None | Some("ASC") => false,
            Some("DESC") => true,
            Some(other) => return Err(ApiError::invalid(format!("Invalid order_by direction `{other}` in `{t}`"))),
        };
        let key = match field.trim_start_matches("attributes.").trim_start_matches("attribute.") {
            "name" => OrderKey::Name,
            "creation_time" => OrderKey::Created,
            "last_update_time" => OrderKey::Updated,
            "experiment_id" => OrderKey::Id,
            other => return Err(ApiError::invalid(format!("Invalid order_by key `{other}` for experiments"))),
        };
        out.push((key, desc));
    }
    if out.is_empty() {
        out.push((OrderKey::Created, true));
    }
    Ok(out)
}

/// Evaluates an experiment filter: `name` (=, !=, LIKE, ILIKE), `tags.<key>` (the same), and
/// `creation_time` (numeric comparisons).
fn matches(e: &Expr, p: &ProjectInfo, tags: &[(String, String)]) -> ApiResult<bool> {
    filter::eval(e, &|f: &Field| {
        Ok(match f {
            Field::Attr(Attribute::RunName) => Some(Val::Text(p.name.clone())),
            Field::Attr(Attribute::Created) => Some(Val::Num(p.created_ms as f64)),
            Field::Tag(k) if filter::attr_name(f).is_none() => {
                tags.iter().find(|(tk, _)| tk == k).map(|(_, v)| Val::Text(v.clone()))
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "Invalid experiment filter field {other:?}: use name, tags.<key> or creation_time"
                )));
            }
        })
    })
}

#[derive(Deserialize)]
pub struct UpdateReq {
    #[serde(default)]
    experiment_id: String,
    #[serde(default)]
    new_name: String,
}

pub async fn update(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<UpdateReq>) -> ApiResult<AppJson> {
    check_name(&req.new_name)?;
    s.write(move |st| {
        let p = project_for(st, &req.experiment_id, true)?;
        st.rename_project(p.id, &req.new_name).map_err(|e| match e {
            StoreError::ProjectExists(n) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "RESOURCE_ALREADY_EXISTS",
                format!("Experiment '{n}' already exists."),
            ),
            e => e.into(),
        })
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct IdReq {
    #[serde(default)]
    experiment_id: String,
}

pub async fn delete(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<IdReq>) -> ApiResult<AppJson> {
    if req.experiment_id == "0" {
        return Err(ApiError::invalid(
            "Cannot delete the default experiment '0'. This is an internally reserved experiment.",
        ));
    }
    s.write(move |st| {
        let p = project_for(st, &req.experiment_id, false)?;
        Ok(st.delete_project(p.id)?)
    })
    .await?;
    Ok(empty())
}

pub async fn restore(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<IdReq>) -> ApiResult<AppJson> {
    s.write(move |st| {
        let p = project_for(st, &req.experiment_id, true)?;
        Ok(st.restore_project(p.id)?)
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct TagReq {
    #[serde(default)]
    experiment_id: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    value: String,
}

pub async fn set_tag(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<TagReq>) -> ApiResult<AppJson> {
    if req.key.is_empty() || req.key.len() > 250 {
        return Err(ApiError::invalid("Experiment tag key must be 1 to 250 characters"));
    }
    if req.value.len() > 20_000 {
        return Err(ApiError::invalid("Experiment tag value exceeds the maximum length of 20000 characters"));
    }
    s.write(move |st| {
        let p = project_for(st, &req.experiment_id, true)?;
        Ok(st.set_project_tag(p.id, &req.key, &req.value)?)
    })
    .await?;
    Ok(empty())
}

pub async fn delete_tag(State(s): State<Arc<AppState>>, JsonBody(req): JsonBody<TagReq>) -> ApiResult<AppJson> {
    s.write(move |st| {
        let p = project_for(st, &req.experiment_id, true)?;
        if !st.remove_project_tag(p.id, &req.key)? {
            return Err(ApiError::not_found(format!(
                "No tag with name: {} in experiment {}",
                req.key, req.experiment_id
            )));
        }
        Ok(())
    })
    .await?;
    Ok(empty())
}
