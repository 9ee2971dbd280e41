//! The permission table, walked over a real `trackbench serve` (on SQLite from `it`, on
//! PostgreSQL from `team`): every route of the native, launch, report, MLflow and
//! mlflow-artifacts APIs, found in the server's source as the OpenAPI test finds them, is sent
//! with no token, a stranger's, a reader's and an editor's; each must get what its class says
//! (401 without a token, 403 where the permission is missing), and the store reads the same
//! before and after the refused requests. A route missing from [`CLASSES`] fails the test, so a
//! new route cannot skip the check. Also: bad tokens (malformed, unknown, expired, revoked, a
//! removed user's) get clear 401s, listings hide unreadable projects, runs record their owner,
//! `whoami` answers, and the `mlflow` client's basic auth (user name + token) works.

use std::time::Duration;

use serde_json::{Value, json};

/// What a route needs of a user.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Class {
    /// Anyone, without a token (it reveals nothing stored).
    Public,
    /// Any signed-in user (what it lists is filtered, or it holds no project's data).
    Global,
    /// READ on the project it touches.
    Read,
    /// EDIT.
    Edit,
    /// MANAGE (deletes, restores).
    Manage,
    /// Launching on the server's machine: never a user's.
    Launch,
    /// Writing the model registry: EDIT on some project.
    RegWrite,
    /// Admins only.
    Admin,
}

use Class::*;

