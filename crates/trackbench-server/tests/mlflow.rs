//! The MLflow tracking REST API against the real `trackbench serve` binary: each test starts
//! the server on a free port over its own temp store and talks HTTP to it, as the MLflow client
//! would (same paths, JSON shapes, bare NaN in bodies, error codes and statuses).
//!
//! The binary is `$TRACKBENCH_BIN`, else `trackbench` in this test's target folder, built with
//! `cargo build -p trackbench-cli` when missing or older than the sources (a server crate test
//! cannot name another crate's binary).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

const TOKEN: &str = "mlflow-test-token";

fn binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("TRACKBENCH_BIN") {
            return PathBuf::from(p);
        }
        // target/debug/deps/mlflow-<hash> -> target/debug/trackbench
        let exe = std::env::current_exe().expect("test executable path");
        let dir = exe.parent().and_then(Path::parent).expect("target profile folder");
        let bin = dir.join(format!("trackbench{}", std::env::consts::EXE_SUFFIX));
        // `cargo test --workspace` builds the binary; `cargo test -p trackbench-server` does not,
        // so build it when it is missing or older than a source file of the workspace.
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        if built.is_none_or(|b| newest_source(&crates).is_some_and(|s| s > b)) {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let ok = Command::new(cargo)
                .args(["build", "-p", "trackbench-cli"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build")
                .success();
            assert!(ok, "cargo build -p trackbench-cli failed");
        }
        bin
    })
    .clone()
}

/// Modification time of the newest `.rs` file under `crates/*/src`.
fn newest_source(crates: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut stack: Vec<PathBuf> =
        std::fs::read_dir(crates).ok()?.flatten().map(|e| e.path().join("src")).filter(|p| p.is_dir()).collect();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let t = e.metadata().and_then(|m| m.modified()).ok();
                newest = newest.max(t);
            }
        }
    }
    newest
}

