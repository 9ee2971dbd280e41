//! Artifacts the MLflow way: the tracking API's `artifacts/list`, and the `mlflow-artifacts`
//! proxy (`/api/2.0/mlflow-artifacts/artifacts/<path>`: PUT upload, GET download, DELETE; and
//! `GET …/artifacts?path=` to list) that `log_artifact`, `list_artifacts` and
//! `download_artifacts` use with a tracking server.
//!
//! Proxy paths follow the run's `artifact_uri` (`mlflow-artifacts:/<experiment>/<run>/artifacts`):
//! `<experiment id>/<run id>/artifacts/<path inside the run>`, or a logged model's
//! (`<experiment id>/models/<model id>/artifacts/<path>`). Paths are checked by the store's
//! rules before anything is touched (`..`, absolute paths, backslashes and control characters
//! such as NUL are 400), and land only in the store as the run's artifacts.

use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_store::prelude::*;
use trackbench_store::{ArtifactInfo, validate};

use crate::api::Owner;

use super::runs::ExpIds;
use super::{AppJson, empty, find_run, put, run_id_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Whose files a proxy path names.
enum Target {
    Run(String),
    /// A logged model: `<experiment>/models/<model id>/artifacts/…`.
    Model(String),
}

/// `<experiment>/<run>/artifacts[/<path>]` or `<experiment>/models/<model>/artifacts[/<path>]`
/// -> (experiment, whose files, path inside them).
fn split_proxy_path(raw: &str) -> ApiResult<(String, Target, String)> {
    let clean = validate::artifact_path(raw).map_err(|e| ApiError::invalid(e.to_string()))?;
    let parts: Vec<&str> = clean.splitn(5, '/').collect();
    let rest = |n: usize| clean.splitn(n + 1, '/').nth(n).unwrap_or("").to_string();
    match parts.as_slice() {
        [exp, "models", model, "artifacts", ..] if model.starts_with("m-") => {
            Ok((exp.to_string(), Target::Model(model.to_string()), rest(4)))
        }
        [exp, run, "artifacts", ..] => Ok((exp.to_string(), Target::Run(run.to_string()), rest(3))),
        _ => Err(ApiError::invalid(format!(
            "artifact path `{clean}` is not inside a run or a logged model: expected \
             <experiment id>/<run id>/artifacts/<path> or <experiment id>/models/<model id>/artifacts/<path>"
        ))),
    }
}

/// Checks that the target exists and belongs to experiment `exp`.
fn check_target(st: &dyn Backend, exp: &str, t: &Target) -> ApiResult<()> {
    let (project, what) = match t {
        Target::Run(run) => (find_run(st, run)?.project, format!("Run {run}")),
        Target::Model(m) => (super::models::find_model(st, m)?.project, format!("Logged model {m}")),
    };
    if ExpIds::default().get(st, &project)? != exp {
        return Err(ApiError::not_found(format!("{what} is not in experiment {exp}")));
    }
    Ok(())
}

/// The target's artifacts.
fn artifacts_of(st: &dyn Backend, t: &Target) -> ApiResult<Vec<ArtifactInfo>> {
    Ok(match t {
        Target::Run(r) => st.artifacts(r)?,
        Target::Model(m) => st.model_artifacts(m)?,
    })
}

/// MLflow's `FileInfo` list for folder `dir` ("" = the run's root) of a run's artifacts: files
/// with their size, then sub-folders once each. `full` gives paths relative to the run's root
/// (the tracking API), otherwise just names (the proxy).
pub(super) fn list_dir(artifacts: &[ArtifactInfo], dir: &str, full: bool) -> Vec<Value> {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut out = Vec::new();
    let mut dirs = std::collections::HashSet::new();
    for a in artifacts.iter().filter(|a| a.path.starts_with(&prefix)) {
        let rest = &a.path[prefix.len()..];
        let (name, is_dir) = match rest.split_once('/') {
            Some((d, _)) => (d, true),
            None => (rest, false),
        };
        let path = if full { format!("{prefix}{name}") } else { name.to_string() };
        if is_dir {
            if dirs.insert(name) {
                out.push(json!({ "path": path, "is_dir": true }));
            }
        } else {
            out.push(json!({ "path": path, "is_dir": false, "file_size": a.size }));
        }
    }
    out
}

#[derive(Deserialize)]
pub struct ListReq {
    path: Option<String>,
}

/// `GET /api/2.0/mlflow-artifacts/artifacts?path=<experiment>/<run>/artifacts/<folder>`.
pub async fn list(State(s): State<Arc<AppState>>, Query(q): Query<ListReq>) -> ApiResult<AppJson> {
    let raw = q.path.unwrap_or_default();
    if raw.trim_matches('/').is_empty() {
        return Ok(empty());
    }
    let (exp, target, dir) = split_proxy_path(&raw)?;
    let files = s
        .read(move |st| {
            check_target(st, &exp, &target)?;
            Ok(list_dir(&artifacts_of(st, &target)?, &dir, false))
        })
        .await?;
    let mut obj = serde_json::Map::new();
    put(&mut obj, "files", Value::Array(files));
    Ok(axum::Json(Value::Object(obj)))
}

/// `GET /api/2.0/mlflow-artifacts/artifacts/<path>`: streams the file (Range supported).
pub async fn download(
    State(s): State<Arc<AppState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (exp, target, path) = split_proxy_path(&raw)?;
    if path.is_empty() {
        return Err(ApiError::invalid("cannot download an artifact folder as a file"));
    }
    let owner = match &target {
        Target::Run(run) => Owner::Run(run.clone()),
        Target::Model(m) => Owner::Model(m.clone()),
    };
    crate::api::serve_artifact(&s, &headers, owner, path, move |st| check_target(st, &exp, &target)).await
}

/// Checks an upload's path and owner before its body is read: (owner, path inside its files).
async fn check_upload(s: &Arc<AppState>, raw: &str) -> ApiResult<(Target, String)> {
    let (exp, target, path) = split_proxy_path(raw)?;
    if path.is_empty() {
        return Err(ApiError::invalid("an upload needs a file path inside the artifacts"));
    }
    let target = s
        .read(move |st| {
            check_target(st, &exp, &target)?;
            if let Target::Run(run) = &target
                && find_run(st, run)?.deleted
            {
                return Err(ApiError::invalid(format!(
                    "The run {run} must be in the 'active' state. Current state is deleted."
                )));
            }
            Ok(target)
        })
        .await?;
    Ok((target, path))
}

/// `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`: stores the body as an artifact of the run
/// or logged model the path names.
pub async fn upload(State(s): State<Arc<AppState>>, Path(raw): Path<String>, req: Request) -> ApiResult<AppJson> {
    let checked = check_upload(&s, &raw).await;
    let (target, path) = match checked {
        Ok(x) => x,
        // Read the refused body, so the client gets this answer and not a reset connection.
        Err(e) => return Err(crate::body::drain_then(req, e, crate::body::DRAIN_LIMIT).await),
    };
    match target {
        Target::Run(run) => {
            crate::api::store_upload(&s, Owner::Run(run.clone()), path, req).await?;
            // An upload is a write to the run like any log call: it shows the run is alive.
            s.write(move |st| Ok(st.heartbeat(&run, trackbench_store::now_ms())?)).await?;
        }
        Target::Model(m) => {
            crate::api::store_upload(&s, Owner::Model(m), path, req).await?;
        }
    }
    Ok(empty())
}

/// `DELETE /api/2.0/mlflow-artifacts/artifacts/<path>`: removes a file or a folder.
pub async fn delete(State(s): State<Arc<AppState>>, Path(raw): Path<String>) -> ApiResult<AppJson> {
    let (exp, target, path) = split_proxy_path(&raw)?;
    let Target::Run(run) = target else {
        return Err(ApiError::invalid("a logged model's files cannot be deleted one by one"));
    };
    s.write(move |st| {
        check_target(st, &exp, &Target::Run(run.clone()))?;
        if path.is_empty() {
            for a in st.artifacts(&run)? {
                st.delete_artifacts(&run, &a.path)?;
            }
        } else if st.delete_artifacts(&run, &path)? == 0 {
            return Err(ApiError::not_found(format!("No artifact at `{path}` in run {run}")));
        }
        Ok(())
    })
    .await?;
    Ok(empty())
}

#[derive(Deserialize)]
pub struct RunListReq {
    run_id: Option<String>,
    run_uuid: Option<String>,
    path: Option<String>,
}

/// `GET /api/2.0/mlflow/artifacts/list?run_id=&path=`: one folder of a run's artifacts.
pub async fn list_for_run(State(s): State<Arc<AppState>>, Query(q): Query<RunListReq>) -> ApiResult<AppJson> {
    let id = run_id_of(q.run_id, q.run_uuid)?;
    let dir = match q.path.as_deref().map(|p| p.trim_matches('/')).filter(|p| !p.is_empty()) {
        None => String::new(),
        Some(p) => validate::artifact_path(p).map_err(|e| ApiError::invalid(e.to_string()))?,
    };
    let out = s
        .read(move |st| {
            let run = find_run(st, &id)?;
            let exp = ExpIds::default().get(st, &run.project)?;
            let mut obj = serde_json::Map::new();
            obj.insert("root_uri".into(), json!(format!("mlflow-artifacts:/{exp}/{id}/artifacts")));
            put(&mut obj, "files", Value::Array(list_dir(&st.artifacts(&id)?, &dir, true)));
            Ok(Value::Object(obj))
        })
        .await?;
    Ok(axum::Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn art(path: &str, size: u64) -> ArtifactInfo {
        ArtifactInfo { path: path.into(), size, hash: String::new(), media_type: String::new(), created_ms: 0 }
    }

    fn split(raw: &str) -> ApiResult<(String, String, String)> {
        split_proxy_path(raw).map(|(e, t, p)| {
            let who = match t {
                Target::Run(r) => r,
                Target::Model(m) => format!("model {m}"),
            };
            (e, who, p)
        })
    }

    #[test]
    fn proxy_paths() {
        assert_eq!(split("1/abc/artifacts/a/b.txt").unwrap(), ("1".into(), "abc".into(), "a/b.txt".into()));
        assert_eq!(split("1/abc/artifacts").unwrap(), ("1".into(), "abc".into(), String::new()));
        assert_eq!(
            split("1/models/m-0f/artifacts/MLmodel").unwrap(),
            ("1".into(), "model m-0f".into(), "MLmodel".into())
        );
        assert_eq!(split("1/models/m-0f/artifacts").unwrap(), ("1".into(), "model m-0f".into(), String::new()));
        for bad in [
            "1/models/m-0f/artifacts/../x",
            "1/abc/artifacts/../../x",
            "/etc/passwd",
            "1/abc/artifacts/a\0b",
            "1/abc/other/x",
            "1/abc",
            "1/abc/artifacts/a\\b",
        ] {
            assert!(split_proxy_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn folder_listing() {
        let a = [art("a.txt", 1), art("d/e/z", 4), art("d/x.txt", 2), art("d/y.txt", 3), art("z.bin", 5)];
        let names: Vec<String> =
            list_dir(&a, "", false).iter().map(|v| v["path"].as_str().unwrap().to_string()).collect();
        assert_eq!(names, ["a.txt", "d", "z.bin"]);
        let d = list_dir(&a, "d", true);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0], json!({"path": "d/e", "is_dir": true}));
        assert_eq!(d[1], json!({"path": "d/x.txt", "is_dir": false, "file_size": 2}));
    }
}
