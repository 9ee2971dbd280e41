//! Launching on a real Slurm cluster through `trackbench serve --slurm`: the cluster whose
//! `slurm.conf` `TRACKBENCH_TEST_SLURM` names (`cargo xtask slurm` keeps one running; the
//! server gets it as `SLURM_CONF`), never a fake `sbatch`. A sweep as one array with its tasks'
//! logs and `slurm.job` tags, Slurm's own refusal of an unknown partition as a 400 that creates
//! nothing, an A/B of the reference trainer to its stored verdict, and a running task cancelled
//! (scancel) ending killed; with the test PostgreSQL too (`TRACKBENCH_TEST_POSTGRES`), a team
//! server that launches on the cluster but never on its own machine. Without a cluster those
//! tests skip, saying why; what needs no cluster (the 403 without `--slurm`, the backends the
//! UI is offered) always runs.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Api, Server, TOKEN, bin};

fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// The test cluster's `slurm.conf`, or `None` (and a skip said) without one.
fn cluster(test: &str) -> Option<PathBuf> {
    match std::env::var_os("TRACKBENCH_TEST_SLURM").filter(|v| !v.is_empty()) {
        Some(conf) => Some(PathBuf::from(conf)),
        None => {
            skipped(&format!(
                "{test}: TRACKBENCH_TEST_SLURM is not set (the slurm.conf of a running test cluster: `cargo xtask slurm`)"
            ));
            None
        }
    }
}

/// `trackbench serve --slurm` over a temp store, the Slurm clients pointed at `conf`, working
/// in the store's temp folder (where the tasks' output files go).
fn serve_slurm(conf: &Path) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store");
    serve_slurm_on(conf, dir, &["--store".as_ref(), store.as_os_str()])
}

