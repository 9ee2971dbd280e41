//! Hardening through the real binary: stored strings cannot drive the terminal, and a killed
//! process's run reads `crashed` within seconds, long before the heartbeat timeout.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use trackbench_store::{RunInfo, RunQuery, RunStatus, Store, StoreOptions};

use crate::util::Env;

const HOSTILE: &str = "\x1b[31mred\x1b]0;title\x07";

#[test]
fn stored_control_characters_are_escaped_in_tables() {
    let env = Env::new();
    let mut store = Store::open(env.store(), StoreOptions::default()).unwrap();
    let id = store
        .create_run(&trackbench_store::NewRun {
            project: "p".into(),
            name: Some("evil".into()),
            tags: vec![("note".into(), HOSTILE.into())],
            notes: Some(format!("notes {HOSTILE}\u{9b}2J")),
            ..Default::default()
        })
        .unwrap()
        .id;
    store.log_params(&id, vec![("label".into(), serde_json::json!(HOSTILE))]).unwrap();
    store.finish_run(&id, RunStatus::Finished, None).unwrap();
    for args in [&["runs", "ls", "--columns", "params.label"][..], &["runs", "show", &id][..]] {
        let out = env.ok(args);
        for raw in ['\x1b', '\x07', '\u{9b}'] {
            assert!(!out.stdout.contains(raw), "{args:?} printed a raw {raw:?}:\n{}", out.stdout);
        }
        assert!(out.stdout.contains("\\x1b[31mred\\x1b]0;title\\x07"), "{args:?}:\n{}", out.stdout);
    }
    // JSON stays exact: the same string comes back.
    let shown = env.ok(&["runs", "show", &id, "--json"]).json();
    assert_eq!(shown["tags"]["note"], HOSTILE);
}

fn poll<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < within, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills `child` outright and checks its run reads `crashed` within seconds, though the
/// heartbeat timeout is the default two minutes: first while the process is a zombie nobody
/// has reaped yet, then once it is gone.
fn killed_reads_crashed(env: &Env, mut child: Child) -> RunInfo {
    let store = Store::open(env.store(), StoreOptions::default()).unwrap();
    assert_eq!(store.options().heartbeat_timeout_ms, trackbench_store::DEFAULT_HEARTBEAT_TIMEOUT_MS);
    let run =
        poll("the run", Duration::from_secs(60), || store.list_runs(&RunQuery::default()).unwrap().into_iter().next());
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.pid, Some(i64::from(child.id())), "the recorded pid is the process holding the run");
    child.kill().unwrap(); // SIGKILL: nothing of the process runs again
    poll("crashed (zombie)", Duration::from_secs(10), || {
        (store.run(&run.id).unwrap().status == RunStatus::Crashed).then_some(())
    });
    child.wait().unwrap();
    let listed = store.list_runs(&RunQuery { filter: Some("status = 'crashed'".into()), ..RunQuery::default() });
    assert_eq!(listed.unwrap().len(), 1);
    let out = env.ok(&["runs", "ls", "--json"]).json();
    assert_eq!(out[0]["status"], "crashed", "the CLI, a separate process, sees it too");
    store.run(&run.id).unwrap()
}

#[test]
fn a_killed_trainer_reads_crashed_within_seconds() {
    let env = Env::new();
    let child = env.spawn(&["train", "--backend", "cpu", "--epochs", "100000", "--project", "p"], false);
    killed_reads_crashed(&env, child);
}

#[test]
fn a_killed_launcher_reads_crashed_within_seconds() {
    let env = Env::new();
    let child = env.spawn(&["launch", "--project", "p", "--", "sleep", "300"], false);
    // Once the child runs (its process group is recorded), kill the launcher.
    let store = Store::open(env.store(), StoreOptions::default()).unwrap();
    let pgid = poll("the launched child", Duration::from_secs(60), || {
        let run = store.list_runs(&RunQuery::default()).unwrap().into_iter().next()?;
        store.tags(&run.id).unwrap().into_iter().find(|(k, _)| k == "launch.pid").map(|(_, v)| v)
    });
    killed_reads_crashed(&env, child);
    // Stop the orphaned `sleep` (its own process group).
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
}