/// Every route (`/ajax-api/…` routes are their `/api/…` twins) and what it needs.
pub const CLASSES: &[(&str, &str, Class)] = &[
    ("GET", "/api/v1/health", Public),
    ("GET", "/api/v1/openapi.json", Global),
    ("GET", "/api/v1/events", Global),
    ("GET", "/api/v1/projects", Global),
    ("GET", "/api/v1/whoami", Global),
    ("GET", "/api/v1/runs", Global),
    ("POST", "/api/v1/runs", Edit),
    ("GET", "/api/v1/runs/{id}", Read),
    ("PATCH", "/api/v1/runs/{id}", Edit),
    ("DELETE", "/api/v1/runs/{id}", Manage),
    ("POST", "/api/v1/runs/{id}/restore", Manage),
    ("POST", "/api/v1/runs/{id}/finish", Edit),
    ("POST", "/api/v1/runs/{id}/resume", Edit),
    ("POST", "/api/v1/runs/{id}/batch", Edit),
    ("GET", "/api/v1/runs/{id}/params", Read),
    ("GET", "/api/v1/runs/{id}/metrics", Read),
    ("GET", "/api/v1/runs/{id}/series", Read),
    ("GET", "/api/v1/runs/{id}/logs", Read),
    ("GET", "/api/v1/runs/{id}/artifacts", Read),
    ("GET", "/api/v1/runs/{id}/datasets", Read),
    ("GET", "/api/v1/runs/{id}/datasets/{name}", Read),
    ("GET", "/api/v1/drift", Read),
    ("GET", "/api/v1/models", Global),
    ("GET", "/api/v1/models/{name}", Global),
    ("POST", "/api/v1/ab/{id}/promote", RegWrite),
    ("GET", "/api/v1/runs/{id}/artifacts/{*path}", Read),
    ("PUT", "/api/v1/runs/{id}/artifacts/{*path}", Edit),
    ("PUT", "/api/v1/push/ab/{id}", Edit),
    ("GET", "/api/v1/devices", Global),
    ("GET", "/api/v1/backends", Global),
    ("GET", "/api/v1/jobs", Global),
    ("POST", "/api/v1/jobs", Launch),
    ("POST", "/api/v1/jobs/{id}/cancel", Launch),
    ("POST", "/api/v1/sweeps", Launch),
    ("POST", "/api/v1/sweeps/plan", Global),
    ("GET", "/api/v1/ab", Global),
    ("POST", "/api/v1/ab", Launch),
    ("GET", "/api/v1/ab/{id}", Read),
    ("GET", "/api/v1/ab/{id}/stats", Read),
    ("GET", "/api/v1/report", Read),
    ("GET", "/api/v1/ab/{id}/report", Read),
    ("POST", "/api/2.0/mlflow/experiments/create", Edit),
    ("GET", "/api/2.0/mlflow/experiments/get", Read),
    ("GET", "/api/2.0/mlflow/experiments/get-by-name", Read),
    ("GET", "/api/2.0/mlflow/experiments/search", Global),
    ("POST", "/api/2.0/mlflow/experiments/search", Global),
    ("POST", "/api/2.0/mlflow/experiments/update", Edit),
    ("POST", "/api/2.0/mlflow/experiments/delete", Manage),
    ("POST", "/api/2.0/mlflow/experiments/restore", Manage),
    ("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", Edit),
    ("POST", "/api/2.0/mlflow/experiments/delete-experiment-tag", Edit),
    ("POST", "/api/2.0/mlflow/runs/create", Edit),
    ("POST", "/api/2.0/mlflow/runs/update", Edit),
    ("GET", "/api/2.0/mlflow/runs/get", Read),
    ("POST", "/api/2.0/mlflow/runs/delete", Manage),
    ("POST", "/api/2.0/mlflow/runs/restore", Manage),
    ("POST", "/api/2.0/mlflow/runs/search", Read),
    ("POST", "/api/2.0/mlflow/runs/log-metric", Edit),
    ("POST", "/api/2.0/mlflow/runs/log-parameter", Edit),
    ("POST", "/api/2.0/mlflow/runs/log-batch", Edit),
    ("POST", "/api/2.0/mlflow/runs/log-inputs", Edit),
    ("POST", "/api/2.0/mlflow/runs/set-tag", Edit),
    ("POST", "/api/2.0/mlflow/runs/delete-tag", Edit),
    ("GET", "/api/2.0/mlflow/metrics/get-history", Read),
    ("GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval", Read),
    ("GET", "/api/2.0/mlflow/artifacts/list", Read),
    ("POST", "/api/2.0/mlflow/runs/outputs", Edit),
    ("POST", "/api/2.0/mlflow/logged-models", Edit),
    ("POST", "/api/2.0/mlflow/logged-models/search", Read),
    ("GET", "/api/2.0/mlflow/logged-models/{model_id}", Read),
    ("PATCH", "/api/2.0/mlflow/logged-models/{model_id}", Edit),
    ("DELETE", "/api/2.0/mlflow/logged-models/{model_id}", Manage),
    ("PATCH", "/api/2.0/mlflow/logged-models/{model_id}/tags", Edit),
    ("DELETE", "/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}", Edit),
    ("POST", "/api/2.0/mlflow/logged-models/{model_id}/params", Edit),
    ("GET", "/api/2.0/mlflow/logged-models/{model_id}/artifacts/directories", Read),
    ("POST", "/api/2.0/mlflow/registered-models/create", RegWrite),
    ("POST", "/api/2.0/mlflow/registered-models/rename", RegWrite),
    ("PATCH", "/api/2.0/mlflow/registered-models/update", RegWrite),
    ("DELETE", "/api/2.0/mlflow/registered-models/delete", Admin),
    ("GET", "/api/2.0/mlflow/registered-models/get", Global),
    ("GET", "/api/2.0/mlflow/registered-models/search", Global),
    ("POST", "/api/2.0/mlflow/registered-models/get-latest-versions", Global),
    ("GET", "/api/2.0/mlflow/registered-models/get-latest-versions", Global),
    ("POST", "/api/2.0/mlflow/registered-models/set-tag", RegWrite),
    ("DELETE", "/api/2.0/mlflow/registered-models/delete-tag", Admin),
    ("POST", "/api/2.0/mlflow/registered-models/alias", RegWrite),
    ("DELETE", "/api/2.0/mlflow/registered-models/alias", Admin),
    ("GET", "/api/2.0/mlflow/registered-models/alias", Global),
    ("POST", "/api/2.0/mlflow/model-versions/create", RegWrite),
    ("PATCH", "/api/2.0/mlflow/model-versions/update", RegWrite),
    ("POST", "/api/2.0/mlflow/model-versions/transition-stage", RegWrite),
    ("DELETE", "/api/2.0/mlflow/model-versions/delete", Admin),
    ("GET", "/api/2.0/mlflow/model-versions/get", Global),
    ("GET", "/api/2.0/mlflow/model-versions/search", Global),
    ("GET", "/api/2.0/mlflow/model-versions/get-download-uri", Global),
    ("POST", "/api/2.0/mlflow/model-versions/set-tag", RegWrite),
    ("DELETE", "/api/2.0/mlflow/model-versions/delete-tag", Admin),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts", Read),
    ("GET", "/api/2.0/mlflow-artifacts/artifacts/{*path}", Read),
    ("PUT", "/api/2.0/mlflow-artifacts/artifacts/{*path}", Edit),
    ("DELETE", "/api/2.0/mlflow-artifacts/artifacts/{*path}", Manage),
];

