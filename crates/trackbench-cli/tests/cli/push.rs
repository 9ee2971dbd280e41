//! `trackbench push`: local runs published to a real `trackbench serve` (on its own store
//! folder) and compared point by point; a second push sends nothing; a push killed with
//! SIGKILL completes when run again with no point twice; a run id the server has from
//! elsewhere is refused; a server of another push protocol is refused naming both versions.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use trackbench_sdk::{Run, RunOptions, RunStatus, Stream};
use trackbench_store::{Batch, NewRun, StepRange, Store};

use crate::util::{Env, Out};

const TOKEN: &str = "push-test-token";

/// A team server on its own store folder.
struct Server {
    dir: tempfile::TempDir,
    served: crate::util::Served,
    url: String,
}

impl Server {
    fn start() -> Server {
        Server::start_on(tempfile::tempdir().unwrap())
    }

    /// A server on store folder `dir` (a restarted one keeps what the last one stored).
    fn start_on(dir: tempfile::TempDir) -> Server {
        let served = crate::util::serve(dir.path(), TOKEN);
        let url = served.url.clone();
        Server { dir, served, url }
    }

    fn store(&self) -> Store {
        Store::open(self.dir.path(), Default::default()).unwrap()
    }
}

fn push_cmd(env: &Env, server: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trackbench"));
    c.arg("push")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TRACKBENCH_DIR", env.store())
        .env("HOME", env.store())
        .env("TRACKBENCH_URL", server)
        .env("TRACKBENCH_TOKEN", TOKEN);
    c
}

