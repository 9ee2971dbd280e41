//! One contract, two transports: every scenario runs once into a local store and once through
//! a real `trackbench serve` into the store behind it, and the two stores must read back the
//! same (ids and times aside). A behaviour only one transport has is a bug.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use trackbench_sdk::{Remote, Run, RunOptions, RunStatus, SdkError, Stream};
use trackbench_store::{StepRange, Store, StoreOptions};

use common::{Served, TOKEN, serve};

/// Where a scenario's runs go.
struct Target {
    _dir: tempfile::TempDir,
    store: PathBuf,
    /// The server and its URL, for the HTTP transport.
    server: Option<(Served, String)>,
}

impl Target {
    fn local() -> Target {
        let dir = tempfile::tempdir().unwrap();
        Target { store: dir.path().join("store"), _dir: dir, server: None }
    }

    fn http() -> Target {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let server = serve(&store, 0);
        Target { store, _dir: dir, server: Some(server) }
    }

    fn name(&self) -> &'static str {
        if self.server.is_some() { "http" } else { "local" }
    }

    fn opts(&self, project: &str) -> RunOptions {
        let mut o = RunOptions::new(project);
        o = match &self.server {
            Some((_, url)) => o.remote(Remote::new(url, Some(TOKEN.into()))),
            None => o.store_dir(&self.store),
        };
        o.flush_interval = Duration::from_millis(20);
        o.system_metrics = None;
        o
    }

    fn open(&self) -> Store {
        Store::open(&self.store, StoreOptions::default()).unwrap()
    }
}

/// Runs `scenario` on both transports and checks that what they stored reads the same.
fn on_both(scenario: impl Fn(&Target) -> Vec<String>) {
    let local = Target::local();
    let http = Target::http();
    let (l, h) = (scenario(&local), scenario(&http));
    for ids in [&l, &h] {
        assert!(!ids.is_empty(), "the scenario returns the runs it made");
    }
    let read = |t: &Target, ids: &[String]| ids.iter().map(|id| stored(&mut t.open(), id)).collect::<Vec<_>>();
    let (ls, hs) = (read(&local, &l), read(&http, &h));
    assert_eq!(ls, hs, "a local store and one behind `trackbench serve` must hold the same");
}

/// What a run holds, without ids and times: the text two transports must agree on.
fn stored(s: &mut Store, id: &str) -> String {
    let info = s.run(id).unwrap();
    let mut out = format!(
        "{}/{} {:?} group={:?} notes={:?} error={:?}\n",
        info.project, info.name, info.status, info.group, info.notes, info.error
    );
    let mut keys = s.metric_keys(id).unwrap();
    keys.sort();
    for k in keys {
        let p = s.series(id, &k, StepRange::ALL).unwrap();
        let values: Vec<u64> = p.values.iter().map(|v| v.to_bits()).collect();
        out += &format!("metric {k}: steps {:?} value bits {values:?}\n", p.steps);
    }
    out += &format!("params {:?}\n", s.params(id).unwrap());
    out += &format!("tags {:?}\n", s.tags(id).unwrap());
    out += &format!("summary {:?}\n", s.summary_values(id).unwrap());
    for l in s.log_lines(id, 0, 1000).unwrap() {
        out += &format!("log {:?} {}\n", l.line.stream, l.line.line);
    }
    for a in s.artifacts(id).unwrap() {
        out += &format!("artifact {} {} {}\n", a.path, a.size, a.hash);
    }
    out
}

#[test]
fn everything_logged_reads_back_the_same() {
    on_both(|t| {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::start(t.opts("contract").name("all").group("g").notes("n").tag("via", "test")).unwrap();
        let id = run.id().to_string();
        run.log_config(&json!({"lr": 0.01, "model": {"depth": 4, "act": "relu"}})).unwrap();
        run.set_tag("stage", "dev").unwrap();
        for i in 0..10 {
            run.log(&[("auto", i as f64)]).unwrap();
        }
        run.log_at(100, &[("loss", 0.5), ("odd", f64::NAN)]).unwrap();
        run.log_at(100, &[("loss", 0.25), ("odd", f64::INFINITY)]).unwrap();
        run.log_at(101, &[("odd", f64::NEG_INFINITY), ("loss", -0.0)]).unwrap();
        let (loss, acc) = (run.metric_key("loss").unwrap(), run.metric_key("val/acc").unwrap());
        for step in 200..1200 {
            run.log_keys(Some(step), &[(loss, 1.0 / step as f64), (acc, step as f64 * 1e-3)]).unwrap();
        }
        run.log(&[("auto", 99.0)]).unwrap();
        run.set_summary("best", json!({"acc": 0.9, "at": [1, 2]})).unwrap();
        run.log_line(Stream::Stdout, "epoch 1 done").unwrap();
        run.log_line(Stream::Stderr, "warning: ünïcode").unwrap();
        let file = dir.path().join("weights.bin");
        std::fs::write(&file, vec![3u8; 70_000]).unwrap();
        run.log_artifact(&file, None).unwrap();
        let folder = common::artifact_folder(dir.path());
        run.log_artifact(&folder, Some("config")).unwrap();
        run.finish_with(RunStatus::Failed, Some("diverged at step 1200")).unwrap();

        let mut s = t.open();
        let info = s.run(&id).unwrap();
        assert_eq!(
            (info.status, info.error.as_deref()),
            (RunStatus::Failed, Some("diverged at step 1200")),
            "{}",
            t.name()
        );
        let auto = s.series(&id, "auto", StepRange::ALL).unwrap();
        assert_eq!(auto.steps, (0..10).chain([1200]).collect::<Vec<_>>(), "{}: the run's own counter", t.name());
        let loss = s.series(&id, "loss", StepRange::ALL).unwrap();
        assert_eq!(&loss.steps[..3], [100, 100, 101], "{}: a step logged twice keeps both", t.name());
        assert_eq!(loss.values[2].to_bits(), (-0.0f64).to_bits(), "{}: -0.0 stays -0.0", t.name());
        vec![id]
    });
}