/// The HTTP methods a route's handler chain names (`get(h).post(h2)`).
fn methods(chain: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, m) in [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("patch(", "PATCH"), ("delete(", "DELETE")] {
        let mut from = 0;
        while let Some(i) = chain[from..].find(name) {
            let at = from + i;
            let before = chain[..at].chars().next_back().unwrap_or(' ');
            if !before.is_alphanumeric() && before != '_' && before != ':' {
                out.push(m);
            }
            from = at + name.len();
        }
    }
    out
}

/// Every (method, path) the server routes, read from its source.
pub fn routes_in_source() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let native = [
        include_str!("../../src/api/mod.rs"),
        include_str!("../../src/launch/mod.rs"),
        include_str!("../../src/report.rs"),
    ]
    .concat();
    for chunk in native.split(".route(\"").skip(1) {
        let Some((path, rest)) = chunk.split_once('"') else { continue };
        let chain = rest.split(".route(").next().unwrap_or("");
        for m in methods(chain) {
            out.push((m.to_string(), path.to_string()));
        }
    }
    let mlflow = include_str!("../../src/mlflow/mod.rs");
    let tracking = mlflow.split("let tracking").nth(1).expect("the tracking table").split("];").next().unwrap_or("");
    // The table's only string literals are its paths; each one's handlers follow it.
    let parts: Vec<&str> = tracking.split('"').collect();
    for (path, chain) in parts.iter().skip(1).step_by(2).zip(parts.iter().skip(2).step_by(2)) {
        for m in methods(chain) {
            out.push((m.to_string(), format!("/api/2.0/mlflow/{path}")));
        }
    }
    for chunk in mlflow.split(".route(&format!(\"{prefix}/").skip(1) {
        let Some((path, rest)) = chunk.split_once('"') else { continue };
        if !path.starts_with("artifacts") {
            continue;
        }
        let chain = rest.split(".route(").next().unwrap_or("");
        for m in methods(chain) {
            out.push((
                m.to_string(),
                format!("/api/2.0/mlflow-artifacts/{}", path.replace("{{", "{").replace("}}", "}")),
            ));
        }
    }
    out
}

/// A server under test, and how to run the CLI against its store.
pub struct Subject<'a> {
    pub base: String,
    pub admin_token: String,
    /// Runs `trackbench --store … ARGS`: (success, stdout, stderr).
    pub cli: &'a dyn Fn(&[&str]) -> (bool, String, String),
}

pub struct Http {
    agent: ureq::Agent,
}

/// How a request authenticates.
#[derive(Clone)]
pub enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