fn push(env: &Env, server: &str, args: &[&str]) -> Out {
    let Output { status, stdout, stderr } = push_cmd(env, server, args).output().unwrap();
    Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Two runs with everything a run holds: params, tags, summaries, series (NaN and infinities
/// included), log lines, artifacts, one finished and one failed.
fn log_runs(env: &Env) -> Vec<String> {
    let art = env.store().join("weights.bin");
    std::fs::write(&art, (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let mut ids = Vec::new();
    for (name, fail) in [("good", false), ("bad", true)] {
        let run =
            Run::start(RunOptions::new("pushed").name(name).group("g").tag("team", "vision").store_dir(env.store()))
                .unwrap();
        run.log_params(&[("lr", 0.01.into()), ("layers", 3.into()), ("opt", "adam".into())]).unwrap();
        for step in 0..3000i64 {
            let v = match step {
                7 => f64::NAN,
                8 => f64::INFINITY,
                9 => f64::NEG_INFINITY,
                _ => (step as f64 * 0.37).sin(),
            };
            run.log_at(step, &[("loss", v), ("acc", step as f64 / 3000.0)]).unwrap();
        }
        for i in 0..25 {
            run.log_line(if i % 2 == 0 { Stream::Stdout } else { Stream::Stderr }, &format!("line {i} of {name}"))
                .unwrap();
        }
        run.set_summary("best", serde_json::json!(0.93)).unwrap();
        // A dataset input, as the SDK's log_dataset records it (MLflow's DatasetInput).
        let input = serde_json::json!({
            "dataset": {"name": format!("train-{name}"), "digest": "d1g3st", "source_type": "local", "schema": "{}"},
            "tags": [{"key": "mlflow.data.context", "value": "training"}],
        });
        let key = trackbench_store::copy::input_key(&input, 0);
        Store::open(env.store(), Default::default()).unwrap().add_run_inputs(run.id(), &[(key, input)]).unwrap();
        run.log_artifact(&art, Some("model/weights.bin")).unwrap();
        ids.push(run.id().to_string());
        if fail {
            run.finish_with(RunStatus::Failed, Some("diverged at step 3000")).unwrap();
        } else {
            run.finish().unwrap();
        }
    }
    ids
}

/// An A/B over the first two runs of `ids` in `env`'s store, ended with a verdict.
fn make_ab(env: &Env, ids: &[String]) -> String {
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    let new = trackbench_store::NewAb {
        project: "pushed".into(),
        name: "good vs bad".into(),
        metric: "acc".into(),
        direction: "maximize".into(),
        spec: serde_json::json!({"source": "groups"}),
    };
    let ab = local.create_ab(&new).unwrap();
    local.add_ab_run(&ab, trackbench_store::Arm::A, &ids[0], 1).unwrap();
    local.add_ab_run(&ab, trackbench_store::Arm::B, &ids[1], 2).unwrap();
    let verdict = serde_json::json!({"comparison": {"verdict": "not enough runs"}});
    local.finish_ab(&ab, trackbench_store::RunStatus::Failed, Some(&verdict), Some("too few runs")).unwrap();
    ab
}

/// Everything of run `id` that a push carries, for comparing two stores.
fn print(store: &mut Store, id: &str) -> serde_json::Value {
    let r = store.run(id).unwrap();
    let mut series = BTreeMap::new();
    for s in store.metric_summaries(id).unwrap() {
        let p = store.series(id, &s.key, StepRange::default()).unwrap();
        let bits: Vec<(i64, i64, u64)> =
            (0..p.len()).map(|i| (p.steps[i], p.wall_ms[i], p.values[i].to_bits())).collect();
        series.insert(s.key.clone(), serde_json::to_value(bits).unwrap());
    }
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let page = store.log_lines(id, after, 1000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        lines.extend(page.into_iter().map(|l| serde_json::json!([l.line.stream, l.line.ts_ms, l.line.line])));
    }
    let tags: BTreeMap<String, String> = store
        .tags(id)
        .unwrap()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("push.") && !k.starts_with("pull."))
        .collect();
    let artifacts: Vec<(String, String, u64)> =
        store.artifacts(id).unwrap().into_iter().map(|a| (a.path, a.hash, a.size)).collect();
    serde_json::json!({
        "run": [r.project, r.name, r.group, r.status.as_str(), r.created_ms, r.ended_ms, r.error, r.command, r.host],
        "params": store.params(id).unwrap(),
        "summary": store.summary_values(id).unwrap(),
        "tags": tags,
        "series": series,
        "lines": lines,
        "artifacts": artifacts,
        "inputs": store.run_inputs(id).unwrap(),
    })
}

/// Asserts two runs' prints are equal, naming the first part that differs.
fn same(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
    for (k, va) in a.as_object().unwrap() {
        let vb = &b[k];
        if va != vb {
            let short = |v: &serde_json::Value| v.to_string().chars().take(600).collect::<String>();
            panic!("{what}: `{k}` differs:\n  left:  {}\n  right: {}", short(va), short(vb));
        }
    }
}

#[test]
fn pushed_runs_equal_the_local_ones_point_by_point_and_a_second_push_sends_nothing() {
    let env = Env::new();
    let ids = log_runs(&env);
    // An A/B over the two runs, ended with a verdict.
    let ab = make_ab(&env, &ids);
    let server = Server::start();
    let out = push(&env, &server.url, &["--all"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("pushed 2 of 2 run(s)"), "{}", out.stdout);
    let local_ab = Store::open(env.store(), Default::default()).unwrap().ab(&ab).unwrap();
    assert_eq!(server.store().ab(&ab).unwrap(), local_ab, "the A/B arrives whole, with its id and verdict");
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    let mut remote = server.store();
    for id in &ids {
        same(&print(&mut local, id), &print(&mut remote, id), &format!("run {id} after the push"));
        let origin = remote.tags(id).unwrap().into_iter().find(|(k, _)| k == "push.origin");
        assert!(origin.is_some(), "the pushed run records where it came from");
    }
    assert_eq!(remote.run(&ids[1]).unwrap().error.as_deref(), Some("diverged at step 3000"));
    // Idempotent: nothing is sent again.
    let again = push(&env, &server.url, &["--all", "--json"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let sent = again.json();
    assert_eq!(sent["abs"], serde_json::json!([]), "the A/B is not sent again");
    for r in sent["runs"].as_array().unwrap() {
        assert_eq!(
            (&r["created"], &r["points"], &r["log_lines"], &r["fields"], &r["artifacts"], &r["ended"]),
            (
                &serde_json::json!(false),
                &serde_json::json!(0),
                &serde_json::json!(0),
                &serde_json::json!(0),
                &serde_json::json!(0),
                &serde_json::json!(false)
            ),
            "{r}"
        );
    }
    let plain = push(&env, &server.url, &["--project", "pushed"]);
    assert!(plain.stdout.contains("nothing new to push"), "{}", plain.stdout);
    // A new point and a new tag after the push: only those go.
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    let mut b = Batch::default();
    b.push_metric("loss", 5000, 1, 0.5);
    b.tags.push(("reviewed".into(), "yes".into()));
    local.log_batch(&ids[0], &b).unwrap();
    let more = push(&env, &server.url, &[&ids[0][..8], "--json"]).json();
    assert_eq!(more["runs"][0]["points"], 1, "{more}");
    assert_eq!(more["runs"][0]["fields"], 1, "{more}");
    assert_eq!(print(&mut local, &ids[0]), print(&mut server.store(), &ids[0]));
}

/// A finished run of 4 series x 500k points in `env`'s store: long enough to cut a push short.
fn big_run(env: &Env) -> (Store, String) {
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    let id = local.create_run(&NewRun { project: "big".into(), ..NewRun::default() }).unwrap().id;
    for key in ["a", "b", "c", "d"] {
        let mut b = Batch::default();
        for step in 0..500_000i64 {
            b.push_metric(key, step, step, step as f64 * 0.5);
        }
        local.log_batch(&id, &b).unwrap();
    }
    local.finish_run(&id, trackbench_store::RunStatus::Finished, None).unwrap();
    (local, id)
}

/// Waits until some, not all, of run `id`'s points are on the server.
fn wait_until_partly_pushed(server: &Server, id: &str) {
    let start = Instant::now();
    loop {
        let have: i64 = server.store().metric_summaries(id).map(|m| m.iter().map(|s| s.count).sum()).unwrap_or(0);
        if have > 0 {
            assert!(have < 2_000_000, "the push finished before it could be cut short ({have} points)");
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no point reached the server");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_push_killed_half_way_completes_when_run_again_with_no_point_twice() {
    let env = Env::new();
    let (mut local, id) = big_run(&env);
    let server = Server::start();
    let mut child = push_cmd(&env, &server.url, &[&id]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    // Kill it once some, not all, of the points are on the server.
    wait_until_partly_pushed(&server, &id);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = server.store().run(&id).unwrap();
    assert_ne!(before.status, trackbench_store::RunStatus::Finished, "cut short before the end");
    let out = push(&env, &server.url, &[&id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut remote = server.store();
    let counts: Vec<i64> = remote.metric_summaries(&id).unwrap().iter().map(|s| s.count).collect();
    assert_eq!(counts, [500_000; 4], "every point once");
    assert_eq!(print(&mut local, &id), print(&mut remote, &id));
}

#[test]
fn a_run_id_the_server_has_from_elsewhere_is_refused() {
    let env = Env::new();
    let server = Server::start();
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    let id = "samerunid0000001";
    local.create_run_with_id(id, &NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
    server.store().create_run_with_id(id, &NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
    let out = push(&env, &server.url, &[id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("another origin") && out.stderr.contains("logged there directly"), "{}", out.stderr);
    assert!(server.store().tags(id).unwrap().is_empty(), "nothing written to the server's run");
    // Nor a server that is not there, or without a token.
    let out = push(&env, "http://127.0.0.1:9", &[id]);
    assert!(out.stderr.contains("does not answer"), "{}", out.stderr);
    let out = push_cmd(&env, &server.url, &[id]).env("TRACKBENCH_TOKEN", "wrong").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A server speaking another push protocol (a stand-in answering only `/api/v1/health`, as a
/// newer trackbench would) is refused before anything is sent, naming both versions.
#[test]
fn a_server_of_another_push_protocol_is_refused_naming_both_versions() {
    let env = Env::new();
    log_runs(&env);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let n = conn.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let body = if req.starts_with("GET /api/v1/health") {
                r#"{"ok": true, "version": "9.1.0", "push": 2}"#
            } else {
                r#"{"message": "not expected"}"#
            };
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = push(&env, &url, &["--all"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("trackbench 9.1.0, push protocol 2") && out.stderr.contains("push protocol 1"),
        "{}",
        out.stderr
    );
}

fn pull(env: &Env, server: &str, args: &[&str]) -> Out {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .arg("pull")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TRACKBENCH_DIR", env.store())
        .env("HOME", env.store())
        .env("TRACKBENCH_URL", server)
        .env("TRACKBENCH_TOKEN", TOKEN)
        .output()
        .unwrap();
    Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

#[test]
fn pulled_runs_equal_the_servers_and_a_second_pull_fetches_nothing() {
    let laptop = Env::new();
    let ids = log_runs(&laptop);
    let ab = make_ab(&laptop, &ids);
    let server = Server::start();
    assert_eq!(push(&laptop, &server.url, &["--all"]).code, 0);
    // A run logged straight to the server (remote SDK), in the same project.
    let remote = Run::start(
        RunOptions::new("pushed")
            .name("remote")
            .remote(trackbench_sdk::Remote::new(server.url.clone(), Some(TOKEN.into()))),
    )
    .unwrap();
    for step in 0..500 {
        remote.log_at(step, &[("loss", 1.0 / (step + 1) as f64)]).unwrap();
    }
    remote.log_line(Stream::Stdout, "from the server side").unwrap();
    let remote_id = remote.id().to_string();
    remote.finish().unwrap();

    let other = Env::new();
    let out = pull(&other, &server.url, &["--project", "pushed"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("pulled 3 of 3 run(s)"), "{}", out.stdout);
    let mut got = Store::open(other.store(), Default::default()).unwrap();
    let mut theirs = server.store();
    for id in ids.iter().chain([&remote_id]) {
        same(&print(&mut got, id), &print(&mut theirs, id), &format!("run {id} after the pull"));
    }
    let pulled_ab = Store::open(other.store(), Default::default()).unwrap().ab(&ab).unwrap();
    assert_eq!(pulled_ab, server.store().ab(&ab).unwrap(), "the A/B comes down whole");
    let again = pull(&other, &server.url, &["--project", "pushed"]);
    assert!(again.stdout.contains("nothing new to pull"), "{}\n{}", again.stdout, again.stderr);
    // A filter picks runs; a local run of another origin under the same id is refused.
    let third = Env::new();
    let out = pull(&third, &server.url, &["--project", "pushed", "--filter", "status = 'failed'", "--json"]);
    assert_eq!(out.json()["runs"].as_array().unwrap().len(), 1, "{}", out.stdout);
    let mut clash = Store::open(third.store(), Default::default()).unwrap();
    clash.create_run_with_id(&remote_id, &NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
    let out = pull(&third, &server.url, &[&remote_id]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("another origin"), "{}", out.stderr);
    // Pulling back into the store that pushed them changes nothing.
    let back = pull(&laptop, &server.url, &[&ids[0], &ids[1]]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let mut local = Store::open(laptop.store(), Default::default()).unwrap();
    same(
        &print(&mut local, &ids[0]),
        &print(&mut server.store(), &ids[0]),
        "a run pulled back where it was pushed from",
    );
    assert!(back.stdout.contains("nothing new to pull"), "{}", back.stdout);
}

#[test]
fn push_watch_follows_a_running_run_until_it_ends() {
    let env = Env::new();
    let server = Server::start();
    let run = Run::start(RunOptions::new("live").name("training").store_dir(env.store())).unwrap();
    let id = run.id().to_string();
    run.log_at(0, &[("loss", 1.0)]).unwrap();
    run.flush().unwrap();
    let mut watcher =
        push_cmd(&env, &server.url, &[&id, "--watch"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Keeps logging while the push watches; the server sees it grow before the run ends.
    let mut grew = false;
    for step in 1..40i64 {
        run.log_at(step, &[("loss", 1.0 / step as f64)]).unwrap();
        run.log_line(Stream::Stdout, &format!("epoch {step}")).unwrap();
        run.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let there = server.store().metric_summaries(&id).map(|m| m.first().map_or(0, |s| s.count)).unwrap_or(0);
        grew |= there > 1 && there < step + 1;
    }
    run.finish().unwrap();
    let status = watcher.wait().unwrap();
    let mut stderr = String::new();
    watcher.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    assert!(grew, "the server saw the run grow while it ran");
    let mut local = Store::open(env.store(), Default::default()).unwrap();
    same(&print(&mut local, &id), &print(&mut server.store(), &id), "a watched run after its end");
    assert_eq!(server.store().run(&id).unwrap().status, trackbench_store::RunStatus::Finished);
}

/// After `trackbench login`, the SDK (here inside `trackbench train`) logs to that server with
/// no TRACKBENCH_URL set; `TRACKBENCH_DIR` (what the local launcher gives its children) keeps
/// it local; `logout` ends it.
#[test]
fn after_login_the_sdk_logs_to_the_server() {
    let home = tempfile::tempdir().unwrap();
    let server = Server::start();
    let cli = |args: &[&str], dir: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_trackbench"));
        c.args(args).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).env("HOME", home.path());
        if let Some(d) = dir {
            c.env("TRACKBENCH_DIR", d);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    cli(&["login", &server.url, "--token", TOKEN], None);
    let train = ["train", "--backend", "cpu", "--hidden", "4", "--epochs", "1", "--project", "from-login"];
    cli(&train, None);
    let runs = server.store().list_runs(&trackbench_store::RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 1, "the run went to the logged-in server");
    assert_eq!(runs[0].project, "from-login");
    let local = tempfile::tempdir().unwrap();
    cli(&train, Some(local.path()));
    assert_eq!(server.store().list_runs(&trackbench_store::RunQuery::default()).unwrap().len(), 1);
    let here = Store::open(local.path(), Default::default())
        .unwrap()
        .list_runs(&trackbench_store::RunQuery::default())
        .unwrap();
    assert_eq!(here.len(), 1, "TRACKBENCH_DIR keeps the run local");
    cli(&["logout"], None);
    cli(&train, None);
    assert_eq!(server.store().list_runs(&trackbench_store::RunQuery::default()).unwrap().len(), 1, "logged out");
}

/// The server goes away in the middle of a push (SIGKILL: a dropped connection, a crash): the
/// push fails saying how to resume, and once a server is back on the same store the next push
/// completes with every point once.
#[test]
fn a_connection_dropped_mid_push_is_reported_and_the_next_push_completes() {
    let env = Env::new();
    let (mut local, id) = big_run(&env);
    let mut server = Server::start();
    let pusher = push_cmd(&env, &server.url, &[&id]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_until_partly_pushed(&server, &id);
    server.served.child.kill().unwrap();
    server.served.child.wait().unwrap();
    let out = pusher.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("run the push again to resume"), "{stderr}");
    // Back, on the same store (another port): the next push completes it.
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    let server = Server::start_on(dir);
    let out = push(&env, &server.url, &[&id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut remote = server.store();
    let counts: Vec<i64> = remote.metric_summaries(&id).unwrap().iter().map(|s| s.count).collect();
    assert_eq!(counts, [500_000; 4], "every point once");
    same(&print(&mut local, &id), &print(&mut remote, &id), "the run after the resumed push");
}
