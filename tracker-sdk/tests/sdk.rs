//! SDK tests against real stores: what is logged is stored, bad input is refused at the call,
//! a killed writer loses nothing that was flushed, and eight processes can log at once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use trackbench_sdk::{Run, RunOptions, RunStatus, SdkError};
use trackbench_store::{RunQuery, StepRange, Store, StoreOptions};

fn value(step: i64, k: usize) -> f64 {
    (step as f64 * 0.001 + k as f64).sin() / (1.0 + step as f64 * 1e-4)
}

/// The `train_loop` example, which `cargo test` builds next to this test binary.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let p = dir.join("examples").join("train_loop");
    assert!(p.exists(), "{} is missing: run the tests with `cargo test` (it builds examples)", p.display());
    p
}

fn open(dir: &Path) -> Store {
    Store::open(dir, StoreOptions::default()).expect("open store")
}

#[test]
fn logged_data_is_stored_on_finish() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::start(RunOptions::new("p").name("r").store_dir(dir.path())).unwrap();
    let id = run.id().to_string();
    run.log_config(&serde_json::json!({"lr": 0.01, "model": {"depth": 4}})).unwrap();
    run.set_tag("stage", "test").unwrap();
    for _ in 0..10 {
        run.log(&[("auto", 1.0)]).unwrap();
    }
    run.log_at(100, &[("loss", 0.5), ("acc", f64::NAN)]).unwrap();
    run.log_at(100, &[("loss", 0.25)]).unwrap();
    run.log(&[("auto", 2.0)]).unwrap();
    run.set_summary("best", serde_json::json!(0.9)).unwrap();
    let art = dir.path().join("weights.bin");
    std::fs::write(&art, b"abc").unwrap();
    run.log_artifact(&art, Some("model/weights.bin")).unwrap();
    run.finish().unwrap();

    let mut s = open(dir.path());
    let info = s.run(&id).unwrap();
    assert_eq!(info.status, RunStatus::Finished);
    assert!(info.ended_ms.is_some());
    let auto = s.series(&id, "auto", StepRange::ALL).unwrap();
    assert_eq!(auto.steps, (0..10).chain([101]).collect::<Vec<_>>(), "no step = the run's own counter");
    let loss = s.series(&id, "loss", StepRange::ALL).unwrap();
    assert_eq!((loss.steps, loss.values), (vec![100, 100], vec![0.5, 0.25]), "duplicate step kept");
    assert!(s.series(&id, "acc", StepRange::ALL).unwrap().values[0].is_nan());
    assert_eq!(s.params(&id).unwrap().len(), 2);
    assert_eq!(s.tags(&id).unwrap(), vec![("stage".to_string(), "test".to_string())]);
    assert_eq!(s.artifacts(&id).unwrap()[0].path, "model/weights.bin");
    assert_eq!(s.summary_values(&id).unwrap()[0].0, "best");
}

#[test]
fn invalid_input_is_refused_at_the_call_and_nothing_of_it_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::start(RunOptions::new("p").store_dir(dir.path())).unwrap();
    let id = run.id().to_string();
    let long = "k".repeat(251);
    for bad in ["", "a\nb", long.as_str(), " x"] {
        let err = run.log_at(0, &[("good", 1.0), (bad, 2.0)]).expect_err(bad);
        assert!(matches!(err, SdkError::Invalid(_)), "{err}");
    }
    assert!(run.log_params(&[("cfg", serde_json::json!({"nested": 1}))]).is_err());
    assert!(run.set_tag("t", "nul\0").is_err());
    assert!(run.log_artifact(dir.path().join("missing.bin"), None).is_err());
    assert!(run.log_artifact(dir.path(), Some("../escape")).is_err());
    run.log_params(&[("lr", 0.1.into())]).unwrap();
    run.log_params(&[("lr", 0.2.into())]).unwrap();
    run.flush().unwrap();
    assert_eq!(run.rejected().len(), 1, "changing a param is reported");
    run.finish().unwrap();
    let s = open(dir.path());
    assert!(s.metric_keys(&id).unwrap().is_empty(), "a refused record stores none of its keys");
    assert_eq!(s.params(&id).unwrap(), vec![("lr".to_string(), serde_json::json!(0.1))]);
}

