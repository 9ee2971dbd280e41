//! The registry for the UI: registered models with their versions (each with its run and the
//! A/B test it was promoted from), and promoting an A/B's winner.
//!
//! - `GET /api/v1/models`: registered models, with their version count and latest version.
//! - `GET /api/v1/models/{name}`: one model and its versions, newest first, each with its run
//!   (name, project, status) and `ab_id` when an A/B promotion made it.
//! - `POST /api/v1/ab/{id}/promote` `{name, alias?, force?}`: `trackbench ab promote`.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_compare::promote_ab;

use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::state::AppState;

type AppJson = axum::Json<Value>;

pub async fn list(State(s): State<Arc<AppState>>) -> ApiResult<AppJson> {
    let out = s
        .read(|st| {
            let mut out = Vec::new();
            for m in st.registered_models()? {
                let versions = st.model_versions(Some(&m.name))?;
                let mut v = serde_json::to_value(&m).unwrap_or_default();
                v["versions"] = json!(versions.len());
                v["latest_version"] = json!(versions.last().map(|x| x.version));
                out.push(v);
            }
            Ok(out)
        })
        .await?;
    Ok(axum::Json(json!({ "models": out })))
}

pub async fn detail(State(s): State<Arc<AppState>>, Path(name): Path<String>) -> ApiResult<AppJson> {
    let out = s
        .read(move |st| {
            let m = st.registered_model(&name)?;
            let mut versions = Vec::new();
            for v in st.model_versions(Some(&name))?.into_iter().rev() {
                let run = match &v.run {
                    Some(r) => st
                        .run(r)
                        .ok()
                        .map(|r| json!({ "id": r.id, "name": r.name, "project": r.project, "status": r.status })),
                    None => None,
                };
                let ab = v.tags.get("ab.id").cloned();
                let mut j = serde_json::to_value(&v).unwrap_or_default();
                j["run_info"] = json!(run);
                j["ab_id"] = json!(ab);
                versions.push(j);
            }
            Ok(json!({ "model": m, "versions": versions }))
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
pub struct PromoteBody {
    name: String,
    alias: Option<String>,
    #[serde(default)]
    force: bool,
}

pub async fn promote(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PromoteBody>,
) -> ApiResult<AppJson> {
    let out = s
        .write(move |st| {
            let id = st.resolve_ab(&id)?;
            let alias = body.alias.as_deref().filter(|a| !a.is_empty());
            promote_ab(st, &id, &body.name, alias, body.force).map_err(crate::launch::compare_error)
        })
        .await?;
    Ok(axum::Json(serde_json::to_value(out).unwrap_or_default()))
}
