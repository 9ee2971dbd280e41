//! Who a request acts for and what it may touch: the permission check behind every route.
//!
//! The guard ([`crate::auth`]) finds the caller: the server's own token (`TRACKBENCH_TOKEN`,
//! the single-user mode) and admin users may do everything; a user's token (`tbu_…`, looked
//! up by its hash on every request, so a revoked or expired token or a removed user is refused
//! at once on every replica) acts with that user's permissions. For a user, [`need`] maps the
//! route (method, path, query, and for the routes that name their project in the body, the
//! JSON body) to what it needs: READ on what it reads, EDIT on what it writes, MANAGE to delete
//! or restore and to launch; [`authorize`] resolves each named run, experiment, logged model,
//! A/B or job to its project and checks, before any handler runs. A route missing from the
//! table is admin-only. Listings (projects, runs without a project, experiments, A/Bs, jobs,
//! live events) show a user only readable projects' rows: their handlers ask [`Caller`].
//!
//! The model registry belongs to no project (as in MLflow, where registered models carry
//! their own permissions): every user reads it; writing it needs EDIT on some project (a
//! version made from a run also needs READ on the run's project); deleting from it is for
//! admins. A user who creates a project (a run or an MLflow experiment in a project that did
//! not exist) gets MANAGE on it. Launching needs MANAGE on the project, and a user (not an
//! admin) launches only on the Slurm cluster, never on the server's own machine.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use serde_json::Value;
use trackbench_store::{Backend, Permission, StoreError, UserInfo};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Who a request acts for (a request extension every handler behind the guard can read).
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None`: the server's own token.
    pub user: Option<UserInfo>,
    /// Names of the projects a non-admin user may read; `None`: every project.
    pub readable: Option<Arc<HashSet<String>>>,
}

impl Caller {
    /// The server's own token.
    pub fn server() -> Caller {
        Caller { user: None, readable: None }
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_none_or(|u| u.admin)
    }

    /// Whether this caller sees project `name` in listings.
    pub fn can_read(&self, project: &str) -> bool {
        self.readable.as_ref().is_none_or(|r| r.contains(project))
    }

    /// The user to record as a new run's owner (none for the server's token).
    pub fn owner(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.name.as_str())
    }
}

/// For handlers: whether the request's caller sees project `name` (true without a caller:
/// a job token's own routes).
pub fn can_read(caller: &Option<axum::Extension<Caller>>, project: &str) -> bool {
    caller.as_ref().is_none_or(|c| c.can_read(project))
}

/// Puts `caller`'s name as the owner tag of a new run's tags, replacing one a user sent; an
/// admin's stays (a run published from another store keeps its owner).
pub fn stamp_owner(caller: &Option<axum::Extension<Caller>>, tags: &mut Vec<(String, String)>) {
    let admin = caller.as_ref().is_none_or(|c| c.is_admin());
    if admin && tags.iter().any(|(k, _)| k == trackbench_store::OWNER_TAG) {
        return;
    }
    tags.retain(|(k, _)| k != trackbench_store::OWNER_TAG);
    if let Some(name) = caller.as_ref().and_then(|c| c.owner()) {
        tags.push((trackbench_store::OWNER_TAG.to_string(), name.to_string()));
    }
}

/// A fresh user token: `tbu_` and 256 random bits from the OS (what `trackbench tokens
/// create` prints once; the store keeps its hash).
pub fn new_user_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source");
    trackbench_store::backend_access::token_secret(&bytes)
}

/// Something a request names, whose project decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Run(String),
    /// A project by name.
    Project(String),
    /// An MLflow experiment id (`"0"`: the `Default` project).
    Experiment(String),
    LoggedModel(String),
    Ab(String),
    Job(String),
}

/// What a route needs of a user.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Any signed-in caller (what it shows is filtered by its handler, or holds no project's data).
    Signed,
    /// `Permission` on every target's project (a target that does not exist is left to the
    /// handler's 404).
    On(Permission, Vec<Target>),
    /// A write into a project that may not exist yet: EDIT when it does; creating it is
    /// allowed, and its creator gets MANAGE.
    Create(Target, Vec<Target>),
    /// Launching: MANAGE on the project, and only on Slurm for a non-admin.
    Launch(Option<Target>, bool),
    /// Writing the model registry: EDIT on some project, READ on the named runs.
    RegistryWrite(Vec<Target>),
    AdminOnly,
}