/// [`serve_slurm`] with the store given by `store` (the global flags before `serve`), in `dir`.
fn serve_slurm_on(conf: &Path, dir: tempfile::TempDir, store: &[&std::ffi::OsStr]) -> Server {
    let mut child = Command::new(bin())
        .args(store)
        .args(["serve", "--port", "0", "--slurm"])
        .env("TRACKBENCH_TOKEN", TOKEN)
        .env("SLURM_CONF", conf)
        .env_remove("TRACKBENCH_URL")
        .env_remove("TRACKBENCH_DIR")
        .env_remove("TRACKBENCH_ARTIFACTS")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning trackbench serve --slurm");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let base = loop {
        let line = lines.next().expect("server exited before printing its URL").expect("reading stdout");
        if let Some(url) = line.trim().strip_prefix("open:") {
            break url.trim().split("/?token=").next().expect("url").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    Server { child, base, token: TOKEN.into(), dir, agent }
}

/// Polls the job table until every job in `ids` has ended (`limit` at most); returns them and
/// every state each went through.
fn wait_ended(s: &Server, ids: &[u64], limit: Duration) -> (Vec<Value>, Vec<Vec<String>>) {
    let deadline = Instant::now() + limit;
    let mut seen: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    loop {
        let (st, jobs) = s.get("/api/v1/jobs");
        assert_eq!(st, 200, "{jobs}");
        let mine: Vec<Value> = ids
            .iter()
            .map(|id| jobs.as_array().unwrap().iter().find(|j| j["id"] == *id).cloned().expect("job listed"))
            .collect();
        for (j, seen) in mine.iter().zip(&mut seen) {
            let state = j["state"].as_str().unwrap().to_string();
            if seen.last() != Some(&state) {
                seen.push(state);
            }
        }
        if mine.iter().all(|j| !j["ended_at"].is_null()) {
            return (mine, seen);
        }
        assert!(Instant::now() < deadline, "jobs still not ended after {limit:?}: {mine:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ids_of(out: &Value) -> Vec<u64> {
    out["jobs"].as_array().expect("jobs").iter().map(|j| j["id"].as_u64().unwrap()).collect()
}

#[test]
fn without_slurm_the_slurm_backend_is_refused_and_not_offered() {
    let s = Server::start();
    let body = json!({"project": "p", "on": "slurm", "program": "sh", "args": ["-c", "true"]});
    let (st, e) = s.post("/api/v1/jobs", &body.to_string());
    assert_eq!(st, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("--slurm"), "the message names the flag: {e}");
    let sweep = json!({"on": "slurm", "program": "sh", "grid": {"x": [1]}}).to_string();
    assert_eq!(s.post("/api/v1/sweeps", &sweep).0, 403);
    let ab =
        json!({"on": "slurm", "program": "sh", "metric": "m", "goal": "max", "seeds": 2, "a": {"x": 1}, "b": {"x": 2}});
    assert_eq!(s.post("/api/v1/ab", &ab.to_string()).0, 403);
    // Slurm options on a local job are a mistake said as such, as is an unknown backend.
    let (st, e) = s.post("/api/v1/jobs", &json!({"program": "sh", "slurm": {"partition": "debug"}}).to_string());
    assert_eq!(st, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("\"on\": \"slurm\""), "{e}");
    assert_eq!(s.post("/api/v1/jobs", &json!({"program": "sh", "on": "mars"}).to_string()).0, 400);
    let (st, b) = s.get("/api/v1/backends");
    assert_eq!(st, 200, "{b}");
    assert_eq!((&b["local"]["enabled"], &b["slurm"]["enabled"]), (&json!(true), &json!(false)), "{b}");
    assert!(b["slurm"]["why"].as_str().unwrap().contains("--slurm"), "{b}");
    assert_eq!(s.get("/api/v1/runs").1["runs"], json!([]));
    assert_eq!(s.get("/api/v1/jobs").1, json!([]));
}

#[test]
fn a_sweep_on_slurm_is_one_array_and_an_unknown_partition_is_slurms_400() {
    let Some(conf) = cluster("sweep on Slurm") else { return };
    let s = serve_slurm(&conf);
    let (st, b) = s.get("/api/v1/backends");
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["slurm"]["enabled"], true, "{b}");
    let partitions: Vec<&str> = b["slurm"]["partitions"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(partitions.contains(&"debug"), "the test cluster's partition: {b}");
    assert_eq!(b["slurm"]["default_partition"], "debug", "without sinfo's `*`: {b}");

    // Slurm's own refusal, before anything is created.
    let refused = json!({"project": "sl", "on": "slurm", "slurm": {"partition": "no-such-partition"},
                         "program": "sh", "args": ["-c", "echo never"], "dir": s.dir.path(), "grid": {"x": [1, 2]}});
    let (st, e) = s.post("/api/v1/sweeps", &refused.to_string());
    assert_eq!(st, 400, "{e}");
    let msg = e["message"].as_str().unwrap().to_lowercase();
    assert!(msg.contains("sbatch") && msg.contains("partition"), "Slurm's message: {e}");
    assert_eq!(s.get("/api/v1/runs?include_deleted=true").1["runs"], json!([]), "no run was created");
    assert_eq!(s.get("/api/v1/jobs").1, json!([]), "no job was listed");
    // A device of this machine is not a Slurm request.
    let (st, e) = s.post(
        "/api/v1/jobs",
        &json!({"project": "sl", "on": "slurm", "device": "cuda:0", "program": "sh"}).to_string(),
    );
    assert_eq!(st, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("slurm.gpus"), "{e}");

    let body = json!({"project": "sl", "on": "slurm", "slurm": {"partition": "debug", "max_parallel": 2, "time": "00:05:00"},
                      "program": "sh", "args": ["-c", "echo hi $TRACKBENCH_PARAM_X"], "dir": s.dir.path(),
                      "grid": {"x": [1, 2, 3]}});
    let (st, out) = s.post("/api/v1/sweeps", &body.to_string());
    assert_eq!(st, 201, "{out}");
    let sweep = out["sweep_id"].as_str().unwrap().to_string();
    let jobs = out["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3, "{out}");
    let array: Vec<&str> = jobs.iter().map(|j| j["slurm_job"].as_str().expect("a Slurm job id")).collect();
    let job_id = array[0].split('_').next().unwrap();
    assert_eq!(array, [format!("{job_id}_0"), format!("{job_id}_1"), format!("{job_id}_2")], "one array");
    assert!(jobs.iter().all(|j| j["backend"] == "slurm" && j["state"] == "queued" && j["device"] == "slurm:debug"));

    let (ended, seen) = wait_ended(&s, &ids_of(&out), Duration::from_secs(180));
    let mut logged = Vec::new();
    for (j, seen) in ended.iter().zip(&seen) {
        assert_eq!(j["state"], "finished", "{j} (states {seen:?})");
        assert_eq!(seen.last().map(String::as_str), Some("finished"));
        let run = j["run_id"].as_str().expect("run id");
        let (_, detail) = s.get(&format!("/api/v1/runs/{run}"));
        assert_eq!(detail["run"]["status"], "finished", "{detail}");
        assert_eq!(detail["run"]["group"], sweep.as_str(), "{detail}");
        assert_eq!(detail["tags"]["slurm.job"], j["slurm_job"], "the run's Slurm task: {detail}");
        assert_eq!(detail["tags"]["launch.backend"], "slurm", "{detail}");
        let (_, logs) = s.get(&format!("/api/v1/runs/{run}/logs"));
        let text = logs.to_string();
        let line = ["hi 1", "hi 2", "hi 3"].into_iter().find(|l| text.contains(l)).unwrap_or_else(|| panic!("{logs}"));
        logged.push(line);
    }
    logged.sort();
    assert_eq!(logged, ["hi 1", "hi 2", "hi 3"], "each task ran its own grid value");
    let (_, runs) = s.get(&format!("/api/v1/runs?filter=attributes.group%20%3D%20%27{sweep}%27"));
    assert_eq!(runs["runs"].as_array().unwrap().len(), 3, "{runs}");
}

/// A command that logs `score` = 10 × `{x}` + `{seed}` to its run over HTTP, as an SDK would:
/// one batch to `TRACKBENCH_URL` with the token and run id the task's agent gives it.
const LOG_SCORE: &str = r#"v=$(( {x} * 10 + {seed} )); echo "score $v"; curl -sSf -X POST -H "Authorization: Bearer $TRACKBENCH_TOKEN" -H 'Content-Type: application/json' "$TRACKBENCH_URL/api/v1/runs/$TRACKBENCH_RUN_ID/batch" -d "{\"series\":[{\"key\":\"score\",\"steps\":[0],\"wall_ms\":[$(date +%s)000],\"values\":[$v]}]}""#;

#[test]
fn an_ab_on_slurm_ends_with_its_verdict_stored() {
    let Some(conf) = cluster("A/B on Slurm") else { return };
    if Command::new("curl").arg("--version").output().is_err() {
        return skipped("A/B on Slurm: its command logs its metric with curl, which is not on PATH");
    }
    let s = serve_slurm(&conf);
    let (st, out) = s.post(
        "/api/v1/ab",
        &json!({"project": "slab", "name": "x on slurm", "metric": "score", "goal": "max", "seeds": 2,
                "on": "slurm", "slurm": {"max_parallel": 2}, "dir": s.dir.path(),
                "a": {"x": 1}, "b": {"x": 2}, "program": "sh", "args": ["-c", LOG_SCORE]})
        .to_string(),
    );
    assert_eq!(st, 201, "{out}");
    let ab = out["ab_id"].as_str().unwrap().to_string();
    let ids = ids_of(&out);
    assert_eq!(ids.len(), 4);
    assert!(out["jobs"].as_array().unwrap().iter().all(|j| j["ab_id"] == ab.as_str() && j["backend"] == "slurm"));
    let (ended, _) = wait_ended(&s, &ids, Duration::from_secs(300));
    assert!(ended.iter().all(|j| j["state"] == "finished"), "{ended:?}");
    // The verdict is stored after the last job's end.
    let deadline = Instant::now() + Duration::from_secs(30);
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
    let runs = detail["runs"].as_array().unwrap();
    let arms: Vec<&str> = runs.iter().map(|r| r["arm"].as_str().unwrap()).collect();
    assert_eq!(arms.len(), 4, "{detail}");
    assert_eq!(arms.iter().filter(|a| **a == "a").count(), 2, "{detail}");
    let (_, live) = s.get(&format!("/api/v1/ab/{ab}/stats"));
    assert!(live["runs"].as_array().unwrap().iter().all(|r| r["counts"] == true && r["value"].is_number()), "{live}");
    // Arm A scored 11 and 12, arm B 21 and 22.
    let c = &detail["result"]["comparison"];
    assert_eq!((c["a"]["mean"].as_f64(), c["b"]["mean"].as_f64()), (Some(11.5), Some(21.5)), "{detail}");
}

#[test]
fn a_running_slurm_job_is_cancelled_and_ends_killed() {
    let Some(conf) = cluster("cancel on Slurm") else { return };
    let s = serve_slurm(&conf);
    let (st, job) = s.post(
        "/api/v1/jobs",
        &json!({"project": "slc", "name": "sleeper", "on": "slurm", "program": "sleep", "args": ["300"],
                "dir": s.dir.path()})
        .to_string(),
    );
    assert_eq!(st, 201, "{job}");
    assert_eq!((job["backend"].as_str(), job["state"].as_str()), (Some("slurm"), Some("queued")), "{job}");
    let id = job["id"].as_u64().unwrap();
    // Running, and its run created by the task's agent (logging through this server).
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let (_, jobs) = s.get("/api/v1/jobs");
        let j = jobs.as_array().unwrap().iter().find(|j| j["id"] == id).cloned().unwrap();
        assert!(j["ended_at"].is_null(), "ended before it was cancelled: {j}");
        if j["state"] == "running"
            && let Some(run) = j["run_id"].as_str()
            && s.get(&format!("/api/v1/runs/{run}")).0 == 200
        {
            break run.to_string();
        }
        assert!(Instant::now() < deadline, "never running: {j}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let t0 = Instant::now();
    let (st, c) = s.post(&format!("/api/v1/jobs/{id}/cancel"), "");
    assert_eq!(st, 200, "{c}");
    let (ended, _) = wait_ended(&s, &[id], Duration::from_secs(90));
    assert_eq!(ended[0]["state"], "killed", "{:?}", ended[0]);
    assert!(t0.elapsed() < Duration::from_secs(60), "scancel ends sleep long before its 300 s");
    let (_, detail) = s.get(&format!("/api/v1/runs/{run}"));
    assert_eq!(detail["run"]["status"], "killed", "{detail}");
    assert_eq!(detail["tags"]["slurm.job"], ended[0]["slurm_job"], "{detail}");
}

/// A fresh database on the test PostgreSQL (`admin`: its admin URL), dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &str) -> Database {
        let name = format!("tbt_slurm_{}_{}", std::process::id(), trackbench_store::now_ms());
        let mut c = postgres::Client::connect(admin, postgres::NoTls).expect("connecting to the test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
        Database { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

#[test]
fn a_team_server_launches_on_slurm_and_never_on_its_own_machine() {
    let Some(conf) = cluster("team server on Slurm") else { return };
    let Some(admin) = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else {
        return skipped(
            "team server on Slurm: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a PostgreSQL)",
        );
    };
    let db = Database::create(&admin);
    let dir = tempfile::tempdir().expect("tempdir");
    let artifacts = format!("file://{}", dir.path().join("artifacts").display());
    let s =
        serve_slurm_on(&conf, dir, &["--store".as_ref(), db.url.as_ref(), "--artifacts".as_ref(), artifacts.as_ref()]);
    let (_, b) = s.get("/api/v1/backends");
    assert_eq!((&b["local"]["enabled"], &b["slurm"]["enabled"]), (&json!(false), &json!(true)), "{b}");
    // This machine runs nothing for a team server's clients, and says where to launch instead.
    let (st, e) = s.post("/api/v1/jobs", &json!({"project": "t", "program": "sh", "args": ["-c", "true"]}).to_string());
    assert_eq!(st, 403, "{e}");
    assert!(e["message"].as_str().unwrap().contains("--slurm"), "{e}");

    let (st, job) = s.post(
        "/api/v1/jobs",
        &json!({"project": "t", "name": "on the cluster", "on": "slurm", "program": "sh",
                "args": ["-c", "echo hi from a team task"], "dir": s.dir.path()})
        .to_string(),
    );
    assert_eq!(st, 201, "{job}");
    let (ended, _) = wait_ended(&s, &[job["id"].as_u64().unwrap()], Duration::from_secs(120));
    assert_eq!(ended[0]["state"], "finished", "{:?}", ended[0]);
    let run = ended[0]["run_id"].as_str().expect("run id");
    let (_, detail) = s.get(&format!("/api/v1/runs/{run}"));
    assert_eq!((&detail["run"]["status"], &detail["run"]["name"]), (&json!("finished"), &json!("on the cluster")));
    assert_eq!(detail["tags"]["slurm.job"], ended[0]["slurm_job"], "{detail}");
    let (_, logs) = s.get(&format!("/api/v1/runs/{run}/logs"));
    assert!(logs.to_string().contains("hi from a team task"), "{logs}");
    // The run is in the team store, where every replica reads it.
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connecting to the test database");
    let n: i64 = c.query_one("SELECT count(*) FROM runs WHERE uid = $1", &[&run]).expect("count").get(0);
    assert_eq!(n, 1, "the run is a row of the team store");
}
