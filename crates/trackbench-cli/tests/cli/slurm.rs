//! `launch`, `sweep` and `ab` with `--on slurm` against a real single-node Slurm cluster
//! (`cargo xtask test` starts one and names its slurm.conf in `TRACKBENCH_TEST_SLURM`; without
//! it these tests say so and skip). The tasks log to a real `trackbench serve` on the test's
//! store, through the real task agent (`trackbench job-exec`) that each batch script runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use trackbench_store::{RunQuery, RunStatus, Store, Stream};

use crate::util::{Env, Out};

const TOKEN: &str = "slurm-test-token";

fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// The test cluster's slurm.conf, or `None` (skip, printed).
fn cluster(test: &str) -> Option<PathBuf> {
    match std::env::var("TRACKBENCH_TEST_SLURM") {
        Ok(conf) if !conf.is_empty() => Some(PathBuf::from(conf)),
        _ => {
            skipped(&format!(
                "{test}: no Slurm cluster (TRACKBENCH_TEST_SLURM unset; `cargo xtask test` starts one when it \
                 can install slurm-wlm)"
            ));
            None
        }
    }
}

/// A store, the server the tasks log to, and the CLI pointed at both.
struct Site {
    env: Env,
    conf: PathBuf,
    /// Dropped with the site: the server stops.
    _served: crate::util::Served,
    url: String,
}

impl Site {
    fn start(conf: PathBuf) -> Site {
        let env = Env::new();
        let served = crate::util::serve(env.store(), TOKEN);
        let url = served.url.clone();
        Site { env, conf, _served: served, url }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.command_of(env!("CARGO_BIN_EXE_trackbench"), args)
    }

    /// `program ARGS` with the test's store, cluster and server in its environment only.
    fn command_of(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TRACKBENCH_DIR", self.env.store())
            .env("HOME", self.env.store())
            .env("SLURM_CONF", &self.conf)
            .env("TRACKBENCH_URL", &self.url)
            .env("TRACKBENCH_TOKEN", TOKEN)
            .current_dir(self.env.store());
        c
    }