/// Whether a route names its project in its JSON body (so the guard must read it first).
pub fn needs_body(method: &Method, path: &str) -> bool {
    if *method == Method::GET || *method == Method::HEAD {
        return false;
    }
    if let Some(rest) = mlflow_rest(path) {
        return !rest.starts_with("logged-models/") || rest == "logged-models/search";
    }
    matches!(path, "/api/v1/runs" | "/api/v1/jobs" | "/api/v1/sweeps" | "/api/v1/ab")
        || path.starts_with("/api/v1/push/")
}

/// Whether a write sets or removes run tags, so a user's body must not name the owner tag
/// (the server's to set: the user whose token created the run).
pub fn sets_tags(method: &Method, path: &str) -> bool {
    if let Some(rest) = mlflow_rest(path) {
        return *method == Method::POST && matches!(rest, "runs/set-tag" | "runs/delete-tag" | "runs/log-batch");
    }
    let Some(rest) = path.strip_prefix("/api/v1/runs/") else { return false };
    match rest.split_once('/') {
        None => *method == Method::PATCH,
        Some((_, sub)) => *method == Method::POST && sub == "batch",
    }
}

/// Whether `haystack` holds `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, _)) = needle.split_first() else { return true };
    haystack
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == first)
        .any(|(i, _)| haystack.get(i..i + needle.len()) == Some(needle))
}

fn mlflow_rest(path: &str) -> Option<&str> {
    path.strip_prefix("/api/2.0/mlflow/").or_else(|| path.strip_prefix("/ajax-api/2.0/mlflow/"))
}

fn artifacts_rest(path: &str) -> Option<&str> {
    path.strip_prefix("/api/2.0/mlflow-artifacts/").or_else(|| path.strip_prefix("/ajax-api/2.0/mlflow-artifacts/"))
}

/// The values of query parameter `key` (percent-decoded).
fn query_all(query: &str, key: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(v))
        .collect()
}