#[test]
fn invalid_input_is_refused_at_the_call_on_both() {
    on_both(|t| {
        let run = Run::start(t.opts("contract").name("refused")).unwrap();
        let id = run.id().to_string();
        let long = "k".repeat(251);
        for bad in ["", "a\nb", long.as_str(), " x"] {
            let err = run.log_at(0, &[("good", 1.0), (bad, 2.0)]).expect_err(bad);
            assert!(matches!(err, SdkError::Invalid(_)), "{}: {err}", t.name());
            assert!(matches!(run.metric_key(bad), Err(SdkError::Invalid(_))), "{}", t.name());
        }
        assert!(run.log_params(&[("cfg", json!({"nested": 1}))]).is_err(), "{}", t.name());
        assert!(run.set_tag("t", "nul\0").is_err(), "{}", t.name());
        run.log_params(&[("lr", json!(0.1))]).unwrap();
        run.log_params(&[("lr", json!(0.2))]).unwrap();
        run.flush().unwrap();
        assert_eq!(run.rejected().len(), 1, "{}: a changed param is reported", t.name());
        run.finish().unwrap();
        assert!(t.open().metric_keys(&id).unwrap().is_empty(), "{}: refused records store nothing", t.name());
        vec![id]
    });
}

#[test]
fn a_small_queue_blocks_and_loses_nothing() {
    on_both(|t| {
        let mut opts = t.opts("contract").name("bounded");
        opts.max_queued_points = 1000;
        opts.flush_points = 300;
        let run = Run::start(opts).unwrap();
        let id = run.id().to_string();
        for step in 0..30_000 {
            run.log_at(step, &[("a", step as f64), ("b", -(step as f64))]).unwrap();
        }
        run.finish().unwrap();
        assert_eq!(t.open().series(&id, "a", StepRange::ALL).unwrap().len(), 30_000, "{}", t.name());
        vec![id]
    });
}

#[test]
fn a_resumed_run_continues_where_it_stopped() {
    on_both(|t| {
        let first = Run::start(t.opts("contract").name("resumed").tag("phase", "1")).unwrap();
        let id = first.id().to_string();
        first.log_params(&[("lr", json!(0.01))]).unwrap();
        for _ in 0..5 {
            first.log(&[("loss", 1.0)]).unwrap();
        }
        first.finish().unwrap();
        let mut opts = t.opts("ignored when resuming").tag("phase", "2");
        opts.resume = Some(id.clone());
        let again = Run::start(opts).unwrap();
        assert_eq!((again.id(), again.name()), (id.as_str(), "resumed"), "{}", t.name());
        again.log_params(&[("lr", json!(0.01))]).unwrap();
        again.log_at(10, &[("loss", 0.5)]).unwrap();
        again.finish().unwrap();
        // By its name, as `trackbench runs` shows it, and by a unique prefix of its id.
        for handle in ["resumed".to_string(), id[..8].to_string()] {
            let mut opts = t.opts("contract");
            opts.resume = Some(handle.clone());
            let by = Run::start(opts).unwrap();
            assert_eq!(by.id(), id, "{}: resume by {handle}", t.name());
            by.finish().unwrap();
        }
        let mut s = t.open();
        assert_eq!(s.run(&id).unwrap().status, RunStatus::Finished, "{}", t.name());
        assert_eq!(s.series(&id, "loss", StepRange::ALL).unwrap().steps, [0, 1, 2, 3, 4, 10], "{}", t.name());
        assert_eq!(s.list_runs(&Default::default()).unwrap().len(), 1, "{}: no run was made by a handle", t.name());
        vec![id]
    });
}
