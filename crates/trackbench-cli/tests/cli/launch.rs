//! `trackbench launch`, `cancel`, `sweep` and `ab` with small real child processes: shell
//! scripts that succeed, fail, hang and flood stdout, and the reference trainer for an A/B.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use trackbench_store::{Arm, RunQuery, RunStatus, Store, StoreOptions, Stream};

use crate::util::Env;

fn open(env: &Env) -> Store {
    Store::open(env.store(), StoreOptions::default()).expect("open store")
}

fn script(env: &Env, name: &str, body: &str) -> PathBuf {
    let p = env.store().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A process is gone when /proc has no entry for it or it is a zombie nobody reaped yet.
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn lines(store: &Store, id: &str) -> Vec<(Stream, String)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store.log_lines(id, after, 10_000).unwrap();
        let Some(last) = page.last() else { return out };
        after = last.seq;
        out.extend(page.into_iter().map(|l| (l.line.stream, l.line.line)));
    }
}

fn tag(store: &Store, id: &str, key: &str) -> Option<String> {
    store.tags(id).unwrap().into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

#[test]
fn launch_runs_a_command_as_a_run_and_captures_its_output() {
    let env = Env::new();
    let s = script(
        &env,
        "ok.sh",
        "echo hello from $TRACKBENCH_RUN_ID\necho to stderr >&2\necho \"dev=$TRACKBENCH_DEVICE cuda=[$CUDA_VISIBLE_DEVICES] x=$X\"\n",
    );
    let s = s.to_str().unwrap();
    let out = env.ok(&["launch", "--project", "p", "--name", "ok", "--env", "X=1", "--json", "--", "sh", s]);
    let r = out.json();
    let id = r["run_id"].as_str().unwrap();
    assert_eq!(
        (r["status"].as_str(), r["exit_code"].as_i64(), r["lines"].as_u64()),
        (Some("finished"), Some(0), Some(3))
    );
    assert!(out.stderr.contains(&format!("hello from {id}")), "child output is shown: {}", out.stderr);
    let store = open(&env);
    let run = store.run(id).unwrap();
    assert_eq!((run.project.as_str(), run.name.as_str(), run.status), ("p", "ok", RunStatus::Finished));
    assert_eq!(run.command.as_deref(), Some(format!("sh {s}").as_str()));
    assert!(run.host.is_some());
    assert_eq!(run.env.as_ref().unwrap()["device"], "cpu");
    // Two pipes: the order within a stream is kept, not between them.
    let mut got = lines(&store, id);
    got.sort_by_key(|(s, _)| *s == Stream::Stderr);
    assert_eq!(
        got,
        [
            (Stream::Stdout, format!("hello from {id}")),
            (Stream::Stdout, "dev=cpu cuda=[] x=1".into()),
            (Stream::Stderr, "to stderr".into()),
        ]
    );
    assert_eq!(tag(&store, id, "launch.exit_code").as_deref(), Some("0"));
}

#[test]
fn a_failing_command_is_failed_with_its_exit_code() {
    let env = Env::new();
    let out = env.cmd(&["launch", "--project", "p", "--", "sh", "-c", "echo boom >&2; exit 3"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("failed (exit 3)"), "{}", out.stderr);
    let store = open(&env);
    let runs = store.list_runs(&RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].status, runs[0].error.as_deref()), (RunStatus::Failed, Some("exit code 3")));
    assert_eq!(lines(&store, &runs[0].id), [(Stream::Stderr, "boom".to_string())]);
}