fn query_one(query: &str, key: &str) -> Option<String> {
    query_all(query, key).into_iter().next().filter(|v| !v.is_empty())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn body_str(body: Option<&Value>, key: &str) -> Option<String> {
    match body?.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn body_list(body: Option<&Value>, key: &str) -> Vec<String> {
    match body.and_then(|b| b.get(key)) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The run a request names in its query or body (`run_id`, or MLflow's older `run_uuid`).
fn run_named(query: &str, body: Option<&Value>) -> Option<Target> {
    query_one(query, "run_id")
        .or_else(|| query_one(query, "run_uuid"))
        .or_else(|| body_str(body, "run_id"))
        .or_else(|| body_str(body, "run_uuid"))
        .map(Target::Run)
}

fn on(p: Permission, t: Option<Target>) -> Need {
    match t {
        Some(t) => Need::On(p, vec![t]),
        // A request naming nothing is refused by its handler (400); refusing it here too
        // keeps the rule simple: no target, no access.
        None => Need::AdminOnly,
    }
}

/// The target of an `mlflow-artifacts` path: `EXP/RUN/artifacts/…`, `EXP/models/ID/…`, `EXP`.
fn artifact_target(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [_, "models", id, ..] => Some(Target::LoggedModel(id.to_string())),
        [_, run, ..] if !run.is_empty() => Some(Target::Run(run.to_string())),
        [exp] if !exp.is_empty() => Some(Target::Experiment(exp.to_string())),
        _ => None,
    }
}

/// What `method path?query` (with its JSON `body` when [`needs_body`]) needs of a user.
pub fn need(method: &Method, path: &str, query: &str, body: Option<&Value>) -> Need {
    use Permission::{Edit, Manage, Read};
    let get = *method == Method::GET || *method == Method::HEAD;
    if let Some(rest) = mlflow_rest(path) {
        let exp = || body_str(body, "experiment_id").or_else(|| query_one(query, "experiment_id"));
        let exps = || body_list(body, "experiment_ids").into_iter().map(Target::Experiment).collect::<Vec<_>>();
        return match rest {
            "experiments/create" => Need::Create(Target::Project(body_str(body, "name").unwrap_or_default()), vec![]),
            "experiments/get" => on(Read, exp().map(Target::Experiment)),
            "experiments/get-by-name" => on(Read, query_one(query, "experiment_name").map(Target::Project)),
            "experiments/search" => Need::Signed,
            "experiments/update" | "experiments/set-experiment-tag" | "experiments/delete-experiment-tag" => {
                on(Edit, exp().map(Target::Experiment))
            }
            "experiments/delete" | "experiments/restore" => on(Manage, exp().map(Target::Experiment)),
            "runs/create" => Need::Create(Target::Experiment(exp().unwrap_or_else(|| "0".into())), vec![]),
            "runs/get" | "metrics/get-history" | "artifacts/list" => on(Read, run_named(query, body)),
            "metrics/get-history-bulk-interval" => {
                let runs: Vec<Target> = query_all(query, "run_ids").into_iter().map(Target::Run).collect();
                if runs.is_empty() { Need::AdminOnly } else { Need::On(Read, runs) }
            }
            "runs/delete" | "runs/restore" => on(Manage, run_named(query, body)),
            "runs/update" | "runs/log-metric" | "runs/log-parameter" | "runs/log-batch" | "runs/log-inputs"
            | "runs/set-tag" | "runs/delete-tag" | "runs/outputs" => on(Edit, run_named(query, body)),
            "runs/search" | "logged-models/search" => {
                let e = exps();
                if e.is_empty() { Need::AdminOnly } else { Need::On(Read, e) }
            }
            "logged-models" => Need::Create(Target::Experiment(exp().unwrap_or_else(|| "0".into())), vec![]),
            _ if rest.starts_with("logged-models/") => {
                let id = rest["logged-models/".len()..].split('/').next().unwrap_or("").to_string();
                let sub = rest["logged-models/".len() + id.len()..].trim_start_matches('/');
                let p = match (method.clone(), sub) {
                    (Method::GET, _) => Read,
                    (Method::DELETE, "") => Manage,
                    _ => Edit,
                };
                Need::On(p, vec![Target::LoggedModel(id)])
            }
            _ if rest.starts_with("registered-models/") || rest.starts_with("model-versions/") => {
                let reads = [
                    "registered-models/get",
                    "registered-models/search",
                    "registered-models/get-latest-versions",
                    "model-versions/get",
                    "model-versions/search",
                    "model-versions/get-download-uri",
                ];
                if get || reads.contains(&rest) {
                    Need::Signed
                } else if *method == Method::DELETE {
                    Need::AdminOnly
                } else {
                    Need::RegistryWrite(run_named("", body).into_iter().collect())
                }
            }
            _ => Need::AdminOnly,
        };
    }
    if let Some(rest) = artifacts_rest(path) {
        let target = match rest.strip_prefix("artifacts/") {
            Some(p) => artifact_target(p),
            None => query_one(query, "path").and_then(|p| artifact_target(&p)),
        };
        let p = match *method {
            Method::GET | Method::HEAD => Read,
            Method::DELETE => Manage,
            _ => Edit,
        };
        return on(p, target);
    }
    if let Some(rest) = path.strip_prefix("/api/v1/runs/") {
        let (run, sub) = rest.split_once('/').unwrap_or((rest, ""));
        let run = Some(Target::Run(run.to_string()));
        return match (method.clone(), sub) {
            (Method::GET | Method::HEAD, _) => on(Read, run),
            (Method::DELETE, "") | (Method::POST, "restore") => on(Manage, run),
            (Method::PATCH, "") | (Method::POST, "finish" | "resume" | "batch") => on(Edit, run),
            (Method::PUT, s) if s.starts_with("artifacts/") => on(Edit, run),
            _ => Need::AdminOnly,
        };
    }
    if let Some(rest) = path.strip_prefix("/api/v1/ab/") {
        let (id, sub) = rest.split_once('/').unwrap_or((rest, ""));
        let ab = Target::Ab(id.to_string());
        return match (get, sub) {
            (true, "" | "stats" | "report") => Need::On(Read, vec![ab]),
            (false, "promote") => Need::RegistryWrite(vec![ab]),
            _ => Need::AdminOnly,
        };
    }
    if let Some(id) = path.strip_prefix("/api/v1/push/ab/") {
        // `trackbench push` carrying an A/B: a write into the project its body names (and
        // into the one it is in, when it is here already).
        return if *method == Method::PUT {
            let into = Target::Project(body_str(body, "project").unwrap_or_default());
            Need::Create(into, vec![Target::Ab(id.to_string())])
        } else {
            Need::AdminOnly
        };
    }
    if let Some(rest) = path.strip_prefix("/api/v1/jobs/") {
        let id = rest.strip_suffix("/cancel").unwrap_or("");
        return if *method == Method::POST && !id.is_empty() {
            Need::Launch(Some(Target::Job(id.to_string())), false)
        } else {
            Need::AdminOnly
        };
    }
    let slurm = || body.and_then(|b| b.get("on")).and_then(Value::as_str) == Some("slurm");
    match (get, path) {
        (
            true,
            "/api/v1/openapi.json" | "/api/v1/events" | "/api/v1/projects" | "/api/v1/devices" | "/api/v1/whoami",
        )
        | (true, "/api/v1/backends" | "/api/v1/jobs" | "/api/v1/ab" | "/api/v1/models")
        | (false, "/api/v1/sweeps/plan") => Need::Signed,
        (true, "/api/v1/runs") => match query_one(query, "project") {
            Some(p) => Need::On(Read, vec![Target::Project(p)]),
            None => Need::Signed,
        },
        (false, "/api/v1/runs") => {
            let resumed = body_str(body, "id").map(Target::Run).into_iter().collect();
            Need::Create(Target::Project(body_str(body, "project").unwrap_or_default()), resumed)
        }
        (false, "/api/v1/jobs" | "/api/v1/sweeps" | "/api/v1/ab") => {
            Need::Launch(body_str(body, "project").map(Target::Project), slurm())
        }
        (true, "/api/v1/drift") => {
            let runs: Vec<Target> = ["reference", "current"]
                .iter()
                .filter_map(|k| query_one(query, k))
                .map(|v| Target::Run(v.split(':').next().unwrap_or("").to_string()))
                .collect();
            if runs.len() == 2 { Need::On(Read, runs) } else { Need::AdminOnly }
        }
        (true, "/api/v1/report") => {
            let runs: Vec<Target> = query_all(query, "runs")
                .iter()
                .flat_map(|v| v.split(','))
                .filter(|r| !r.trim().is_empty())
                .map(|r| Target::Run(r.trim().to_string()))
                .collect();
            if runs.is_empty() { Need::AdminOnly } else { Need::On(Read, runs) }
        }
        (true, p) if p.starts_with("/api/v1/models/") => Need::Signed,
        _ => Need::AdminOnly,
    }
}

fn denied(msg: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", msg)
}

/// The project (id, name) behind `t`; `None` when `t` does not exist.
fn project_of(st: &dyn Backend, state: &AppState, t: &Target) -> ApiResult<Option<(i64, String)>> {
    let by_name = |name: &str| match st.project(name) {
        Ok(p) => Ok(Some((p.id, p.name))),
        Err(StoreError::ProjectNotFound(_)) => Ok(None),
        Err(e) => Err(ApiError::from(e)),
    };
    match t {
        Target::Project(name) => by_name(name),
        Target::Experiment(id) if id == "0" => by_name(crate::mlflow::DEFAULT_EXPERIMENT),
        Target::Experiment(id) => match id.trim().parse::<i64>() {
            Ok(n) => match st.project_by_id(n) {
                Ok(p) => Ok(Some((p.id, p.name))),
                Err(StoreError::ProjectNotFound(_)) => Ok(None),
                Err(e) => Err(e.into()),
            },
            Err(_) => Ok(None),
        },
        Target::Run(id) => match st.resolve_run(id).and_then(|uid| st.run(&uid)) {
            Ok(r) => by_name(&r.project),
            Err(StoreError::RunNotFound(_) | StoreError::AmbiguousRun(..)) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Target::LoggedModel(id) => match st.logged_model(id) {
            Ok(m) => by_name(&m.project),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Target::Ab(id) => match st.resolve_ab(id).and_then(|uid| st.ab(&uid)) {
            Ok(a) => by_name(&a.project),
            Err(StoreError::AbNotFound(_) | StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        },
        Target::Job(id) => {
            let job = id.parse::<u64>().ok().and_then(|n| state.launcher.jobs().into_iter().find(|j| j.id == n));
            match job {
                Some(j) => by_name(&j.project),
                None => Ok(None),
            }
        }
    }
}

/// What `user` may do on project `id` (blocking).
fn permission(st: &dyn Backend, user: &UserInfo, id: i64) -> ApiResult<Option<Permission>> {
    Ok(st.permission(user, id)?)
}

fn what(t: &Target) -> String {
    match t {
        Target::Run(id) => format!("run {id}"),
        Target::Project(p) => format!("project `{p}`"),
        Target::Experiment(e) => format!("experiment {e}"),
        Target::LoggedModel(m) => format!("logged model {m}"),
        Target::Ab(a) => format!("A/B {a}"),
        Target::Job(j) => format!("job {j}"),
    }
}

/// What to do after the handler succeeded: give the user MANAGE on a project they created.
pub struct After {
    pub grant_manage: Option<(String, String)>,
}

/// Checks `need` for non-admin `user` (blocking); on success, says what to do after.
pub fn check(st: &dyn Backend, state: &AppState, user: &UserInfo, need: &Need) -> ApiResult<After> {
    let mut after = After { grant_manage: None };
    let require = |p: Permission, t: &Target| -> ApiResult<()> {
        let Some((id, name)) = project_of(st, state, t)? else { return Ok(()) };
        let have = permission(st, user, id)?;
        if have.is_some_and(|h| h >= p) {
            Ok(())
        } else {
            Err(denied(format!(
                "user `{}` needs {p} on project `{name}` for this ({}); they hold {}",
                user.name,
                what(t),
                have.map_or("no permission".to_string(), |h| h.to_string())
            )))
        }
    };
    match need {
        Need::Signed => {}
        Need::On(p, targets) => {
            for t in targets {
                require(*p, t)?;
            }
        }
        Need::Create(t, resumed) => {
            match project_of(st, state, t)? {
                Some(_) => require(Permission::Edit, t)?,
                None => {
                    let name = match t {
                        Target::Experiment(e) if e == "0" => crate::mlflow::DEFAULT_EXPERIMENT.to_string(),
                        Target::Project(p) => p.clone(),
                        // Runs go into existing experiments only: the handler says 404.
                        _ => String::new(),
                    };
                    if !name.is_empty() {
                        after.grant_manage = Some((name, user.name.clone()));
                    }
                }
            }
            for r in resumed {
                require(Permission::Edit, r)?;
            }
        }
        Need::Launch(target, slurm) => {
            // Cancelling: where the job runs decides.
            let job_on_slurm = match target {
                Some(Target::Job(id)) => id
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| state.launcher.jobs().into_iter().find(|j| j.id == n))
                    .is_some_and(|j| j.backend == "slurm"),
                _ => false,
            };
            if !slurm && !job_on_slurm {
                return Err(denied(
                    "a user launches only on the Slurm cluster (`\"on\": \"slurm\"`), never on the server's own \
                     machine; ask an admin",
                ));
            }
            match target {
                Some(t) if project_of(st, state, t)?.is_some() => require(Permission::Manage, t)?,
                _ => return Err(denied("launching needs MANAGE on an existing project; ask an admin")),
            }
        }
        Need::RegistryWrite(targets) => {
            let any_edit = st.user_grants(&user.name)?.iter().any(|g| g.permission >= Permission::Edit)
                || st.default_permission()?.is_some_and(|p| p >= Permission::Edit);
            if !any_edit {
                return Err(denied(format!(
                    "user `{}` writes the model registry only with EDIT on some project",
                    user.name
                )));
            }
            for t in targets {
                require(Permission::Read, t)?;
            }
        }
        Need::AdminOnly => return Err(denied(format!("only an admin may do this (user `{}` is not one)", user.name))),
    }
    Ok(after)
}

/// The projects `user` may read, by name (blocking).
pub fn readable(st: &dyn Backend, user: &UserInfo) -> ApiResult<HashSet<String>> {
    let default = st.default_permission()?;
    let grants = st.user_grants(&user.name)?;
    let mut out: HashSet<String> = grants.iter().map(|g| g.project.clone()).collect();
    if default.is_some() {
        let granted: HashSet<i64> = grants.iter().map(|g| g.project_id).collect();
        for p in st.list_projects(true)? {
            if !granted.contains(&p.id) {
                out.insert(p.name);
            }
        }
    }
    Ok(out)
}

/// Runs the permission check for a non-admin `user` on `req` (reading a JSON body first where
/// the route names its project there), then gives back the request, its caller and what to
/// do after the handler.
pub async fn authorize(
    state: &Arc<AppState>,
    user: UserInfo,
    req: Request,
) -> Result<(Request, Caller, After), (Request, ApiError)> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let json = crate::body::is_json(req.headers());
    let tags = sets_tags(&method, &path);
    let mut names_owner = false;
    let (req, body) = if (needs_body(&method, &path) && json) || tags {
        let gzip = req
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let (parts, body) = req.into_parts();
        let bytes = match crate::body::read_limited(Request::new(body), state.max_body).await {
            Ok(b) => b,
            Err(e) => return Err((Request::from_parts(parts, Body::empty()), e)),
        };
        let plain =
            if gzip { crate::body::gunzip(&bytes, state.max_body).ok().map(axum::body::Bytes::from) } else { None };
        let plain = plain.as_ref().unwrap_or(&bytes);
        names_owner = tags && contains(plain, trackbench_store::OWNER_TAG.as_bytes());
        let parsed: Option<Value> = if json { crate::body::parse_json(plain).ok() } else { None };
        (Request::from_parts(parts, Body::from(bytes)), parsed)
    } else {
        (req, None)
    };
    if names_owner {
        let e = denied(format!(
            "the `{}` tag names the user whose token created the run: only an admin may set it",
            trackbench_store::OWNER_TAG
        ));
        return Err((req, e));
    }
    let need = need(&method, &path, &query, body.as_ref());
    let s = state.clone();
    let checked = state
        .read(move |st| {
            let after = check(st, &s, &user, &need)?;
            let readable = readable(st, &user)?;
            Ok((after, Caller { user: Some(user), readable: Some(Arc::new(readable)) }))
        })
        .await;
    match checked {
        Ok((after, caller)) => Ok((req, caller, after)),
        Err(e) => Err((req, e)),
    }
}

/// After a successful request: the user who created a project manages it.
pub async fn finish(state: &Arc<AppState>, after: After) {
    if let Some((project, user)) = after.grant_manage {
        let done = state
            .write(move |st| {
                if let Ok(p) = st.project(&project) {
                    st.grant(p.id, &user, Permission::Manage)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e.message, "could not give a project's creator MANAGE on it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(m: Method, path: &str, query: &str, body: Option<Value>, want: Need) {
        assert_eq!(need(&m, path, query, body.as_ref()), want, "{m} {path}?{query}");
    }

    #[test]
    fn routes_name_what_they_touch() {
        use Permission::*;
        let run = |id: &str| Target::Run(id.into());
        check(Method::GET, "/api/v1/runs/abc/series", "", None, Need::On(Read, vec![run("abc")]));
        check(Method::POST, "/api/v1/runs/abc/batch", "", None, Need::On(Edit, vec![run("abc")]));
        check(Method::DELETE, "/api/v1/runs/abc", "", None, Need::On(Manage, vec![run("abc")]));
        check(Method::PUT, "/api/v1/runs/abc/artifacts/a/b", "", None, Need::On(Edit, vec![run("abc")]));
        check(Method::GET, "/api/v1/runs", "project=a%20b", None, Need::On(Read, vec![Target::Project("a b".into())]));
        check(Method::GET, "/api/v1/runs", "", None, Need::Signed);
        check(
            Method::POST,
            "/api/2.0/mlflow/runs/log-batch",
            "",
            Some(json!({"run_id": "r1"})),
            Need::On(Edit, vec![run("r1")]),
        );
        check(Method::GET, "/ajax-api/2.0/mlflow/runs/get", "run_uuid=r2", None, Need::On(Read, vec![run("r2")]));
        check(Method::POST, "/api/2.0/mlflow/runs/log-batch", "", Some(json!({})), Need::AdminOnly);
        check(
            Method::PUT,
            "/api/2.0/mlflow-artifacts/artifacts/3/r9/artifacts/x.txt",
            "",
            None,
            Need::On(Edit, vec![run("r9")]),
        );
        check(
            Method::POST,
            "/api/2.0/mlflow/runs/search",
            "",
            Some(json!({"experiment_ids": ["1", 2]})),
            Need::On(Read, vec![Target::Experiment("1".into()), Target::Experiment("2".into())]),
        );
        check(
            Method::POST,
            "/api/v1/jobs",
            "",
            Some(json!({"project": "p"})),
            Need::Launch(Some(Target::Project("p".into())), false),
        );
        check(Method::POST, "/api/v1/users", "", None, Need::AdminOnly);
        assert_eq!(percent_decode("a%2Fb+c%zz"), "a/b c%zz");
        assert!(sets_tags(&Method::PATCH, "/api/v1/runs/abc"));
        assert!(sets_tags(&Method::POST, "/api/v1/runs/abc/batch"));
        assert!(sets_tags(&Method::POST, "/ajax-api/2.0/mlflow/runs/set-tag"));
        assert!(!sets_tags(&Method::POST, "/api/v1/runs/abc/finish") && !sets_tags(&Method::POST, "/api/v1/runs"));
        assert!(
            contains(b"xx trackbench.owner", b"trackbench.owner") && !contains(b"trackbench.own", b"trackbench.owner")
        );
    }
}
