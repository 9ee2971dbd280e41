//! Launching through the API against the real server (which launches the real `trackbench`
//! trainer and real commands): jobs through their states, cancel, a sweep, an A/B with the
//! reference trainer to its verdict, report downloads, the 403 off loopback and the 400s that
//! create nothing.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Api, Server};

/// Polls job `id` until `done(job)` (30 s at most); returns it and every state seen.
fn wait_job(s: &Server, id: u64, done: impl Fn(&Value) -> bool) -> (Value, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let (st, jobs) = s.get("/api/v1/jobs");
        assert_eq!(st, 200, "{jobs}");
        let job = jobs.as_array().unwrap().iter().find(|j| j["id"] == id).cloned().expect("job listed");
        let state = job["state"].as_str().unwrap().to_string();
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        if done(&job) {
            return (job, seen);
        }
        assert!(Instant::now() < deadline, "job {id} stuck: {job}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn ended(j: &Value) -> bool {
    !j["ended_at"].is_null()
}

fn post_job(s: &Server, body: Value) -> Value {
    let (st, job) = s.post("/api/v1/jobs", &body.to_string());
    assert_eq!(st, 201, "{job}");
    job
}

#[test]
fn a_command_runs_as_a_job_through_its_states() {
    let s = Server::start();
    let job = post_job(
        &s,
        json!({"project": "p", "name": "hello", "device": "cpu", "program": "sh",
               "args": ["-c", "echo hi from the job; sleep 0.5"], "env": {"X": "1"}, "tags": ["k=v", "label"]}),
    );
    assert_eq!(job["state"], "queued");
    assert_eq!(job["device"], "cpu");
    let id = job["id"].as_u64().unwrap();
    let (job, seen) = wait_job(&s, id, ended);
    assert_eq!(job["state"], "finished", "{job}");
    assert_eq!(job["exit_code"], 0);
    assert!(seen.contains(&"running".to_string()), "states seen: {seen:?}");
    assert_eq!(seen.last().unwrap(), "finished");
    let run = job["run_id"].as_str().expect("run id");
    let (_, detail) = s.get(&format!("/api/v1/runs/{run}"));
    assert_eq!(detail["run"]["status"], "finished", "{detail}");
    assert_eq!(detail["run"]["name"], "hello");
    assert_eq!((detail["tags"]["k"].as_str(), detail["tags"]["label"].as_str()), (Some("v"), Some("")), "{detail}");
    let (_, logs) = s.get(&format!("/api/v1/runs/{run}/logs"));
    assert!(logs.to_string().contains("hi from the job"), "{logs}");
    // A failing command is a failed job with its exit code.
    let job = post_job(&s, json!({"project": "p", "program": "sh", "args": ["-c", "exit 3"]}));
    let (job, _) = wait_job(&s, job["id"].as_u64().unwrap(), ended);
    assert_eq!((job["state"].as_str(), job["exit_code"].as_i64()), (Some("failed"), Some(3)));
}

#[test]
fn a_running_job_is_cancelled() {
    let s = Server::start();
    let job = post_job(&s, json!({"project": "p", "program": "sleep", "args": ["30"]}));
    let id = job["id"].as_u64().unwrap();
    let (job, _) = wait_job(&s, id, |j| !j["run_id"].is_null() && j["state"] == "running");
    let t0 = Instant::now();
    let (st, _) = s.post(&format!("/api/v1/jobs/{id}/cancel"), "");
    assert_eq!(st, 200);
    let (done, _) = wait_job(&s, id, ended);
    assert_eq!(done["state"], "killed", "{done}");
    assert!(t0.elapsed() < Duration::from_secs(9), "SIGTERM ends sleep at once");
    let (_, run) = s.get(&format!("/api/v1/runs/{}", job["run_id"].as_str().unwrap()));
    assert_eq!(run["run"]["status"], "killed");
    assert_eq!(s.post("/api/v1/jobs/999/cancel", "").0, 404);
    assert_eq!(s.post("/api/v1/jobs/abc/cancel", "").0, 400);
}

#[test]
fn a_queued_job_cancelled_never_starts() {
    let s = Server::start_with(&["--cpu-slots", "1"]);
    let first = post_job(&s, json!({"project": "p", "program": "sleep", "args": ["30"]}));
    let second = post_job(&s, json!({"project": "p", "program": "sleep", "args": ["30"]}));
    let (a, b) = (first["id"].as_u64().unwrap(), second["id"].as_u64().unwrap());
    wait_job(&s, a, |j| j["state"] == "running");
    let (_, jobs) = s.get("/api/v1/jobs");
    assert_eq!(jobs[1]["state"], "queued", "one CPU slot: {jobs}");
    assert_eq!(s.post(&format!("/api/v1/jobs/{b}/cancel"), "").0, 200);
    let (b_done, _) = wait_job(&s, b, ended);
    assert_eq!(b_done["state"], "cancelled");
    assert!(b_done["run_id"].is_null(), "it never made a run: {b_done}");
    s.post(&format!("/api/v1/jobs/{a}/cancel"), "");
    let (a_done, _) = wait_job(&s, a, ended);
    assert_eq!(a_done["state"], "killed");
    assert_eq!(s.get("/api/v1/runs").1["runs"].as_array().unwrap().len(), 1);
}

/// `body` (a JSON object's text) with `fields` set.
fn body_with(body: &str, fields: &[(&str, Value)]) -> String {
    let mut v: Value = serde_json::from_str(body).unwrap();
    for (k, x) in fields {
        v[*k] = x.clone();
    }
    v.to_string()
}

#[test]
fn a_two_by_two_sweep_makes_four_jobs() {
    let s = Server::start();
    let body = json!({"project": "sw", "device": "cpu", "program": "sh",
                      "args": ["-c", "echo lr={lr} seed={seed} $TRACKBENCH_PARAM_LR"],
                      "grid": {"lr": ["0.1", 0.01], "seed": [1, 2]}})
    .to_string();
    // The dry run lists the jobs the sweep will start, in order, and starts nothing.
    let (st, plan) = s.post("/api/v1/sweeps/plan?limit=3", &body);
    assert_eq!(st, 200, "{plan}");
    assert_eq!((plan["combinations"].as_u64(), plan["count"].as_u64()), (Some(4), Some(4)), "{plan}");
    let planned = plan["jobs"].as_array().unwrap();
    assert_eq!(planned.len(), 3, "limit caps the list");
    assert_eq!(planned[1]["params"], json!({"lr": "0.1", "seed": "2"}));
    assert_eq!(planned[1]["command"], "sh -c 'echo lr=0.1 seed=2 $TRACKBENCH_PARAM_LR'");
    assert_eq!(s.get("/api/v1/jobs").1, json!([]), "a dry run queues nothing");
    // Without a command (the form's preview as it is filled in) the grid alone is planned, in
    // the same order; a seeded random sample is the one the sweep would run.
    let grid_only = json!({"grid": {"lr": ["0.1", 0.01], "seed": [1, 2]}, "random": 3, "seed": 5});
    let (st, g) = s.post("/api/v1/sweeps/plan", &grid_only.to_string());
    assert_eq!(st, 200, "{g}");
    assert_eq!((g["combinations"].as_u64(), g["count"].as_u64()), (Some(4), Some(3)), "{g}");
    assert!(g["jobs"].as_array().unwrap().iter().all(|j| j["command"].is_null() && j["name"].is_string()), "{g}");
    let mut sampled = body_with(&body, &[("random", json!(3)), ("seed", json!(5))]);
    let (_, full) = s.post("/api/v1/sweeps/plan", &sampled);
    let names = |v: &Value| v["jobs"].as_array().unwrap().iter().map(|j| j["name"].clone()).collect::<Vec<_>>();
    assert_eq!(names(&g), names(&full), "the same sample with or without a command");
    sampled = body_with(&body, &[("random", json!(0))]);
    assert_eq!(s.post("/api/v1/sweeps/plan", &sampled).0, 400);
    let (st, out) = s.post("/api/v1/sweeps", &body);
    assert_eq!(st, 201, "{out}");
    let sweep = out["sweep_id"].as_str().unwrap().to_string();
    let jobs = out["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 4);
    for (p, j) in planned.iter().zip(jobs) {
        assert_eq!((&p["name"], &p["command"]), (&j["name"], &j["command"]), "the plan is what was launched");
    }
    let mut names: Vec<String> = jobs.iter().map(|j| j["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4, "{names:?}");
    for j in jobs {
        assert_eq!(j["sweep_id"], sweep.as_str());
        let (j, _) = wait_job(&s, j["id"].as_u64().unwrap(), ended);
        assert_eq!(j["state"], "finished", "{j}");
        let (_, logs) = s.get(&format!("/api/v1/runs/{}/logs", j["run_id"].as_str().unwrap()));
        assert!(logs.to_string().contains("lr=0.1 seed=") || logs.to_string().contains("lr=0.01 seed="), "{logs}");
    }
    let (_, runs) = s.get(&format!("/api/v1/runs?filter=attributes.group%20%3D%20%27{sweep}%27"));
    assert_eq!(runs["runs"].as_array().unwrap().len(), 4, "{runs}");
}

#[test]
fn an_ab_with_the_trainer_ends_with_a_verdict_and_reports() {
    let s = Server::start();
    let (st, out) = s.post(
        "/api/v1/ab",
        &json!({"project": "abp", "name": "lr test", "metric": "val/acc", "goal": "max", "seeds": 2,
                "device": "cpu", "a": {"lr": 0.05}, "b": {"lr": 0.2},
                "trainer": {"dataset": "spirals", "samples": 300, "epochs": 2, "hidden": [16], "batch_size": 32}})
        .to_string(),
    );
    assert_eq!(st, 201, "{out}");
    let ab = out["ab_id"].as_str().unwrap().to_string();
    assert_eq!(out["jobs"].as_array().unwrap().len(), 4);
    assert!(!out["jobs"][0]["command"].as_str().unwrap().contains("--lr '{lr}'"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let detail = loop {
        let (st, d) = s.get(&format!("/api/v1/ab/{ab}"));
        assert_eq!(st, 200, "{d}");
        if d["status"] != "running" {
            break d;
        }
        assert!(Instant::now() < deadline, "A/B did not end: {d}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(detail["status"], "finished", "{detail}");
    assert!(detail["result"]["comparison"]["verdict"].is_string(), "{detail}");
    assert_eq!(detail["runs"].as_array().unwrap().len(), 4);
    let (_, list) = s.get("/api/v1/ab?project=abp");
    assert_eq!(list[0]["id"], ab.as_str());

    // The statistics the UI draws come from the server and agree with the stored verdict.
    let (st, live) = s.get(&format!("/api/v1/ab/{ab}/stats"));
    assert_eq!(st, 200, "{live}");
    let runs = live["runs"].as_array().unwrap();
    let arms: Vec<&str> = runs.iter().map(|r| r["arm"].as_str().unwrap()).collect();
    assert_eq!(arms, ["a", "b", "a", "b"], "launch order");
    assert!(runs.iter().all(|r| r["counts"] == true && r["value"].is_number()), "{live}");
    let c = &detail["result"]["comparison"];
    for arm in ["a", "b"] {
        let (x, mean) = (&live[arm], live[arm]["mean"].as_f64().unwrap());
        assert_eq!(x["n"], 2, "{live}");
        assert!((mean - c[arm]["mean"].as_f64().unwrap()).abs() < 1e-12, "{x} vs {c}");
        let (lo, hi) = (x["ci_low"].as_f64().unwrap(), x["ci_high"].as_f64().unwrap());
        assert!(lo <= mean && mean <= hi && x["min"].as_f64() <= x["max"].as_f64(), "{x}");
    }
    assert_eq!(s.get("/api/v1/ab/nosuchab/stats").0, 404);

    let resp = s
        .agent
        .get(s.url(&format!("/api/v1/ab/{ab}/report")))
        .header("Authorization", format!("Bearer {}", s.token))
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let cd = resp.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(cd.starts_with("attachment; filename=\"trackbench-report-ab-") && cd.ends_with(".html\""), "{cd}");
    let html = resp.into_body().read_to_string().unwrap();
    assert!(html.contains("A1 lr=0.05") && html.contains("B2 lr=0.2"), "the report names the runs");

    // A report of chosen runs.
    let ids: Vec<String> =
        detail["runs"].as_array().unwrap().iter().map(|r| r["run_id"].as_str().unwrap().to_string()).collect();
    let url = s.url(&format!("/api/v1/report?runs={},{}&metrics=val/acc&title=Two%20runs", ids[0], ids[1]));
    let resp = s.agent.get(url).header("Authorization", format!("Bearer {}", s.token)).call().unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.into_body().read_to_string().unwrap();
    assert!(html.contains("Two runs") && html.contains("A1 lr=0.05") && html.contains("B1 lr=0.2"));
    assert!(!html.contains("<script"), "self-contained, no scripts");
    let (st, e) = s.get("/api/v1/report");
    assert_eq!(st, 400, "{e}");
    let (st, _) = s.get("/api/v1/report?runs=nosuchrun");
    assert_eq!(st, 404);
    let (st, _) = s.get("/api/v1/ab/nosuchab/report");
    assert_eq!(st, 404);
}

#[test]
fn a_cancelled_ab_records_its_runs_and_ends_killed() {
    let s = Server::start();
    let (st, out) = s.post(
        "/api/v1/ab",
        &json!({"project": "abc", "metric": "m", "goal": "min", "seeds": 2, "device": "cpu",
                "program": "sh", "args": ["-c", "sleep 30 # {x}"], "a": {"x": 1}, "b": {"x": 2}})
        .to_string(),
    );
    assert_eq!(st, 201, "{out}");
    let ab = out["ab_id"].as_str().unwrap().to_string();
    let ids: Vec<u64> = out["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_u64().unwrap()).collect();
    // The first job runs (its run is on the A/B while it runs), then every job is cancelled.
    wait_job(&s, ids[0], |j| !j["run_id"].is_null());
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.get(&format!("/api/v1/ab/{ab}")).1["runs"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the running job's run was never recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    for id in ids.iter().rev() {
        assert_eq!(s.post(&format!("/api/v1/jobs/{id}/cancel"), "").0, 200);
    }
    let detail = loop {
        let (_, d) = s.get(&format!("/api/v1/ab/{ab}"));
        if d["status"] != "running" {
            break d;
        }
        assert!(Instant::now() < deadline, "A/B did not end: {d}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(detail["status"], "killed", "{detail}");
    let runs = detail["runs"].as_array().unwrap();
    assert!(!runs.is_empty() && runs.iter().all(|r| r["arm"] == "a" || r["arm"] == "b"), "{detail}");
    let (_, live) = s.get(&format!("/api/v1/ab/{ab}/stats"));
    assert!(live["runs"].as_array().unwrap().iter().all(|r| r["counts"] == false), "{live}");
    assert_eq!((&live["a"]["n"], &live["b"]["n"]), (&json!(0), &json!(0)), "{live}");
}

#[test]
fn bad_launch_bodies_are_400s_that_create_nothing() {
    let s = Server::start();
    let bad: Vec<(&str, Value, &str)> = vec![
        ("/api/v1/jobs", json!({"program": "sh", "device": "tpu:0"}), "device"),
        ("/api/v1/jobs", json!({"program": "sh", "device": "cuda:99"}), "unknown device"),
        ("/api/v1/jobs", json!({"program": "sh", "device": "wgpu:no-such-adapter-xyz"}), "unknown device"),
        ("/api/v1/jobs", json!({"program": ""}), "empty"),
        ("/api/v1/jobs", json!({"project": "p"}), "no command"),
        ("/api/v1/jobs", json!({"program": "no-such-program-xyz"}), "not found"),
        ("/api/v1/jobs", json!({"program": "sh", "dir": "/no/such/folder"}), "not a folder"),
        ("/api/v1/jobs", json!({"program": "sh", "trainer": {"lr": 1}}), "not both"),
        ("/api/v1/jobs", json!({"trainer": {"nonsense": 1}}), "unknown trainer parameter"),
        ("/api/v1/jobs", json!({"program": "sh", "args": "not a list"}), ""),
        ("/api/v1/jobs", json!({"program": "sh", "tags": ["=v"]}), "tag"),
        ("/api/v1/jobs", json!({"program": "sh", "env": {"A=B": "1"}}), "environment variable"),
        ("/api/v1/sweeps", json!({"program": "sh", "grid": {}}), "grid"),
        ("/api/v1/sweeps", json!({"program": "sh", "grid": {"lr": []}}), "no values"),
        ("/api/v1/sweeps", json!({"program": "sh", "grid": {"bad name": [1]}}), "name"),
        (
            "/api/v1/sweeps",
            json!({"program": "sh", "grid": {"a": (0..40).collect::<Vec<_>>(), "b": (0..40).collect::<Vec<_>>()}}),
            "at most 1000",
        ),
        (
            "/api/v1/ab",
            json!({"program": "sh", "metric": "m", "goal": "max", "seeds": 1, "a": {"x": 1}, "b": {"x": 2}}),
            "at least 2",
        ),
        ("/api/v1/ab", json!({"program": "sh", "metric": "m", "seeds": 2, "a": {"x": 1}, "b": {"x": 2}}), "goal"),
        ("/api/v1/ab", json!({"program": "sh", "metric": "m", "goal": "max", "seeds": 2}), "arms"),
        ("/api/v1/ab", json!({"metric": "m", "goal": "max", "from_groups": ["only-one"]}), "two run groups"),
    ];
    for (path, body, msg) in bad {
        let (st, e) = s.post(path, &body.to_string());
        assert_eq!(st, 400, "{path} {body}: {e}");
        assert!(e["message"].as_str().unwrap_or("").contains(msg), "{path} {body}: {e}");
        if path == "/api/v1/sweeps" {
            // The dry run refuses what the sweep would, with the same words.
            let (st, p) = s.post("/api/v1/sweeps/plan", &body.to_string());
            assert_eq!((st, &p["message"]), (400, &e["message"]), "{body}");
        }
    }
    let (st, e) = s.post("/api/v1/ab", &json!({"metric": "m", "goal": "max", "from_groups": ["ga", "gb"]}).to_string());
    assert_eq!(st, 404, "groups without runs: {e}");
    assert_eq!(s.get("/api/v1/runs?include_deleted=true").1["runs"], json!([]), "no run was created");
    assert_eq!(s.get("/api/v1/jobs").1, json!([]), "no job was queued");
    assert_eq!(s.get("/api/v1/ab").1, json!([]), "no A/B was stored");
    let (st, devices) = s.get("/api/v1/devices");
    assert_eq!(st, 200);
    assert_eq!(devices[0]["id"], "cpu", "{devices}");
    assert!(devices.as_array().unwrap().iter().all(|d| d["kind"].is_string() && d["name"].is_string()));
}

#[test]
fn launching_off_loopback_needs_allow_launch() {
    let s = Server::start_with(&["--host", "0.0.0.0"]);
    let body = json!({"project": "p", "program": "sh", "args": ["-c", "true"]}).to_string();
    let (st, e) = s.post("/api/v1/jobs", &body);
    assert_eq!(st, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("--allow-launch"), "{e}");
    let sweep = json!({"program": "sh", "args": ["-c", "true"], "grid": {"x": [1]}}).to_string();
    assert_eq!(s.post("/api/v1/sweeps", &sweep).0, 403);
    assert_eq!(s.post("/api/v1/sweeps/plan", &sweep).0, 403);
    assert_eq!(s.post("/api/v1/jobs/1/cancel", "").0, 403);
    assert_eq!(s.get("/api/v1/runs").1["runs"], json!([]));
    assert_eq!(s.get("/api/v1/jobs").0, 200, "reading stays allowed");
    let s = Server::start_with(&["--host", "0.0.0.0", "--allow-launch"]);
    let (st, job) = s.post("/api/v1/jobs", &body);
    assert_eq!(st, 201, "{job}");
    wait_job(&s, job["id"].as_u64().unwrap(), ended);
}