/// A job that ignores SIGTERM and leaves a grandchild: cancelling sends SIGTERM to the group,
/// then SIGKILL after the grace period; nothing of the group is left.
#[test]
fn cancel_kills_the_whole_process_group() {
    let env = Env::new();
    let pidfile = env.store().join("grandchild.pid");
    let s = script(
        &env,
        "hang.sh",
        &format!(
            "trap '' TERM\nsleep 300 &\necho $! > {}\necho started\nwhile true; do sleep 0.05; done\n",
            pidfile.display()
        ),
    );
    let mut launcher =
        env.spawn(&["launch", "--project", "p", "--grace", "0.3", "--", "sh", s.to_str().unwrap()], true);
    wait_for("the grandchild", Duration::from_secs(20), || {
        std::fs::read_to_string(&pidfile).is_ok_and(|p| !p.trim().is_empty())
    });
    let grandchild = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    let id = open(&env).list_runs(&RunQuery::default()).unwrap()[0].id.clone();
    let out = env.ok(&["cancel", &id[..8], "--wait", "20"]);
    assert_eq!(out.stdout.trim(), format!("{id} killed"));
    let status = launcher.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    let store = open(&env);
    let run = store.run(&id).unwrap();
    assert_eq!((run.status, run.error.as_deref()), (RunStatus::Killed, Some("cancelled")));
    assert!(lines(&store, &id).contains(&(Stream::Stdout, "started".to_string())));
    wait_for("the grandchild to be gone", Duration::from_secs(5), || gone(&grandchild));
}