#[test]
fn a_full_queue_blocks_instead_of_dropping() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new("p").store_dir(dir.path());
    opts.max_queued_points = 1000;
    opts.flush_points = 500;
    let run = Run::start(opts).unwrap();
    let id = run.id().to_string();
    for step in 0..50_000 {
        run.log_at(step, &[("a", step as f64), ("b", -(step as f64))]).unwrap();
    }
    run.finish().unwrap();
    let mut s = open(dir.path());
    let a = s.series(&id, "a", StepRange::ALL).unwrap();
    assert_eq!(a.len(), 50_000);
    assert!(a.values.iter().enumerate().all(|(i, v)| *v == i as f64));
}

#[test]
fn dropping_a_run_finishes_it_and_panicking_marks_it_failed() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let run = Run::start(RunOptions::new("p").store_dir(dir.path())).unwrap();
        run.log(&[("x", 1.0)]).unwrap();
        run.id().to_string()
    };
    assert_eq!(open(dir.path()).run(&id).unwrap().status, RunStatus::Finished);
    let d = dir.path().to_path_buf();
    let failed = std::thread::spawn(move || {
        let run = Run::start(RunOptions::new("p").store_dir(&d)).unwrap();
        let id = run.id().to_string();
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _keep = run;
            panic!("training blew up");
        }));
        id
    })
    .join()
    .unwrap();
    let info = open(dir.path()).run(&failed).unwrap();
    assert_eq!(info.status, RunStatus::Failed);
}

#[test]
fn attaching_to_an_existing_run_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::start(RunOptions::new("p").store_dir(dir.path())).unwrap();
    let id = run.id().to_string();
    run.log_at(0, &[("x", 1.0)]).unwrap();
    run.finish().unwrap();
    let again = Run::start(RunOptions::new("ignored").store_dir(dir.path()).resume(&id)).unwrap();
    assert_eq!(again.id(), id);
    again.log_at(1, &[("x", 2.0)]).unwrap();
    again.finish_with(RunStatus::Killed, None).unwrap();
    let mut s = open(dir.path());
    assert_eq!(s.series(&id, "x", StepRange::ALL).unwrap().values, vec![1.0, 2.0]);
    assert_eq!(s.run(&id).unwrap().status, RunStatus::Killed);
    assert!(Run::start(RunOptions::new("p").store_dir(dir.path()).resume("nosuchrun")).is_err());
}