/// A running `trackbench serve`, killed on drop.
struct Server {
    child: Child,
    url: String,
    agent: ureq::Agent,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Resp {
    status: u16,
    body: Value,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store");
        let mut child = Command::new(binary())
            .arg("--store")
            .arg(&store)
            .args(["serve", "--port", "0"])
            .env("TRACKBENCH_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn trackbench serve");
        let out = child.stdout.take().expect("stdout");
        let mut url = None;
        for line in BufReader::new(out).lines() {
            let line = line.expect("read server stdout");
            if let Some(rest) = line.split("MLFLOW_TRACKING_URI=").nth(1) {
                url = rest.split_whitespace().next().map(String::from);
                break;
            }
        }
        let url = url.expect("server printed its MLflow URL");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        Server { child, url, agent, dir }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn read(mut r: ureq::http::Response<ureq::Body>) -> Resp {
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Resp { status, body }
    }

    fn post_raw(&self, path: &str, body: &str) -> Resp {
        let r = self
            .agent
            .post(format!("{}/api/2.0/mlflow/{path}", self.url))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("POST");
        Self::read(r)
    }

    fn post(&self, path: &str, body: Value) -> Resp {
        self.post_raw(path, &body.to_string())
    }

    fn get(&self, path_and_query: &str) -> Resp {
        let r = self
            .agent
            .get(format!("{}/api/2.0/{path_and_query}", self.url))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .call()
            .expect("GET");
        Self::read(r)
    }

    fn ok(&self, path: &str, body: Value) -> Value {
        let r = self.post(path, body);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.body
    }

    fn get_ok(&self, path_and_query: &str) -> Value {
        let r = self.get(path_and_query);
        assert_eq!(r.status, 200, "{path_and_query}: {}", r.body);
        r.body
    }

    fn artifact(&self, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Vec<u8>) {
        let url = format!("{}/api/2.0/mlflow-artifacts/artifacts/{path}", self.url);
        let auth = format!("Bearer {TOKEN}");
        let r = match method {
            "PUT" => self.agent.put(&url).header("Authorization", &auth).send(body.unwrap_or_default()),
            "DELETE" => self.agent.delete(&url).header("Authorization", &auth).call(),
            _ => self.agent.get(&url).header("Authorization", &auth).call(),
        };
        let mut r = r.expect("artifact request");
        let status = r.status().as_u16();
        (status, r.body_mut().read_to_vec().unwrap_or_default())
    }

    /// A new experiment and a run in it: (experiment id, run id).
    fn run(&self, experiment: &str) -> (String, String) {
        let exp = self.ok("experiments/create", json!({ "name": experiment }))["experiment_id"]
            .as_str()
            .expect("experiment_id")
            .to_string();
        let run = self.ok(
            "runs/create",
            json!({ "experiment_id": exp, "run_name": "r1", "start_time": 1_700_000_000_000i64, "user_id": "ada",
                    "tags": [{ "key": "mlflow.source.name", "value": "train.py" }] }),
        );
        (exp, run["run"]["info"]["run_id"].as_str().expect("run_id").to_string())
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

#[test]
fn runs_metrics_params_tags_and_search() {
    let s = Server::start();
    let (exp, id) = s.run("exp-a");

    let run = s.get_ok(&format!("mlflow/runs/get?run_id={id}"))["run"].clone();
    let info = &run["info"];
    assert_eq!(info["run_uuid"], json!(id));
    assert_eq!(info["run_name"], "r1");
    assert_eq!(info["experiment_id"], json!(exp));
    assert_eq!(info["user_id"], "ada");
    assert_eq!(info["status"], "RUNNING");
    assert_eq!(info["start_time"], json!(1_700_000_000_000i64));
    assert_eq!(info["lifecycle_stage"], "active");
    assert_eq!(info["artifact_uri"], json!(format!("mlflow-artifacts:/{exp}/{id}/artifacts")));
    assert!(info.get("end_time").is_none(), "a running run has no end_time: {info}");
    let tags = run["data"]["tags"].as_array().expect("tags");
    assert!(tags.contains(&json!({"key": "mlflow.runName", "value": "r1"})), "{tags:?}");
    assert!(run["data"].get("metrics").is_none(), "empty fields are left out");

    // Bare NaN/Infinity, as Python's json writes them; int64 as strings, as protobuf may.
    let batch = format!(
        r#"{{"run_id": "{id}", "metrics": [
            {{"key": "loss", "value": 0.5, "timestamp": 1700000000001, "step": 0}},
            {{"key": "loss", "value": 0.25, "timestamp": "1700000000002", "step": "1"}},
            {{"key": "loss", "value": NaN, "timestamp": 1700000000003, "step": 2}},
            {{"key": "up", "value": Infinity, "timestamp": 1700000000003, "step": 0}},
            {{"key": "down", "value": -Infinity, "timestamp": 1700000000003}}],
           "params": [{{"key": "lr", "value": "0.01"}}, {{"key": "opt", "value": "adam"}}],
           "tags": [{{"key": "team", "value": "vision"}}]}}"#
    );
    assert_eq!(s.post_raw("runs/log-batch", &batch).status, 200);
    s.ok(
        "runs/log-metric",
        json!({"run_id": id, "key": "acc", "value": 0.9, "timestamp": 1_700_000_000_004i64, "step": 3}),
    );
    s.ok("runs/log-parameter", json!({"run_id": id, "key": "lr", "value": "0.01"}));
    let clash = s.post("runs/log-parameter", json!({"run_id": id, "key": "lr", "value": "0.02"}));
    assert_eq!(clash.status, 400);
    assert_eq!(clash.body["error_code"], "INVALID_PARAMETER_VALUE");
    // A batch with a clashing param stores nothing, not even its metrics.
    let mixed = s.post(
        "runs/log-batch",
        json!({"run_id": id, "metrics": [{"key": "other", "value": 1.0, "timestamp": 1, "step": 0}],
               "params": [{"key": "lr", "value": "0.5"}]}),
    );
    assert_eq!(mixed.status, 400);
    s.ok("runs/set-tag", json!({"run_id": id, "key": "gone", "value": "x"}));
    s.ok("runs/delete-tag", json!({"run_id": id, "key": "gone"}));
    assert_eq!(s.post("runs/delete-tag", json!({"run_id": id, "key": "gone"})).status, 404);
    s.ok("runs/set-tag", json!({"run_id": id, "key": "mlflow.runName", "value": "renamed"}));

    let run = s.get_ok(&format!("mlflow/runs/get?run_uuid={id}"))["run"].clone();
    assert_eq!(run["info"]["run_name"], "renamed");
    let metrics: Vec<&Value> = run["data"]["metrics"].as_array().expect("metrics").iter().collect();
    let metric = |k: &str| metrics.iter().find(|m| m["key"] == k).copied().cloned().unwrap_or(Value::Null);
    assert_eq!(metric("loss"), json!({"key": "loss", "value": "NaN", "timestamp": 1_700_000_000_003i64, "step": 2}));
    assert_eq!(metric("up")["value"], "Infinity");
    assert_eq!(metric("down")["value"], "-Infinity");
    assert_eq!(metric("other"), Value::Null);
    let params = run["data"]["params"].as_array().expect("params");
    assert_eq!(params.len(), 2);
    assert!(params.contains(&json!({"key": "lr", "value": "0.01"})));