impl Http {
    pub fn new() -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Http { agent }
    }

    /// One request; the body is JSON unless `raw`. A live stream's body is not read.
    pub fn send(&self, base: &str, auth: &Auth, method: &str, path: &str, body: &[u8], raw: bool) -> (u16, Value) {
        let url = format!("{base}{path}");
        let header = match auth {
            Auth::None => None,
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Basic(u, p) => Some(format!("Basic {}", base64(format!("{u}:{p}").as_bytes()))),
        };
        let resp = match method {
            "GET" | "DELETE" if body.is_empty() => {
                let mut req = if method == "GET" { self.agent.get(&url) } else { self.agent.delete(&url) };
                if let Some(h) = &header {
                    req = req.header("Authorization", h);
                }
                req.call()
            }
            _ => {
                let mut req = match method {
                    "PUT" => self.agent.put(&url),
                    "PATCH" => self.agent.patch(&url),
                    "DELETE" => self.agent.delete(&url).force_send_body(),
                    _ => self.agent.post(&url),
                };
                if let Some(h) = &header {
                    req = req.header("Authorization", h);
                }
                if !raw {
                    req = req.header("Content-Type", "application/json");
                }
                req.send(body)
            }
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        if path.starts_with("/api/v1/events") {
            return (status, Value::Null);
        }
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What the test made: ids every route's sample request names.
struct Ids {
    run: String,
    exp: String,
    model: String,
}

/// The request sent to `method path` (its placeholders filled, a query, a body; raw for
/// artifact uploads).
fn sample(method: &str, path: &str, ids: &Ids) -> (String, Vec<u8>, bool) {
    if let Some(rest) = path.strip_prefix("/ajax-api/") {
        let (url, body, raw) = sample(method, &format!("/api/{rest}"), ids);
        return (url.replacen("/api/", "/ajax-api/", 1), body, raw);
    }
    let Ids { run, exp, model } = ids;
    let mut p = path.to_string();
    if p.starts_with("/api/2.0/mlflow-artifacts/") {
        p = p.replace("{*path}", &format!("{exp}/{run}/artifacts/a.txt"));
    }
    p = p
        .replace("/api/v1/runs/{id}", &format!("/api/v1/runs/{run}"))
        .replace("/ab/{id}", "/ab/nosuchab")
        .replace("/jobs/{id}", "/jobs/1")
        .replace("{name}", "m")
        .replace("{*path}", "a.txt")
        .replace("{model_id}", model)
        .replace("{tag_key}", "k");
    let query = match p.as_str() {
        "/api/v1/drift" => format!("reference={run}:d&current={run}:d"),
        "/api/v1/report" => format!("runs={run}"),
        "/api/2.0/mlflow-artifacts/artifacts" => format!("path={exp}/{run}/artifacts"),
        _ if p.starts_with("/api/2.0/mlflow/") => format!(
            "run_id={run}&run_uuid={run}&experiment_id={exp}&experiment_name=secret&run_ids={run}&metric_key=loss\
             &name=m&version=1&alias=a"
        ),
        _ => String::new(),
    };
    let url = if query.is_empty() || method != "GET" { p.clone() } else { format!("{p}?{query}") };
    if method == "PUT" && !p.starts_with("/api/v1/push/") {
        return (url, b"hello".to_vec(), true);
    }
    if method == "GET" {
        return (url, Vec::new(), false);
    }
    let body = json!({
        "run_id": run, "experiment_id": exp, "experiment_ids": [exp], "project": "secret", "name": "secret",
        "key": "k", "value": "v", "metrics": [], "params": [], "tags": [], "source": "runs:/x", "version": "1",
        "alias": "a", "stage": "None", "program": "true", "on": "local",
    });
    (url, serde_json::to_vec(&body).unwrap(), false)
}

fn class_of(method: &str, path: &str) -> Option<Class> {
    let path = path.replace("/ajax-api/", "/api/");
    CLASSES.iter().find(|(m, p, _)| *m == method && *p == path).map(|(_, _, c)| *c)
}

/// What the store holds, read with the admin token: what a refused request must not change.
fn snapshot(h: &Http, s: &Subject, ids: &Ids) -> Value {
    let admin = Auth::Bearer(s.admin_token.clone());
    let get = |p: &str| h.send(&s.base, &admin, "GET", p, b"", false).1;
    let mut runs = get("/api/v1/runs?include_deleted=true&columns=params.*,tags.*,metrics.*,summary.*");
    for r in runs["runs"].as_array_mut().into_iter().flatten() {
        // Listing a running run reads its status, which the clock can move (crashed): keep what writes change.
        if let Some(o) = r.as_object_mut() {
            o.remove("status");
        }
    }
    let exps =
        h.send(&s.base, &admin, "POST", "/api/2.0/mlflow/experiments/search", br#"{"view_type":"ALL"}"#, false).1;
    json!({
        "projects": get("/api/v1/projects"),
        "runs": runs,
        "experiments": exps,
        "artifacts": get(&format!("/api/v1/runs/{}/artifacts", ids.run)),
        "logs": get(&format!("/api/v1/runs/{}/logs", ids.run)),
        "model": get(&format!("/api/2.0/mlflow/logged-models/{}", ids.model)),
        "registry": get("/api/2.0/mlflow/registered-models/search"),
        "versions": get("/api/2.0/mlflow/model-versions/search"),
    })
}

fn token_for(s: &Subject, user: &str, extra: &[&str]) -> String {
    let mut args = vec!["tokens", "create", user];
    args.extend_from_slice(extra);
    let (ok, out, err) = (s.cli)(&args);
    assert!(ok, "tokens create {user}: {err}");
    let t = out.trim().to_string();
    assert!(t.starts_with("tbu_") && t.len() == 68, "{t}");
    t
}

fn cli_ok(s: &Subject, args: &[&str]) {
    let (ok, _, err) = (s.cli)(args);
    assert!(ok, "trackbench {args:?}: {err}");
}

/// The whole walk; see the module's doc.
pub fn walk(s: &Subject) {
    let h = Http::new();
    let admin = Auth::Bearer(s.admin_token.clone());
    // The routes in the source are the routes in the table.
    let routes = routes_in_source();
    assert!(routes.len() > 80, "found {} routes: {routes:?}", routes.len());
    for (m, p) in &routes {
        assert!(
            class_of(m, p).is_some(),
            "route {m} {p} has no class in the permission table: add it to CLASSES here, and to `need` in \
             src/access.rs (until then a user who is not an admin gets 403 there)"
        );
    }

    for u in ["reader", "editor", "stranger", "temp"] {
        cli_ok(s, &["users", "add", u]);
    }
    cli_ok(s, &["users", "add", "boss", "--admin"]);
    let reader = token_for(s, "reader", &[]);
    let editor = token_for(s, "editor", &[]);
    let stranger = token_for(s, "stranger", &[]);
    let boss = token_for(s, "boss", &[]);

    // What the admin makes: a project with a run, its points, params, an artifact, a logged
    // model, a registered model with a version.
    let (st, run) = h.send(&s.base, &admin, "POST", "/api/v1/runs", br#"{"project":"secret","name":"r"}"#, false);
    assert_eq!(st, 201, "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    let batch = json!({"series": [{"key": "loss", "steps": [0], "wall_ms": [10], "values": [1.5]}],
                       "params": [["lr", 0.1]], "tags": [["t", "v"]]});
    let (st, b) = h.send(
        &s.base,
        &admin,
        "POST",
        &format!("/api/v1/runs/{run_id}/batch"),
        &serde_json::to_vec(&batch).unwrap(),
        false,
    );
    assert_eq!(st, 200, "{b}");
    let (st, _) = h.send(&s.base, &admin, "PUT", &format!("/api/v1/runs/{run_id}/artifacts/a.txt"), b"x", true);
    assert!(st < 300, "{st}");
    let (_, e) =
        h.send(&s.base, &admin, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=secret", b"", false);
    let exp = e["experiment"]["experiment_id"].as_str().expect("experiment").to_string();
    let (st, m) = h.send(
        &s.base,
        &admin,
        "POST",
        "/api/2.0/mlflow/logged-models",
        json!({"experiment_id": exp, "name": "lm"}).to_string().as_bytes(),
        false,
    );
    assert_eq!(st, 200, "{m}");
    let model = m["model"]["info"]["model_id"].as_str().expect("model id").to_string();
    let (st, _) =
        h.send(&s.base, &admin, "POST", "/api/2.0/mlflow/registered-models/create", br#"{"name":"m"}"#, false);
    assert_eq!(st, 200);
    let v = json!({"name": "m", "source": format!("runs:/{run_id}/model"), "run_id": run_id});
    let (st, _) =
        h.send(&s.base, &admin, "POST", "/api/2.0/mlflow/model-versions/create", v.to_string().as_bytes(), false);
    assert_eq!(st, 200);
    // A second project nobody is granted.
    let (st, _) = h.send(&s.base, &admin, "POST", "/api/v1/runs", br#"{"project":"other","name":"o"}"#, false);
    assert_eq!(st, 201);
    cli_ok(s, &["projects", "grant", "secret", "reader", "read"]);
    cli_ok(s, &["projects", "grant", "secret", "editor", "edit"]);
    let ids = Ids { run: run_id.clone(), exp: exp.clone(), model };

    // Refused requests change nothing.
    let before = snapshot(&h, s, &ids);
    let callers = [
        ("no token", Auth::None),
        ("stranger", Auth::Bearer(stranger.clone())),
        ("reader", Auth::Bearer(reader.clone())),
    ];
    for (m, p) in &routes {
        for path in [p.clone(), p.replace("/api/2.0/", "/ajax-api/2.0/")] {
            if &path != p && !p.starts_with("/api/2.0/") {
                continue;
            }
            let class = class_of(m, &path).unwrap();
            let (url, body, raw) = sample(m, &path, &ids);
            for (who, auth) in &callers {
                let (status, answer) = h.send(&s.base, auth, m, &url, &body, raw);
                let want_refused = match (*who, class) {
                    (_, Public) => false,
                    ("no token", _) => {
                        assert_eq!(status, 401, "{who}: {m} {url}: {answer}");
                        continue;
                    }
                    (_, Global) => false,
                    ("reader", Read) => false,
                    _ => true,
                };
                if want_refused {
                    // A sample naming nothing that exists (an A/B) may be a 404 instead: it touches nothing.
                    let nothing_there = url.contains("nosuchab") && status == 404;
                    assert!(status == 403 || nothing_there, "{who}: {m} {url} ({class:?}) answered {status}: {answer}");
                    if status == 403 {
                        assert_eq!(answer["error_code"], "PERMISSION_DENIED", "{who}: {m} {url}");
                    }
                } else {
                    assert!(status != 401 && status != 403, "{who}: {m} {url} ({class:?}) refused: {status} {answer}");
                }
            }
        }
    }
    assert_eq!(snapshot(&h, s, &ids), before, "a refused request changed the store");

    // Listings show only readable projects' rows.
    let names = |auth: &Auth| -> Vec<String> {
        let (_, v) = h.send(&s.base, auth, "GET", "/api/v1/projects", b"", false);
        v["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&Auth::Bearer(stranger.clone())), Vec::<String>::new());
    assert_eq!(names(&Auth::Bearer(reader.clone())), ["secret"]);
    let all = names(&Auth::Bearer(boss.clone()));
    assert!(
        all.contains(&"other".to_string()) && all.contains(&"secret".to_string()),
        "an admin user sees all: {all:?}"
    );
    let (_, runs) = h.send(&s.base, &Auth::Bearer(stranger.clone()), "GET", "/api/v1/runs", b"", false);
    assert_eq!(runs["runs"], json!([]));
    let (_, runs) = h.send(&s.base, &Auth::Bearer(reader.clone()), "GET", "/api/v1/runs", b"", false);
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1);
    let (_, exps) =
        h.send(&s.base, &Auth::Bearer(stranger.clone()), "GET", "/api/2.0/mlflow/experiments/search", b"", false);
    assert!(!exps.to_string().contains("secret"), "{exps}");
    let (_, who) = h.send(&s.base, &Auth::Bearer(reader.clone()), "GET", "/api/v1/whoami", b"", false);
    assert_eq!(who, json!({"user": "reader", "admin": false, "projects": {"secret": "READ"}}));
    let (_, who) = h.send(&s.base, &admin, "GET", "/api/v1/whoami", b"", false);
    assert_eq!((who["user"].clone(), who["admin"].clone()), (Value::Null, json!(true)));

    // The editor writes what EDIT allows, never what MANAGE or launching needs.
    let ed = Auth::Bearer(editor.clone());
    for (m, p) in &routes {
        let class = class_of(m, p).unwrap();
        let (url, body, raw) = sample(m, p, &ids);
        let (status, answer) = h.send(&s.base, &ed, m, &url, &body, raw);
        match class {
            Public | Global | Read | Edit | RegWrite => {
                assert!(status != 401 && status != 403, "editor: {m} {url} ({class:?}) refused: {status} {answer}")
            }
            Manage | Launch | Admin => {
                let nothing_there = url.contains("nosuchab") && status == 404;
                assert!(status == 403 || nothing_there, "editor: {m} {url} ({class:?}) answered {status}: {answer}")
            }
        }
    }
    // A run records its owner (a client's claim to another owner is replaced).
    let body = br#"{"project":"secret","name":"mine","tags":[["trackbench.owner","boss"]]}"#;
    let (st, mine) = h.send(&s.base, &ed, "POST", "/api/v1/runs", body, false);
    assert_eq!(st, 201, "{mine}");
    let (_, tags) = h.send(&s.base, &ed, "GET", &format!("/api/v1/runs/{}", mine["id"].as_str().unwrap()), b"", false);
    assert_eq!(tags["tags"]["trackbench.owner"], "editor", "{tags}");
    let mlflow_run = json!({"experiment_id": exp, "run_name": "ml"});
    let (st, mr) =
        h.send(&s.base, &ed, "POST", "/api/2.0/mlflow/runs/create", mlflow_run.to_string().as_bytes(), false);
    assert_eq!(st, 200, "{mr}");
    let owner = mr["run"]["data"]["tags"].as_array().unwrap().iter().find(|t| t["key"] == "trackbench.owner").cloned();
    assert_eq!(owner.map(|t| t["value"].clone()), Some(json!("editor")));
    // Only an admin may change the owner tag afterwards.
    let mine_id = mine["id"].as_str().unwrap().to_string();
    let forge = json!({"run_id": mine_id, "key": "trackbench.owner", "value": "boss"}).to_string();
    let (st, e) = h.send(&s.base, &ed, "POST", "/api/2.0/mlflow/runs/set-tag", forge.as_bytes(), false);
    assert_eq!(st, 403, "{e}");
    let patch = br#"{"tags":{"trackbench.owner":"boss"}}"#;
    let (st, e) = h.send(&s.base, &ed, "PATCH", &format!("/api/v1/runs/{mine_id}"), patch, false);
    assert_eq!(st, 403, "{e}");
    let batch = br#"{"tags":[["trackbench.owner","boss"]]}"#;
    let (st, e) = h.send(&s.base, &ed, "POST", &format!("/api/v1/runs/{mine_id}/batch"), batch, false);
    assert_eq!(st, 403, "{e}");
    let (st, _) =
        h.send(&s.base, &ed, "POST", &format!("/api/v1/runs/{mine_id}/batch"), br#"{"tags":[["x","y"]]}"#, false);
    assert_eq!(st, 200, "other tags are the editor's to set");
    let (st, e) = h.send(&s.base, &admin, "POST", "/api/2.0/mlflow/runs/set-tag", forge.as_bytes(), false);
    assert_eq!(st, 200, "{e}");
    // A user who makes a new project manages it; an admin's runs have no owner.
    let (st, _) = h.send(&s.base, &ed, "POST", "/api/v1/runs", br#"{"project":"eds","name":"x"}"#, false);
    assert_eq!(st, 201);
    let (_, who) = h.send(&s.base, &ed, "GET", "/api/v1/whoami", b"", false);
    assert_eq!(who["projects"]["eds"], "MANAGE", "{who}");
    let (_, r) = h.send(&s.base, &admin, "GET", &format!("/api/v1/runs/{run_id}"), b"", false);
    assert!(r["tags"].get("trackbench.owner").is_none(), "{r}");

    // The mlflow client's basic auth: the user's name and their token as the password.
    let get = format!("/api/2.0/mlflow/runs/get?run_id={run_id}");
    let (st, _) = h.send(&s.base, &Auth::Basic("reader".into(), reader.clone()), "GET", &get, b"", false);
    assert_eq!(st, 200);
    let (st, e) = h.send(&s.base, &Auth::Basic("editor".into(), reader.clone()), "GET", &get, b"", false);
    assert_eq!(st, 401, "{e}");

    // Bad tokens: each a 401 that says why.
    let refused = |auth: Auth, why: &str| {
        let (st, e) = h.send(&s.base, &auth, "GET", "/api/v1/projects", b"", false);
        assert_eq!(st, 401, "{why}: {e}");
        assert_eq!(e["error_code"], "UNAUTHENTICATED");
        let msg = e["message"].as_str().unwrap_or("");
        assert!(msg.contains(why), "{msg:?} should say {why:?}");
    };
    refused(Auth::Bearer("tbu_123".into()), "malformed");
    refused(Auth::Bearer(format!("tbu_{}", "0".repeat(64))), "unknown token");
    refused(Auth::Bearer("not-a-token".into()), "wrong access token");
    refused(Auth::None, "missing access token");
    let short = token_for(s, "reader", &["--expires", "0.00002"]); // under 2 s
    std::thread::sleep(Duration::from_millis(2200));
    refused(Auth::Bearer(short), "expired");
    let (_, list, _) = (s.cli)(&["tokens", "ls", "--user", "stranger", "--json"]);
    let id = serde_json::from_str::<Value>(&list).unwrap()[0]["id"].as_i64().unwrap().to_string();
    cli_ok(s, &["tokens", "revoke", &id]);
    refused(Auth::Bearer(stranger), "revoked");
    // A user removed while their token is in use: refused from the next request on.
    let temp = token_for(s, "temp", &[]);
    let (st, _) = h.send(&s.base, &Auth::Bearer(temp.clone()), "GET", "/api/v1/whoami", b"", false);
    assert_eq!(st, 200);
    cli_ok(s, &["users", "rm", "temp"]);
    refused(Auth::Bearer(temp), "unknown token");
}