/// SIGTERM to the launcher itself (Ctrl-C, a scheduler) ends its job as `killed` too.
#[test]
fn a_signal_to_the_launcher_cancels_its_job() {
    let env = Env::new();
    let mut launcher = env.spawn(&["launch", "--project", "p", "--", "sleep", "300"], true);
    let store = open(&env);
    wait_for("the run", Duration::from_secs(20), || {
        store
            .list_runs(&RunQuery::default())
            .unwrap()
            .first()
            .is_some_and(|r| tag(&store, &r.id, "launch.pid").is_some())
    });
    let child = tag(&store, &store.list_runs(&RunQuery::default()).unwrap()[0].id, "launch.pid").unwrap();
    let kill = Command::new("kill").args(["-TERM", &launcher.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert_eq!(launcher.wait().unwrap().code(), Some(1));
    let run = store.list_runs(&RunQuery::default()).unwrap().remove(0);
    assert_eq!(run.status, RunStatus::Killed);
    wait_for("the child to be gone", Duration::from_secs(5), || gone(&child));
}

/// A launcher killed outright cannot end its run; the next launch on the host does, and stops
/// the orphaned child (found by the run id in its environment).
#[test]
fn the_next_launch_ends_the_runs_of_a_dead_launcher() {
    let env = Env::new();
    let mut launcher = env.spawn(&["launch", "--project", "p", "--", "sleep", "300"], true);
    let store = open(&env);
    wait_for("the run", Duration::from_secs(20), || {
        store
            .list_runs(&RunQuery::default())
            .unwrap()
            .first()
            .is_some_and(|r| tag(&store, &r.id, "launch.pid").is_some())
    });
    let id = store.list_runs(&RunQuery::default()).unwrap()[0].id.clone();
    let child = tag(&store, &id, "launch.pid").unwrap();
    launcher.kill().unwrap(); // SIGKILL: no handler runs
    launcher.wait().unwrap();
    assert_eq!(store.run(&id).unwrap().status, RunStatus::Crashed, "nobody ended it yet; its launcher is gone");
    let out = env.ok(&["launch", "--project", "p", "--", "true"]);
    assert!(out.stderr.contains(&format!("run {id} had lost its launcher")), "{}", out.stderr);
    let run = store.run(&id).unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert!(run.error.unwrap().contains("launcher"), "the reason is recorded");
    wait_for("the orphaned child to be gone", Duration::from_secs(5), || gone(&child));
}

#[test]
fn a_flood_of_output_is_captured_line_for_line() {
    let env = Env::new();
    let out = env.ok(&["launch", "--project", "p", "--json", "--", "sh", "-c", "seq 1 100000; seq 1 1000 >&2"]);
    let r = out.json();
    assert_eq!(r["lines"], 101_000);
    let store = open(&env);
    let got = lines(&store, r["run_id"].as_str().unwrap());
    let stdout: Vec<&str> = got.iter().filter(|(s, _)| *s == Stream::Stdout).map(|(_, l)| l.as_str()).collect();
    assert_eq!(stdout.len(), 100_000);
    assert!(stdout.iter().enumerate().all(|(i, l)| *l == (i + 1).to_string()), "in order, none lost");
    assert_eq!(got.iter().filter(|(s, _)| *s == Stream::Stderr).count(), 1000);
}

#[test]
fn a_sweep_runs_every_combination_within_the_queue_limit() {
    let env = Env::new();
    let out = env.ok(&[
        "sweep",
        "--project",
        "p",
        "--group",
        "g",
        "--cpu-slots",
        "2",
        "--grid",
        "a=1,2,3",
        "--grid",
        "b=x,y",
        "--",
        "sh",
        "-c",
        "echo a={a} b=$TRACKBENCH_PARAM_B; sleep 0.3",
    ]);
    assert!(out.stdout.contains("group g: 6 finished, 0 not"), "{}", out.stdout);
    let store = open(&env);
    let runs = store.list_runs(&RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 6);
    let mut seen: Vec<String> = Vec::new();
    for r in &runs {
        assert_eq!((r.status, r.group.as_deref()), (RunStatus::Finished, Some("g")));
        let a = tag(&store, &r.id, "sweep.a").unwrap();
        let b = tag(&store, &r.id, "sweep.b").unwrap();
        assert_eq!(lines(&store, &r.id), [(Stream::Stdout, format!("a={a} b={b}"))]);
        seen.push(format!("{a}{b}"));
    }
    seen.sort();
    assert_eq!(seen, ["1x", "1y", "2x", "2y", "3x", "3y"]);
    // Never more than two at once: at each run's start, count the runs alive then.
    for r in &runs {
        let alive = runs.iter().filter(|o| o.started_ms <= r.started_ms && o.ended_ms.unwrap() > r.started_ms).count();
        assert!(alive <= 2, "{alive} runs at once");
    }
}

#[test]
fn bad_input_is_refused_without_leaving_runs() {
    let env = Env::new();
    let out = env.cmd(&["launch", "--device", "cuda:99", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown device `cuda:99`"), "{}", out.stderr);
    let out = env.cmd(&["launch", "--device", "tpu", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("invalid device"), "{}", out.stderr);
    let out = env.cmd(&["sweep", "--grid", "lr", "--", "true"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("`lr`: no `=`"), "{}", out.stderr);
    let out = env.cmd(&["sweep", "--grid", "lr=1,,2", "--", "true"]);
    assert_eq!(out.code, 2);
    let out = env.cmd(&["launch", "--", "no-such-command-xyz", "--flag"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("command not found: `no-such-command-xyz`"), "{}", out.stderr);
    let out = env.cmd(&["ab", "--metric", "m", "--maximize", "--a", "x=1", "--b", "x=2", "--", "no-such-command-xyz"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = env.cmd(&["ab", "--metric", "m", "--a", "x=1", "--b", "x=2", "--", "true"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--maximize or --minimize"), "{}", out.stderr);
    if open(&env).list_runs(&RunQuery::default()).map(|r| r.is_empty()).unwrap_or(true) {
        return;
    }
    panic!("a refused command left runs behind");
}

/// The reference trainer as the child: two learning rates, three seeds each, interleaved; the
/// stored A/B and its verdict match `trackbench-stats` on the runs' stored values.
#[test]
fn an_ab_of_the_reference_trainer_stores_the_verdict_of_the_statistics() {
    let env = Env::new();
    let exe = env!("CARGO_BIN_EXE_trackbench");
    let out = env.ok(&[
        "ab",
        "--project",
        "ab",
        "--metric",
        "val/acc",
        "--maximize",
        "--seeds",
        "3",
        "--a",
        "lr=0.002",
        "--b",
        "lr=0.05",
        "--base",
        "epochs=2",
        "--json",
        "--",
        exe,
        "train",
        "--backend",
        "cpu",
        "--hidden",
        "16",
        "--epochs",
        "{epochs}",
        "--lr",
        "{lr}",
        "--seed",
        "{seed}",
    ]);
    let ab = out.json();
    assert_eq!(ab["status"], "finished", "{ab}");
    assert_eq!(ab["metric"], "val/acc");
    assert_eq!(ab["direction"], "maximize");
    let runs = ab["runs"].as_array().unwrap();
    let arms: String = runs.iter().map(|r| r["arm"].as_str().unwrap().to_string()).collect();
    assert_eq!(arms, "ababab", "interleaved");
    let store = open(&env);
    let mut values = (Vec::new(), Vec::new());
    for (i, r) in runs.iter().enumerate() {
        let id = r["run_id"].as_str().unwrap();
        let run = store.run(id).unwrap();
        assert_eq!(run.status, RunStatus::Finished);
        let params: std::collections::BTreeMap<String, serde_json::Value> =
            store.params(id).unwrap().into_iter().collect();
        assert_eq!(params["seed"], (i / 2 + 1) as u64, "seed {}", i / 2 + 1);
        assert_eq!(params["epochs"], 2);
        let v = store.metric_summaries(id).unwrap().into_iter().find(|s| s.key == "val/acc").unwrap().last;
        if i % 2 == 0 { values.0.push(v) } else { values.1.push(v) }
    }
    let expect =
        trackbench_stats::compare(&values.0, &values.1, trackbench_stats::Direction::Maximize, 0.95, 0).unwrap();
    assert_eq!(ab["result"]["comparison"], serde_json::to_value(&expect).unwrap());
    let id = ab["id"].as_str().unwrap();
    let stored = store.ab(id).unwrap();
    assert_eq!(stored.runs.iter().filter(|r| r.arm == Arm::B).count(), 3);

    let show = env.ok(&["ab", "show", &id[..6]]);
    assert!(show.stdout.contains(&format!("verdict: {}", expect.verdict)), "{}", show.stdout);
    assert!(env.ok(&["ab", "ls"]).stdout.contains(id));
    let report = env.store().join("ab.html");
    env.ok(&["report", "--ab", id, "-o", report.to_str().unwrap()]);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains(&expect.verdict.replace('\'', "&#x27;")) || html.contains("verdict"),
        "the report has the verdict"
    );

    // The same runs as groups give the same numbers.
    let groups: Vec<String> = ["a", "b"].iter().map(|arm| format!("ab-{}-{arm}", &id[..8])).collect();
    let again =
        env.ok(&["ab", "--from-groups", &groups[0], &groups[1], "--metric", "val/acc", "--maximize", "--json"]).json();
    assert_eq!(again["result"]["comparison"], ab["result"]["comparison"]);
    assert_eq!(again["spec"]["source"], "groups");
}

#[test]
fn a_launched_child_logs_to_the_launchers_store_even_with_trackbench_url_set() {
    let env = Env::new();
    let s = script(&env, "url.sh", "echo \"url=[$TRACKBENCH_URL] token=[$TRACKBENCH_TOKEN] dir=[$TRACKBENCH_DIR]\"\n");
    let out = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args(["launch", "--project", "p", "--json", "--", "sh", s.to_str().unwrap()])
        .env("TRACKBENCH_DIR", env.store())
        .env("TRACKBENCH_URL", "http://127.0.0.1:9/")
        .env("TRACKBENCH_TOKEN", "secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let store = open(&env);
    let got = lines(&store, r["run_id"].as_str().unwrap());
    let want = format!("url=[] token=[] dir=[{}]", env.store().display());
    assert!(got.iter().any(|(_, l)| *l == want), "{got:?}");
}