    // History: whole, then paged.
    let h = s.get_ok(&format!("mlflow/metrics/get-history?run_id={id}&metric_key=loss"));
    let steps: Vec<i64> =
        h["metrics"].as_array().expect("metrics").iter().map(|m| m["step"].as_i64().unwrap()).collect();
    assert_eq!(steps, [0, 1, 2]);
    assert!(h.get("next_page_token").is_none());
    let p1 = s.get_ok(&format!("mlflow/metrics/get-history?run_id={id}&metric_key=loss&max_results=2"));
    assert_eq!(p1["metrics"].as_array().unwrap().len(), 2);
    let token = p1["next_page_token"].as_str().expect("next page token");
    let p2 =
        s.get_ok(&format!("mlflow/metrics/get-history?run_id={id}&metric_key=loss&max_results=2&page_token={token}"));
    assert_eq!(p2["metrics"], json!([{"key": "loss", "value": "NaN", "timestamp": 1_700_000_000_003i64, "step": 2}]));

    // A second run, then search with MLflow filter strings and order_by.
    let id2 = s.ok("runs/create", json!({"experiment_id": exp, "run_name": "r2"}))["run"]["info"]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(
        "runs/log-batch",
        json!({"run_id": id2, "metrics": [{"key": "acc", "value": 0.95, "timestamp": 5, "step": 3}],
                                   "params": [{"key": "lr", "value": "0.1"}]}),
    );
    s.ok("runs/update", json!({"run_id": id2, "status": "FINISHED", "end_time": 10}));
    let ids = |body: &Value| -> Vec<String> {
        body["runs"]
            .as_array()
            .map_or(Vec::new(), |r| r.iter().map(|r| r["info"]["run_id"].as_str().unwrap().to_string()).collect())
    };
    let all = s.ok("runs/search", json!({"experiment_ids": [exp], "order_by": ["metrics.acc DESC"]}));
    assert_eq!(ids(&all), [id2.as_str(), id.as_str()]);
    let f =
        s.ok("runs/search", json!({"experiment_ids": [exp], "filter": "params.lr = '0.01' and tags.team = 'vision'"}));
    assert_eq!(ids(&f), [id.as_str()]);
    let f = s.ok("runs/search", json!({"experiment_ids": [exp], "filter": "attributes.status = 'FINISHED'"}));
    assert_eq!(ids(&f), [id2.as_str()]);
    let f = s.ok("runs/search", json!({"experiment_ids": [exp], "filter": "tags.`mlflow.runName` = 'renamed'"}));
    assert_eq!(ids(&f), [id.as_str()]);
    let f = s.ok("runs/search", json!({"experiment_ids": [exp], "filter": "attributes.user_id = 'ada'"}));
    assert_eq!(ids(&f), [id.as_str()]);
    let page = s
        .ok("runs/search", json!({"experiment_ids": [exp], "max_results": 1, "order_by": ["attributes.run_name ASC"]}));
    assert_eq!(ids(&page), [id2.as_str()]);
    let token = page["next_page_token"].as_str().expect("token").to_string();
    let page = s.ok("runs/search", json!({"experiment_ids": [exp], "max_results": 1, "order_by": ["attributes.run_name ASC"], "page_token": token}));
    assert_eq!(ids(&page), [id.as_str()]);
    assert!(page.get("next_page_token").is_none());
    let bad = s.post("runs/search", json!({"experiment_ids": [exp], "filter": "metrics.acc >>> 1"}));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["error_code"], "INVALID_PARAMETER_VALUE");

    // Bulk interval over both runs.
    let b = s.get_ok(&format!(
        "mlflow/metrics/get-history-bulk-interval?run_ids={id}&run_ids={id2}&metric_key=acc&max_results=10"
    ));
    let got: Vec<(String, i64)> = b["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["run_id"].as_str().unwrap().to_string(), m["step"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, [(id.clone(), 3), (id2.clone(), 3)]);

    // Delete, view types, restore.
    s.ok("runs/delete", json!({"run_id": id2}));
    assert_eq!(ids(&s.ok("runs/search", json!({"experiment_ids": [exp]}))), [id.as_str()]);
    let del = s.ok("runs/search", json!({"experiment_ids": [exp], "run_view_type": "DELETED_ONLY"}));
    assert_eq!(ids(&del), [id2.as_str()]);
    assert_eq!(s.post("runs/log-metric", json!({"run_id": id2, "key": "x", "value": 1, "timestamp": 1})).status, 400);
    s.ok("runs/restore", json!({"run_id": id2}));
    assert_eq!(ids(&s.ok("runs/search", json!({"experiment_ids": [exp], "run_view_type": "ALL"}))).len(), 2);

    // Finish and read the status back; the ajax-api prefix answers the same.
    let fin = s.ok("runs/update", json!({"run_id": id, "status": "KILLED", "end_time": 1_700_000_360_000i64}));
    assert_eq!(fin["run_info"]["status"], "KILLED");
    assert_eq!(fin["run_info"]["end_time"], json!(1_700_000_360_000i64));
    let r = s
        .agent
        .get(format!("{}/ajax-api/2.0/mlflow/runs/get?run_id={id}", s.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .call()
        .expect("ajax GET");
    assert_eq!(Server::read(r).body["run"]["info"]["status"], "KILLED");
}

#[test]
fn experiments_and_inputs() {
    let s = Server::start();
    let zero = s.get_ok("mlflow/experiments/get?experiment_id=0");
    assert_eq!(zero["experiment"]["name"], "Default");
    assert_eq!(zero["experiment"]["artifact_location"], "mlflow-artifacts:/0");
    let id = s.ok("experiments/create", json!({"name": "vision", "tags": [{"key": "team", "value": "cv"}]}))["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let dup = s.post("experiments/create", json!({"name": "vision"}));
    assert_eq!((dup.status, dup.body["error_code"].as_str()), (400, Some("RESOURCE_ALREADY_EXISTS")));
    let e = s.get_ok("mlflow/experiments/get-by-name?experiment_name=vision")["experiment"].clone();
    assert_eq!(e["experiment_id"], json!(id));
    assert_eq!(e["lifecycle_stage"], "active");
    assert_eq!(e["tags"], json!([{"key": "team", "value": "cv"}]));
    assert!(e["creation_time"].as_i64().is_some());
    let missing = s.get("mlflow/experiments/get-by-name?experiment_name=nope");
    assert_eq!((missing.status, missing.body["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")));
    assert_eq!(s.get("mlflow/experiments/get?experiment_id=999").status, 404);

    s.ok("experiments/update", json!({"experiment_id": id, "new_name": "vision-2"}));
    s.ok("experiments/set-experiment-tag", json!({"experiment_id": id, "key": "owner", "value": "me"}));
    let found = s.ok("experiments/search", json!({"filter": "name LIKE 'vision%' and tags.owner = 'me'"}));
    let names: Vec<&str> =
        found["experiments"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vision-2"]);
    s.ok("experiments/delete", json!({"experiment_id": id}));
    let active = s.ok("experiments/search", json!({}));
    assert!(active["experiments"].as_array().unwrap().iter().all(|e| e["name"] != "vision-2"));
    let del = s.ok("experiments/search", json!({"view_type": "DELETED_ONLY"}));
    assert_eq!(del["experiments"][0]["lifecycle_stage"], "deleted");
    let blocked = s.post("runs/create", json!({"experiment_id": id}));
    assert_eq!(blocked.status, 400);
    s.ok("experiments/restore", json!({"experiment_id": id}));

    // Runs without an experiment id land in the default experiment; inputs are kept once.
    let run = s.ok("runs/create", json!({}))["run"]["info"].clone();
    assert_eq!(run["experiment_id"], "0");
    let rid = run["run_id"].as_str().unwrap();
    let input = json!({"tags": [{"key": "mlflow.data.context", "value": "training"}],
                       "dataset": {"name": "mnist", "digest": "abc", "source_type": "local", "source": "{}"}});
    s.ok("runs/log-inputs", json!({"run_id": rid, "datasets": [input.clone()]}));
    s.ok("runs/log-inputs", json!({"run_id": rid, "datasets": [input.clone()]}));
    let got = s.get_ok(&format!("mlflow/runs/get?run_id={rid}"));
    assert_eq!(got["run"]["inputs"]["dataset_inputs"], json!([input]));
}

#[test]
fn artifacts_proxy() {
    let s = Server::start();
    let (exp, id) = s.run("arts");
    let base = format!("{exp}/{id}/artifacts");
    assert_eq!(s.artifact("PUT", &format!("{base}/notes.txt"), Some(b"hello")).0, 200);
    assert_eq!(s.artifact("PUT", &format!("{base}/model/w.bin"), Some(&[7u8; 1000])).0, 200);
    assert_eq!(s.artifact("GET", &format!("{base}/notes.txt"), None), (200, b"hello".to_vec()));

    let list = s.get_ok(&format!("mlflow-artifacts/artifacts?path={base}"));
    assert_eq!(
        list["files"],
        json!([{"path": "model", "is_dir": true}, {"path": "notes.txt", "is_dir": false, "file_size": 5}])
    );
    let inner = s.get_ok(&format!("mlflow-artifacts/artifacts?path={base}/model"));
    assert_eq!(inner["files"], json!([{"path": "w.bin", "is_dir": false, "file_size": 1000}]));
    let tracking = s.get_ok(&format!("mlflow/artifacts/list?run_id={id}&path=model"));
    assert_eq!(tracking["root_uri"], json!(format!("mlflow-artifacts:/{base}")));
    assert_eq!(tracking["files"], json!([{"path": "model/w.bin", "is_dir": false, "file_size": 1000}]));

    assert_eq!(s.artifact("DELETE", &format!("{base}/model"), None).0, 200);
    assert_eq!(s.artifact("GET", &format!("{base}/model/w.bin"), None).0, 404);
    assert_eq!(s.artifact("GET", &format!("{exp}/nope/artifacts/notes.txt"), None).0, 404);
    // A run must be addressed under its own experiment.
    assert_eq!(s.artifact("GET", &format!("999/{id}/artifacts/notes.txt"), None).0, 404);
}

#[test]
fn errors_and_bad_paths_change_nothing() {
    let s = Server::start();
    let (exp, id) = s.run("errs");
    let base = format!("{exp}/{id}/artifacts");

    let unknown = s.get("mlflow/runs/get?run_id=doesnotexist");
    assert_eq!((unknown.status, unknown.body["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")));
    assert_eq!(
        s.post("runs/log-metric", json!({"run_id": "doesnotexist", "key": "a", "value": 1, "timestamp": 1})).status,
        404
    );
    let bad = s.post_raw("runs/log-batch", "{\"run_id\": ");
    assert_eq!((bad.status, bad.body["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")));
    assert!(bad.body["message"].as_str().unwrap().contains("JSON"), "{}", bad.body);
    let too_many: Vec<Value> =
        (0..1001).map(|i| json!({"key": "m", "value": 1.0, "timestamp": 1, "step": i})).collect();
    let r = s.post("runs/log-batch", json!({"run_id": id, "metrics": too_many}));
    assert_eq!(r.status, 400);
    let params: Vec<Value> = (0..101).map(|i| json!({"key": format!("p{i}"), "value": "v"})).collect();
    assert_eq!(s.post("runs/log-batch", json!({"run_id": id, "params": params})).status, 400);
    let long_key = "k".repeat(251);
    assert_eq!(s.post("runs/log-parameter", json!({"run_id": id, "key": long_key, "value": "v"})).status, 400);
    let long_value = "v".repeat(6001);
    assert_eq!(s.post("runs/log-parameter", json!({"run_id": id, "key": "k", "value": long_value})).status, 400);
    assert_eq!(s.get("mlflow/no/such/endpoint").status, 404);

    // No token: 401 on the MLflow paths too.
    let r = s.agent.get(format!("{}/api/2.0/mlflow/runs/get?run_id={id}", s.url)).call().expect("GET");
    assert_eq!(r.status().as_u16(), 401);

    let before = files_under(s.dir.path());
    for path in [
        format!("{base}/%2E%2E/%2E%2E/%2E%2E/escape.txt"),
        format!("{base}/a/%2E%2E/%2E%2E/%2E%2E/%2E%2E/escape.txt"),
        format!("{base}/nul%00.txt"),
        format!("{base}/back%5Cslash.txt"),
        "%2Fetc%2Fescape.txt".to_string(),
        format!("{exp}/{id}/elsewhere/escape.txt"),
    ] {
        let (status, body) = s.artifact("PUT", &path, Some(b"evil"));
        assert_eq!(status, 400, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(s.artifact("GET", &path, None).0, 400, "{path}");
    }
    // Unencoded `..` may be folded by the client; either way nothing lands outside the store.
    let (status, _) = s.artifact("PUT", &format!("{base}/../../../escape.txt"), Some(b"evil"));
    assert!(status == 400 || status == 404, "{status}");
    let after = files_under(s.dir.path());
    let outside: Vec<&PathBuf> = after.iter().filter(|p| !p.starts_with(s.store())).collect();
    assert!(outside.is_empty(), "written outside the store: {outside:?}");
    let new_blobs: Vec<&PathBuf> =
        after.iter().filter(|p| !before.contains(p) && p.components().any(|c| c.as_os_str() == "blobs")).collect();
    assert!(new_blobs.is_empty(), "blobs written by refused uploads: {new_blobs:?}");
    let list = s.get_ok(&format!("mlflow/artifacts/list?run_id={id}"));
    assert!(list.get("files").is_none(), "{list}");
}