#[test]
fn a_killed_writer_keeps_every_flushed_point_and_reads_as_crashed() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(example())
        .args(["--store", &dir.path().display().to_string(), "--steps", "100000000", "--keys", "5"])
        .args(["--flush-every", "2000", "--project", "kill"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let id = lines.next().unwrap().unwrap().strip_prefix("run ").unwrap().to_string();
    let mut flushed = 0i64;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("flushed ") {
            flushed = n.parse().unwrap();
            if flushed >= 40_000 {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no flush, no finish.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(flushed >= 40_000);

    let opts = StoreOptions { heartbeat_timeout_ms: 300, ..StoreOptions::default() };
    let mut s = Store::open(dir.path(), opts).unwrap();
    assert_eq!(s.health().unwrap().integrity, "ok");
    for k in 0..5 {
        let p = s.series(&id, &format!("m{k}"), StepRange::ALL).unwrap();
        assert!(p.len() as i64 >= flushed, "m{k}: {} points stored, {flushed} were flushed", p.len());
        for (i, (&step, &v)) in p.steps.iter().zip(&p.values).enumerate() {
            assert_eq!(step, i as i64);
            assert_eq!(v.to_bits(), value(step, k).to_bits());
        }
    }
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(s.run(&id).unwrap().status, RunStatus::Crashed);
}

#[test]
fn eight_processes_log_100k_points_each_into_one_store() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|i| {
            Command::new(example())
                .args(["--store", &dir.path().display().to_string(), "--steps", "10000", "--keys", "10"])
                .args(["--project", "crowd", "--name", &format!("writer-{i}"), "--flush-every", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a writer failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut s = open(dir.path());
    let runs = s.list_runs(&RunQuery { project: Some("crowd".into()), ..RunQuery::default() }).unwrap();
    assert_eq!(runs.len(), 8);
    let mut total = 0;
    for r in &runs {
        assert_eq!(r.status, RunStatus::Finished);
        for k in 0..10 {
            let p = s.series(&r.id, &format!("m{k}"), StepRange::ALL).unwrap();
            assert_eq!(p.steps, (0..10_000).collect::<Vec<_>>());
            total += p.len();
        }
    }
    assert_eq!(total, 800_000);
    assert_eq!(s.health().unwrap().integrity, "ok");
}

#[test]
fn a_full_disk_surfaces_at_flush_and_keeps_earlier_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new("p").store_dir(dir.path());
    opts.max_db_bytes = Some(300 * 1024);
    let run = Run::start(opts).unwrap();
    let id = run.id().to_string();
    run.log_at(0, &[("first", 1.0)]).unwrap();
    run.flush().unwrap();
    let mut step = 0i64;
    let err = loop {
        let noisy = f64::from_bits(0x3ff0_0000_0000_0000 ^ ((step as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 12));
        run.log_at(step, &[("noise", noisy)]).unwrap();
        step += 1;
        if step % 5000 == 0
            && let Err(e) = run.flush()
        {
            break e;
        }
        assert!(step < 5_000_000, "the cap never hit");
    };
    match &err {
        SdkError::Write { message, pending } => {
            assert!(*pending > 0, "the unstored points are still queued");
            assert!(message.contains("full"), "{message}");
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(run.finish().is_err(), "finish reports that data could not be stored");
    let mut s = open(dir.path());
    assert_eq!(s.health().unwrap().integrity, "ok");
    assert_eq!(s.series(&id, "first", StepRange::ALL).unwrap().values, vec![1.0]);
}

#[test]
fn records_with_changing_keys_are_stored_point_for_point() {
    // Small flush and queue bounds make the writer take (and hand back) the queue's vectors
    // hundreds of times and make callers wait for room; the key sets and orders change from
    // record to record, so the positional key cache misses, partly hits and hits.
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new("p").store_dir(dir.path());
    opts.flush_points = 37;
    opts.max_queued_points = 200;
    let before_ms = trackbench_store::now_ms();
    let run = Run::start(opts).unwrap();
    let id = run.id().to_string();
    let wide: Vec<String> = (0..40).map(|k| format!("wide/{k}")).collect();
    let mut expected: std::collections::BTreeMap<String, Vec<(i64, f64)>> = Default::default();
    let mut next_step = 0i64;
    for i in 0..4000i64 {
        let keys: Vec<&str> = match i % 29 {
            7 => vec!["d", "c", "b", "a"],
            11 => vec!["a", "b", "e"],
            13 => vec!["b"],
            17 => vec![],
            19 => vec!["a", "b", "c", "bad\nkey", "d"],
            23 => vec!["a", "a", "train/loss"],
            25 => wide.iter().map(String::as_str).collect(),
            _ => vec!["a", "b", "c", "d"],
        };
        let record: Vec<(&str, f64)> =
            keys.iter().enumerate().map(|(k, key)| (*key, i as f64 * 100.0 + k as f64)).collect();
        let auto = i % 3 == 0;
        let result = if auto { run.log(&record) } else { run.log_at(next_step + i % 2, &record) };
        if i % 29 == 19 {
            assert!(matches!(result, Err(SdkError::Invalid(_))), "{result:?}");
            continue;
        }
        result.unwrap();
        let step = if auto { next_step } else { next_step + i % 2 };
        next_step = step + 1;
        for (key, value) in record {
            expected.entry(key.to_string()).or_default().push((step, value));
        }
    }
    run.finish().unwrap();
    let after_ms = trackbench_store::now_ms();

    let mut s = open(dir.path());
    let mut stored_keys = s.metric_keys(&id).unwrap();
    stored_keys.sort();
    assert_eq!(stored_keys, expected.keys().cloned().collect::<Vec<_>>(), "no key of a refused record is stored");
    for (key, want) in &expected {
        let got = s.series(&id, key, StepRange::ALL).unwrap();
        let got_pairs: Vec<(i64, f64)> = got.steps.iter().copied().zip(got.values.iter().copied()).collect();
        assert_eq!(&got_pairs, want, "key {key}");
        assert!(got.wall_ms.iter().all(|w| (before_ms..=after_ms).contains(w)), "key {key}: wall times");
    }
}

#[test]
fn resolved_keys_log_the_same_records_as_named_keys() {
    // Small bounds: the writer takes the queue often and callers wait for room.
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new("p").store_dir(dir.path());
    opts.flush_points = 37;
    opts.max_queued_points = 200;
    let run = Run::start(opts).unwrap();
    let other = Run::start(RunOptions::new("p").store_dir(dir.path())).unwrap();
    let id = run.id().to_string();
    let loss = run.metric_key("train/loss").unwrap();
    let acc = run.metric_key("acc").unwrap();
    assert_eq!(run.metric_key("train/loss").unwrap(), loss, "one key per name");
    assert_ne!(loss, acc);
    for bad in ["", "a\nb", " x"] {
        assert!(matches!(run.metric_key(bad), Err(SdkError::Invalid(_))), "{bad:?} refused");
    }
    let foreign = other.metric_key("acc").unwrap();
    let err = run.log_keys(Some(0), &[(loss, 1.0), (foreign, 2.0)]).expect_err("a key of another run");
    assert!(matches!(err, SdkError::Invalid(_)), "{err}");
    for i in 0..3000i64 {
        match i % 4 {
            0 => run.log_keys(None, &[(loss, i as f64), (acc, -(i as f64))]).unwrap(),
            1 => run.log(&[("train/loss", i as f64), ("acc", -(i as f64))]).unwrap(),
            2 => run.log_keys(Some(10_000 + i), &[(acc, -(i as f64)), (loss, i as f64)]).unwrap(),
            _ => run.log_keys(None, &[]).unwrap(),
        }
    }
    other.finish().unwrap();
    run.finish().unwrap();

    // Steps as `log`/`log_at` give them: the counter, moved past explicit steps, and an empty
    // record still advancing it.
    let mut want: Vec<(i64, f64)> = Vec::new();
    let mut next = 0i64;
    for i in 0..3000i64 {
        let step = if i % 4 == 2 { 10_000 + i } else { next };
        next = step + 1;
        if i % 4 != 3 {
            want.push((step, i as f64));
        }
    }
    let mut s = open(dir.path());
    let mut keys = s.metric_keys(&id).unwrap();
    keys.sort();
    assert_eq!(keys, ["acc", "train/loss"], "the refused record stored nothing");
    let got = s.series(&id, "train/loss", StepRange::ALL).unwrap();
    assert_eq!(got.steps.iter().copied().zip(got.values.iter().copied()).collect::<Vec<_>>(), want);
    let acc = s.series(&id, "acc", StepRange::ALL).unwrap();
    assert_eq!(acc.values, want.iter().map(|(_, v)| -v).collect::<Vec<_>>());
}

#[test]
fn system_metrics_are_sampled_as_sys_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = RunOptions::new("sys").store_dir(dir.path());
    opts.system_metrics = Some(Duration::from_millis(40));
    opts.flush_interval = Duration::from_millis(10);
    let run = Run::start(opts).unwrap();
    let id = run.id().to_string();
    let start = std::time::Instant::now();
    let mut step = 0;
    while start.elapsed() < Duration::from_millis(400) {
        run.log_at(step, &[("work", step as f64)]).unwrap();
        step += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
    run.finish().unwrap();
    let mut s = open(dir.path());
    let keys = s.metric_keys(&id).unwrap();
    if !cfg!(target_os = "linux") {
        eprintln!("SKIPPED: system metrics are sampled on Linux only");
        assert_eq!(keys, ["work"]);
        return;
    }
    for k in trackbench_sdk::system::KEYS {
        assert!(keys.iter().any(|x| x == k), "{k} missing from {keys:?}");
    }
    let rss = s.series(&id, "sys/rss_mb", StepRange::ALL).unwrap();
    assert!(rss.len() >= 3, "sampled every 40 ms for 400 ms: {} samples", rss.len());
    assert!(rss.values.iter().all(|v| (0.5..1e6).contains(v)), "{:?}", rss.values);
    assert!(rss.steps.windows(2).all(|w| w[1] == w[0] + 1), "one step per sample");
    let cpu = s.series(&id, "sys/cpu_percent", StepRange::ALL).unwrap();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    assert!(cpu.values.iter().all(|v| (0.0..=100.0 * cpus + 1.0).contains(v)), "{:?}", cpu.values);
    let mem = s.series(&id, "sys/system_memory_percent", StepRange::ALL).unwrap();
    assert!(mem.values.iter().all(|v| (0.0..=100.0).contains(v)));
    // NVIDIA GPUs (NVML at run time): none without a driver; plausible values with one.
    let gpu: Vec<&String> = keys.iter().filter(|k| k.starts_with("sys/gpu")).collect();
    eprintln!("GPU metric series: {gpu:?} (none without an NVIDIA driver)");
    for k in gpu.iter().filter(|k| k.ends_with("_percent")) {
        let v = s.series(&id, k, StepRange::ALL).unwrap();
        assert!(v.values.iter().all(|x| (0.0..=100.0).contains(x)), "{k}: {:?}", v.values);
    }

    // Off: no sys series at all.
    let mut opts = RunOptions::new("sys").store_dir(dir.path());
    opts.system_metrics = None;
    opts.flush_interval = Duration::from_millis(10);
    let run = Run::start(opts).unwrap();
    let id = run.id().to_string();
    run.log_at(0, &[("x", 1.0)]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    run.finish().unwrap();
    assert_eq!(s.metric_keys(&id).unwrap(), ["x"]);
}
