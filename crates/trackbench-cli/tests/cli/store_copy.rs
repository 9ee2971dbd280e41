//! `store copy` through the real binary: killed with SIGKILL in the middle of a copy, run
//! again, it completes with both sides' counts equal (and `doctor` agrees); a third run copies
//! nothing. Folder to folder here; PostgreSQL on either side is covered by
//! `trackbench-store-pg`'s `tests/copy.rs` (this crate has no PostgreSQL client to make a
//! scratch database with).

use std::time::{Duration, Instant};

use trackbench_store::{Batch, LogLine, NewRun, RunQuery, RunStatus, Store, StoreOptions, Stream};

use crate::util::Env;

const RUNS: usize = 10;
const POINTS: usize = 150_000;

fn fill(dir: &std::path::Path) {
    let mut s = Store::open(dir, StoreOptions::default()).unwrap();
    for r in 0..RUNS {
        let id = format!("run{r:02}");
        s.create_run_with_id(&id, &NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
        let mut b = Batch { params: vec![("seed".into(), r.into())], ..Batch::default() };
        for i in 0..POINTS {
            b.push_metric("loss", i as i64, 1_700_000_000_000 + i as i64, 1.0 / (1.0 + i as f64 + r as f64));
        }
        b.log_lines = (0..100).map(|i| LogLine { stream: Stream::Stdout, ts_ms: i, line: format!("l{i}") }).collect();
        s.log_batch(&id, &b).unwrap();
        s.put_artifact_from(&id, "a.txt", &mut format!("artifact {r}").as_bytes(), "test").unwrap();
        s.finish_run(&id, RunStatus::Finished, None).unwrap();
    }
}

fn runs_in(dir: &std::path::Path) -> usize {
    let opts = StoreOptions { read_only: true, ..StoreOptions::default() };
    Store::open(dir, opts)
        .and_then(|s| s.list_runs(&RunQuery { include_deleted: true, ..RunQuery::default() }))
        .map(|r| r.len())
        .unwrap_or(0)
}

#[test]
fn store_copy_killed_midway_completes_when_run_again() {
    let env = Env::new();
    let (src, dst) = (env.dir.path().join("src"), env.dir.path().join("dst"));
    fill(&src);
    let (from, to) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let args = ["store", "copy", "--from", from, "--to", to, "--json"];

    let mut child = env.spawn(&args, false);
    let start = Instant::now();
    while runs_in(&dst) < 2 {
        assert!(child.try_wait().unwrap().is_none(), "the copy ended before it could be killed: make the store bigger");
        assert!(start.elapsed() < Duration::from_secs(120), "the copy made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(child.try_wait().unwrap().is_none(), "the copy ended before it could be killed: make the store bigger");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let copied = runs_in(&dst);
    assert!(copied < RUNS, "killed midway: {copied} runs there");

    let out = env.ok(&args).json();
    assert_eq!(out["agree"], true, "{out}");
    assert_eq!(out["from"], out["to"]);
    assert_eq!(out["to"]["runs"], RUNS);
    assert_eq!(out["to"]["points"], RUNS * POINTS);
    assert_eq!(out["to"]["artifacts"], RUNS);
    assert!(out["report"]["runs_recopied"].as_u64().unwrap() <= 1, "{out}");
    assert_eq!(
        out["report"]["runs_copied"].as_u64().unwrap() + out["report"]["runs_skipped"].as_u64().unwrap(),
        RUNS as u64
    );

    let a = env.ok(&["--store", from, "doctor", "--json"]).json();
    let b = env.ok(&["--store", to, "doctor", "--json"]).json();
    assert_eq!(a["counts"], b["counts"]);

    let again = env.ok(&["store", "copy", "--from", from, "--to", to]).stdout;
    assert!(again.contains("nothing to copy"), "{again}");
}

#[test]
fn a_copy_into_a_store_with_runs_of_its_own_is_complete_not_equal() {
    let env = Env::new();
    let (src, dst) = (env.dir.path().join("src"), env.dir.path().join("dst"));
    let mut s = Store::open(&src, StoreOptions::default()).unwrap();
    let mine = s.create_run(&NewRun { project: "laptop".into(), ..NewRun::default() }).unwrap();
    let mut b = Batch::default();
    b.push_metric("loss", 0, 0, 1.0);
    s.log_batch(&mine.id, &b).unwrap();
    drop(s);
    let mut d = Store::open(&dst, StoreOptions::default()).unwrap();
    d.create_run(&NewRun { project: "team".into(), ..NewRun::default() }).unwrap();
    drop(d);
    let (from, to) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let out = env.ok(&["store", "copy", "--from", from, "--to", to, "--json"]).json();
    assert_eq!((out["agree"].as_bool(), out["complete"].as_bool()), (Some(false), Some(true)), "{out}");
    assert_eq!((out["from"]["runs"].as_u64(), out["to"]["runs"].as_u64()), (Some(1), Some(2)), "{out}");
    let text = env.ok(&["store", "copy", "--from", from, "--to", to]).stdout;
    assert!(text.contains("nothing to copy") && text.contains("runs of its own"), "{text}");
}
