//! The native JSON API under `/api/v1`, used by the UI, the desktop shell and the remote SDK
//! transport. Described for tools by `/api/v1/openapi.json` (kept in `openapi.json`; a test
//! checks that every route here is in it).
//!
//! Numbers that JSON cannot hold (NaN, ±inf) travel as the strings `"NaN"`, `"Infinity"`,
//! `"-Infinity"`, both ways. Series travel column-wise (`steps`, `wall_ms`, `values`).
//!
//! The routes are here; the handlers live by concept: `runs`, `series` (with log lines),
//! `artifacts`, `models` (the registry, and promoting an A/B's winner) and `data` (logged
//! datasets and drift).

mod artifacts;
mod data;
mod models;
mod push;
mod runs;
mod series;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::state::AppState;

pub use artifacts::{Owner, serve_artifact, store_upload};
use artifacts::{download_artifact, list_artifacts, upload_artifact};
pub use runs::MAX_OFFSET;
use runs::{
    create_run, delete_run, edit_run, finish_run, list_runs, log_batch, metrics, params, restore_run, resume_run,
    run_detail,
};
use series::{logs, series};

type AppJson = axum::Json<Value>;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/events", get(crate::events::events))
        .route("/api/v1/projects", get(projects))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/runs", get(list_runs).post(create_run))
        .route("/api/v1/runs/{id}", get(run_detail).patch(edit_run).delete(delete_run))
        .route("/api/v1/runs/{id}/restore", post(restore_run))
        .route("/api/v1/runs/{id}/finish", post(finish_run))
        .route("/api/v1/runs/{id}/resume", post(resume_run))
        .route("/api/v1/runs/{id}/batch", post(log_batch))
        .route("/api/v1/runs/{id}/params", get(params))
        .route("/api/v1/runs/{id}/metrics", get(metrics))
        .route("/api/v1/runs/{id}/series", get(series))
        .route("/api/v1/runs/{id}/logs", get(logs))
        .route("/api/v1/runs/{id}/artifacts", get(list_artifacts))
        .route("/api/v1/runs/{id}/datasets", get(data::list))
        .route("/api/v1/runs/{id}/datasets/{name}", get(data::detail))
        .route("/api/v1/drift", get(data::drift_report))
        .route("/api/v1/models", get(models::list))
        .route("/api/v1/models/{name}", get(models::detail))
        .route("/api/v1/ab/{id}/promote", post(models::promote))
        .route("/api/v1/push/ab/{id}", put(push::put_ab))
        .route(
            "/api/v1/runs/{id}/artifacts/{*path}",
            get(download_artifact).put(upload_artifact).layer(DefaultBodyLimit::disable()),
        )
}

/// `GET /api/v1/health`: is the server up, can it reach its store and its artifact store.
/// Answers 503 when either is unreachable, so a load balancer takes the replica out. Without
/// the token it says only yes or no; with it, also what each store is and what failed
/// (never a password).
async fn health(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let detail = crate::auth::token_ok(&headers, &s.token);
    let state = s.clone();
    let checked = crate::state::blocking(move || Ok(state.check_stores())).await;
    let (store, artifacts) = match checked {
        Ok(c) => c,
        Err(e) => (Err(e.message), Err("not checked".to_string())),
    };
    let part = |what: &str, r: &Result<String, String>| match (r, detail) {
        (Ok(d), true) => json!({ "ok": true, "what": d }),
        (Err(e), true) => json!({ "ok": false, "what": what, "error": e }),
        (r, false) => json!({ "ok": r.is_ok() }),
    };
    let ok = store.is_ok() && artifacts.is_ok();
    let body = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "push": crate::PUSH_PROTOCOL,
        "readonly": s.readonly,
        "store": part("store", &store),
        "artifacts": part("artifacts", &artifacts),
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, axum::Json(body)).into_response()
}

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn projects(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
) -> ApiResult<AppJson> {
    let mut p = s.read(|st| Ok(st.list_projects(false)?)).await?;
    p.retain(|p| crate::access::can_read(&caller, &p.name));
    Ok(axum::Json(json!({ "projects": p })))
}

/// `GET /api/v1/whoami`: who the token is (a user, or the server's own token), whether an
/// admin, and what they may do on which project (`trackbench login` checks a token with it).
async fn whoami(
    State(s): State<Arc<AppState>>,
    caller: Option<axum::Extension<crate::access::Caller>>,
) -> ApiResult<AppJson> {
    let caller = caller.map(|axum::Extension(c)| c).unwrap_or_else(crate::access::Caller::server);
    let user = caller.user.clone();
    let out = s
        .read(move |st| {
            let mut projects = serde_json::Map::new();
            for p in st.list_projects(false)? {
                let perm = match &user {
                    None => Some(trackbench_store::Permission::Manage),
                    Some(u) => st.permission(u, p.id)?,
                };
                if let Some(perm) = perm {
                    projects.insert(p.name, json!(perm));
                }
            }
            Ok(json!({
                "user": user.as_ref().map(|u| u.name.clone()),
                "admin": user.as_ref().is_none_or(|u| u.admin),
                "projects": projects,
            }))
        })
        .await?;
    Ok(axum::Json(out))
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_route_is_in_the_openapi_description() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("openapi.json parses");
        let paths = doc["paths"].as_object().expect("paths");
        let source = [include_str!("mod.rs"), include_str!("../launch/mod.rs"), include_str!("../report.rs")].concat();
        let routes: Vec<&str> = source.split(".route(\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
        assert!(routes.len() >= 15, "found the routes: {routes:?}");
        for r in routes {
            let documented = r.replace("{*path}", "{path}");
            assert!(paths.contains_key(&documented), "route {r} is missing from openapi.json");
        }
    }

    #[test]
    fn active_artifacts_are_downloads() {
        use super::artifacts::{attachment, is_passive};
        for t in ["image/png", "image/jpeg", "text/plain; charset=utf-8", "application/json", "video/mp4", "text/csv"] {
            assert!(is_passive(t), "{t}");
        }
        for t in [
            "text/html",
            "image/svg+xml",
            "application/javascript",
            "text/javascript",
            "application/xml",
            "text/xml",
            "application/xhtml+xml",
            "application/pdf",
            "application/octet-stream",
            "",
        ] {
            assert!(!is_passive(t), "{t}");
        }
        assert_eq!(attachment("plots/a b\"é.html"), "attachment; filename=\"a_b__.html\"");
        assert_eq!(attachment(".."), "attachment; filename=\"artifact\"");
    }
}