    fn cmd(&self, args: &[&str]) -> Out {
        let Output { status, stdout, stderr } = self.command(args).output().expect("spawn trackbench");
        Out {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Out {
        let out = self.cmd(args);
        assert_eq!(out.code, 0, "trackbench {args:?} failed:\n{}\n{}", out.stdout, out.stderr);
        out
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn trackbench")
    }

    fn store(&self) -> Store {
        Store::open(self.env.store(), Default::default()).expect("open the test store")
    }

    fn runs(&self) -> Vec<trackbench_store::RunInfo> {
        let mut runs = self.store().list_runs(&RunQuery::default()).unwrap();
        runs.sort_by_key(|r| r.created_ms);
        runs
    }
}

fn tags(store: &Store, id: &str) -> std::collections::BTreeMap<String, String> {
    store.tags(id).unwrap().into_iter().collect()
}

fn lines(store: &Store, id: &str) -> Vec<(Stream, String)> {
    store.log_lines(id, 0, 10_000).unwrap().into_iter().map(|l| (l.line.stream, l.line.line)).collect()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Slurm's view of job `id`'s tasks (`squeue`), empty once all ended.
fn squeue(conf: &Path, job: &str) -> String {
    let out = Command::new("squeue").args(["-h", "-r", "-j", job]).env("SLURM_CONF", conf).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_job_runs_on_the_cluster_as_a_tracked_run_logging_to_the_server() {
    let Some(conf) = cluster("a_job_runs_on_the_cluster") else { return };
    let site = Site::start(conf);
    let out = site.ok(&[
        "launch",
        "--on",
        "slurm",
        "--project",
        "p",
        "--name",
        "hello",
        "--env",
        "GREETING=it's me",
        "--json",
        "--",
        "sh",
        "-c",
        "echo \"hello $GREETING\"; echo to-stderr >&2; echo url=$TRACKBENCH_URL",
    ]);
    assert!(out.stderr.contains("submitted Slurm job"), "{}", out.stderr);
    let result: serde_json::Value = out.json();
    assert_eq!(result["status"], "finished", "{result}");
    let runs = site.runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.id, result["run_id"].as_str().unwrap());
    assert_eq!((run.status, run.name.as_str(), run.project.as_str()), (RunStatus::Finished, "hello", "p"));
    let store = site.store();
    let got = lines(&store, &run.id);
    assert!(got.contains(&(Stream::Stdout, "hello it's me".into())), "{got:?}");
    assert!(got.contains(&(Stream::Stderr, "to-stderr".into())), "{got:?}");
    // The command's own SDK would log to the same server.
    assert!(got.contains(&(Stream::Stdout, format!("url={}", site.url))), "{got:?}");
    let t = tags(&store, &run.id);
    assert_eq!(t["launch.backend"], "slurm");
    assert!(t["slurm.job"].ends_with("_0"), "{t:?}");
    assert_eq!(t["slurm.state"], "COMPLETED");
    // The batch script is stored with the run and printed by `runs show`; the token is not in it.
    let show = site.ok(&["runs", "show", &run.id]);
    assert!(show.stdout.contains("#SBATCH --array=0-0"), "{}", show.stdout);
    assert!(show.stdout.contains("job-exec --run-id"), "{}", show.stdout);
    assert!(!show.stdout.contains(TOKEN), "{}", show.stdout);
}

#[test]
fn a_sweep_is_one_array_with_its_concurrency_cap() {
    let Some(conf) = cluster("a_sweep_is_one_array") else { return };
    let site = Site::start(conf);
    let out = site.ok(&[
        "sweep",
        "--on",
        "slurm",
        "--project",
        "sw",
        "--max-parallel",
        "2",
        "--grid",
        "x=1,2,3,4,5,6",
        "--json",
        "--",
        "sh",
        "-c",
        "sleep 1; echo x={x}",
    ]);
    let summary = out.json();
    assert_eq!(summary["failed"], 0, "{summary}");
    let runs = site.runs();
    assert_eq!(runs.len(), 6);
    let store = site.store();
    let mut jobs: Vec<String> = runs.iter().map(|r| tags(&store, &r.id)["slurm.job"].clone()).collect();
    jobs.sort();
    let array = jobs[0].split('_').next().unwrap().to_string();
    let want: Vec<String> = (0..6).map(|i| format!("{array}_{i}")).collect();
    assert_eq!(jobs, want, "one array, one task per combination");
    for r in &runs {
        assert_eq!(r.status, RunStatus::Finished);
        let x = tags(&store, &r.id)["sweep.x"].clone();
        assert_eq!(lines(&store, &r.id), [(Stream::Stdout, format!("x={x}"))]);
        assert_eq!(r.group.as_deref(), runs[0].group.as_deref(), "one group");
    }
    // Never more than two at once (the runs' times come from the server's one clock).
    let mut edges: Vec<(i64, i32)> = Vec::new();
    for r in &runs {
        edges.push((r.started_ms, 1));
        edges.push((r.ended_ms.unwrap(), -1));
    }
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    assert!(most <= 2, "at most 2 tasks at once, saw {most}");
    assert!(squeue(&site.conf, &array).trim().is_empty());
}

#[test]
fn an_ab_of_the_reference_trainer_on_slurm_ends_in_a_verdict() {
    let Some(conf) = cluster("an_ab_on_slurm") else { return };
    let site = Site::start(conf);
    let exe = env!("CARGO_BIN_EXE_trackbench");
    let out = site.ok(&[
        "ab",
        "--on",
        "slurm",
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
        "--json",
        "--",
        exe,
        "train",
        "--backend",
        "cpu",
        "--hidden",
        "16",
        "--epochs",
        "2",
        "--lr",
        "{lr}",
        "--seed",
        "{seed}",
    ]);
    let ab = out.json();
    assert_eq!(ab["status"], "finished", "{ab}");
    let runs = ab["runs"].as_array().unwrap();
    let arms: String = runs.iter().map(|r| r["arm"].as_str().unwrap().to_string()).collect();
    assert_eq!(arms, "ababab", "interleaved");
    let store = site.store();
    let mut values = (Vec::new(), Vec::new());
    for (i, r) in runs.iter().enumerate() {
        let id = r["run_id"].as_str().unwrap();
        assert_eq!(store.run(id).unwrap().status, RunStatus::Finished);
        // Array task i is the i-th job of the interleaved order (A1 B1 A2 B2 …).
        assert!(tags(&store, id)["slurm.job"].ends_with(&format!("_{i}")), "task {i}");
        // The trainer inside logged its metrics to the server over HTTP.
        let v = store.metric_summaries(id).unwrap().into_iter().find(|s| s.key == "val/acc").expect("val/acc").last;
        if i % 2 == 0 { values.0.push(v) } else { values.1.push(v) }
    }
    let expect =
        trackbench_stats::compare(&values.0, &values.1, trackbench_stats::Direction::Maximize, 0.95, 0).unwrap();
    assert_eq!(ab["result"]["comparison"], serde_json::to_value(&expect).unwrap());
}

#[test]
fn cancel_reaches_scancel_for_one_task_and_a_signal_cancels_the_whole_array() {
    let Some(conf) = cluster("cancel_on_slurm") else { return };
    let site = Site::start(conf);
    let mut launcher = site.spawn(&[
        "sweep",
        "--on",
        "slurm",
        "--project",
        "c",
        "--max-parallel",
        "2",
        "--grid",
        "x=1,2,3,4",
        "--",
        "sleep",
        "300",
    ]);
    wait_for("two running tasks", Duration::from_secs(60), || {
        site.runs().iter().filter(|r| r.status == RunStatus::Running).count() == 2
    });
    let first = site.runs()[0].id.clone();
    let out = site.ok(&["cancel", &first, "--wait", "30"]);
    assert!(out.stdout.contains(&format!("{first} killed")), "{}", out.stdout);
    // The whole array: SIGINT to the launcher scancels it; pending tasks never start.
    wait_for("the next task to start", Duration::from_secs(60), || {
        site.runs().iter().filter(|r| r.status == RunStatus::Running).count() == 2
    });
    let array = tags(&site.store(), &first)["slurm.job"].split('_').next().unwrap().to_string();
    let kill = Command::new("kill").args(["-INT", &launcher.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = launcher.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut launcher.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    let runs = site.runs();
    assert_eq!(runs.len(), 3, "the fourth task never started: {runs:?}\n{stderr}");
    for r in &runs {
        assert_eq!(r.status, RunStatus::Killed, "{r:?}");
    }
    assert!(squeue(&site.conf, &array).trim().is_empty(), "nothing left in the queue");
}

#[test]
fn a_task_past_its_time_limit_reads_as_timed_out() {
    let Some(conf) = cluster("timeout_on_slurm") else { return };
    let site = Site::start(conf);
    // Slurm counts time limits in whole minutes: this takes one to two minutes.
    let out = site.cmd(&["launch", "--on", "slurm", "--time", "00:01:00", "--project", "t", "--", "sleep", "600"]);
    assert_ne!(out.code, 0);
    let runs = site.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    let error = runs[0].error.clone().unwrap_or_default();
    assert!(error.starts_with("timed out") && error.contains("00:01:00"), "{error}");
    assert_eq!(tags(&site.store(), &runs[0].id)["slurm.state"], "TIMEOUT");
}

#[test]
fn a_batch_script_that_fails_at_once_leaves_a_failed_run_saying_why() {
    let Some(conf) = cluster("failing_batch_script") else { return };
    let site = Site::start(conf);
    let out = site.cmd(&[
        "launch",
        "--on",
        "slurm",
        "--node-trackbench",
        "/nonexistent/trackbench",
        "--project",
        "f",
        "--",
        "true",
    ]);
    assert_ne!(out.code, 0, "{}", out.stderr);
    let runs = site.runs();
    assert_eq!(runs.len(), 1, "the task that never started still has a run");
    let run = &runs[0];
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.clone().unwrap_or_default();
    assert!(error.contains("before its run started"), "{error}");
    assert!(error.contains("/nonexistent/trackbench"), "the shell's own message: {error}");
    assert_eq!(tags(&site.store(), &run.id)["slurm.state"], "FAILED");
    let show = site.ok(&["runs", "show", &run.id]);
    assert!(show.stdout.contains("#SBATCH"), "the script is kept: {}", show.stdout);
}

#[test]
fn slurm_refusals_are_shown_and_nothing_is_created() {
    let Some(conf) = cluster("slurm_refusals") else { return };
    let site = Site::start(conf.clone());
    let out = site.cmd(&["launch", "--on", "slurm", "--partition", "nosuch", "--", "true"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.to_lowercase().contains("invalid partition"), "Slurm's own message: {}", out.stderr);
    let out = site.cmd(&["launch", "--on", "slurm", "--gpus", "1", "--", "true"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("sbatch"), "{}", out.stderr);
    let out = site.cmd(&[
        "ab",
        "--on",
        "slurm",
        "--partition",
        "nosuch",
        "--metric",
        "m",
        "--maximize",
        "--a",
        "x=1",
        "--b",
        "x=2",
        "--",
        "true",
    ]);
    assert_ne!(out.code, 0);
    // A Slurm option without --on slurm, and a local device on Slurm.
    let out = site.cmd(&["launch", "--partition", "debug", "--", "true"]);
    assert!(out.stderr.contains("--partition is a Slurm option"), "{}", out.stderr);
    let out = site.cmd(&["launch", "--on", "slurm", "--device", "cuda:0", "--", "true"]);
    assert!(out.stderr.contains("--gpus"), "{}", out.stderr);
    // A controller that does not answer: a copy of the conf pointing at a closed port.
    let text = std::fs::read_to_string(&conf).unwrap();
    let dead: String = text
        .lines()
        .map(|l| if l.starts_with("SlurmctldPort=") { "SlurmctldPort=9".to_string() } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    let dead_conf = site.env.store().join("dead-slurm.conf");
    std::fs::write(&dead_conf, dead).unwrap();
    let out = site
        .command(&["launch", "--on", "slurm", "--", "true"])
        .env("SLURM_CONF", &dead_conf)
        .env("SLURM_CONF_TIMEOUT", "2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not reachable"), "{stderr}");
    // A server the tasks could not log to.
    let out = site
        .command(&["launch", "--on", "slurm", "--", "true"])
        .env("TRACKBENCH_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not answer"));
    assert!(site.runs().is_empty(), "nothing was created");
    assert!(site.store().list_abs(None).unwrap().is_empty(), "no A/B either");
}

#[test]
fn a_launcher_and_tasks_whose_clocks_differ_from_the_servers_still_track_the_run() {
    let Some(conf) = cluster("clock_skew_on_slurm") else { return };
    if Command::new("faketime").arg("-f").arg("+0").arg("true").output().is_err() {
        skipped("clock_skew_on_slurm: `faketime` is not installed (apt-get install faketime)");
        return;
    }
    let site = Site::start(conf);
    let exe = env!("CARGO_BIN_EXE_trackbench");
    // The launcher runs three hours behind; sbatch hands its environment (libfaketime
    // preloaded) to the task, so the agent and the command run three hours behind too.
    let before = trackbench_store::now_ms();
    let mut skewed = site.command_of("faketime", &["-f", "-3h", exe]);
    // A node's wall clock differs; its monotonic clock (time since boot) is its own anyway.
    skewed.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    skewed.args(["launch", "--on", "slurm", "--project", "clock", "--", "sh", "-c", "date +%s; sleep 16"]);
    let mut launcher = skewed.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for("the run to start", Duration::from_secs(60), || !site.runs().is_empty());
    std::thread::sleep(Duration::from_secs(11));
    // Judged with an 8 s heartbeat timeout (the agent beats every 5 s), the live run is not
    // `crashed`: its heartbeats are the server's receipts, not the node's clock (which would
    // leave the heartbeat at the run's start).
    let strict = Store::open(
        site.env.store(),
        trackbench_store::StoreOptions { heartbeat_timeout_ms: 8000, ..Default::default() },
    )
    .unwrap();
    let live = strict.run(&site.runs()[0].id).unwrap();
    assert_eq!(live.status, RunStatus::Running, "{live:?}");
    let status = launcher.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut launcher.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{stderr}");
    let run = &site.runs()[0];
    assert_eq!(run.status, RunStatus::Finished);
    // The run's times are the server's.
    assert!(run.started_ms >= before - 1000 && run.ended_ms.unwrap() <= trackbench_store::now_ms() + 1000, "{run:?}");
    // The command did see the skewed clock (so the test skewed what it claims to).
    let printed: i64 = lines(&site.store(), &run.id)
        .iter()
        .find_map(|(_, l)| l.trim().parse().ok())
        .expect("the command printed its clock");
    assert!(printed * 1000 < before - 2 * 3600 * 1000, "the task's clock ran behind: {printed}");
}

/// `METHOD url` with a bearer token; the HTTP status.
fn status_of(method: &str, url: &str, token: &str, body: &str) -> u16 {
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let path = format!("/{}", url.trim_start_matches("http://").split_once('/').map_or("", |(_, p)| p));
    let mut conn = std::net::TcpStream::connect(&authority).unwrap();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut conn, &mut answer).unwrap();
    answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn a_job_gets_a_token_for_its_own_runs_only_revoked_when_it_ends() {
    let Some(conf) = cluster("job_scoped_token") else { return };
    let site = Site::start(conf);
    let other = site.env.log_run("p", "someone-elses", 0.1, &[1.0]);
    let mut launcher = site.spawn(&[
        "launch",
        "--on",
        "slurm",
        "--project",
        "p",
        "--",
        "sh",
        "-c",
        "echo token=$TRACKBENCH_TOKEN; sleep 6",
    ]);
    let mut token = String::new();
    let mut own = String::new();
    wait_for("the job to print its token", Duration::from_secs(60), || {
        let store = site.store();
        for r in site.runs() {
            if let Some((_, l)) = lines(&store, &r.id).into_iter().find(|(_, l)| l.starts_with("token=")) {
                token = l.trim_start_matches("token=").to_string();
                own = r.id.clone();
                return true;
            }
        }
        false
    });
    assert!(token.starts_with("tbj1.") && !token.contains(TOKEN), "a job token, not the server's: {token}");
    let url = &site.url;
    // While the job runs: its own run, and nothing else.
    assert_eq!(status_of("GET", &format!("{url}/api/v1/runs/{own}"), &token, ""), 200);
    assert_eq!(status_of("GET", &format!("{url}/api/v1/runs/{other}"), &token, ""), 403);
    assert_eq!(status_of("POST", &format!("{url}/api/v1/runs/{other}/batch"), &token, "{}"), 403);
    assert_eq!(status_of("POST", &format!("{url}/api/v1/runs/{other}/finish"), &token, r#"{"status":"failed"}"#), 403);
    assert_eq!(status_of("GET", &format!("{url}/api/v1/runs"), &token, ""), 403);
    assert_eq!(status_of("GET", &format!("{url}/api/v1/projects"), &token, ""), 403);
    let create = r#"{"project": "p", "id": "hijack0000000001"}"#;
    assert_eq!(status_of("POST", &format!("{url}/api/v1/runs"), &token, create), 403, "runs outside its scope");
    let resume = format!(r#"{{"project": "p", "id": "{other}"}}"#);
    assert_eq!(status_of("POST", &format!("{url}/api/v1/runs"), &token, &resume), 403);
    // A forged scope or expiry breaks the seal.
    let parts: Vec<&str> = token.split('.').collect();
    let later: i64 = parts[2].parse::<i64>().unwrap() + 86_400_000;
    let forged = format!("{}.{}.{later}.{}", parts[0], parts[1], parts[3]);
    assert_eq!(status_of("GET", &format!("{url}/api/v1/runs/{own}"), &forged, ""), 401);
    assert!(launcher.wait().unwrap().success());
    // The task has ended: the launcher revoked the token's access to its run.
    assert_eq!(status_of("GET", &format!("{url}/api/v1/runs/{own}"), &token, ""), 403);
    assert_eq!(status_of("POST", &format!("{url}/api/v1/runs/{own}/batch"), &token, "{}"), 403);
    assert_eq!(site.store().run(&other).unwrap().status, RunStatus::Finished, "nothing changed");
}
