//! One contract, two backends: each scenario runs on the SQLite store and on PostgreSQL (a
//! fresh database of its own), and must behave the same on both. The PostgreSQL runs need a
//! server named by `TRACKBENCH_TEST_POSTGRES` (`cargo xtask test` starts one); without it they
//! are skipped, and say so.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use postgres::{Client, NoTls};
use trackbench_store::codec::Points;
use trackbench_store::{
    AbStore, Arm, Batch, Change, ChangeStore, LogLine, MetricStore, NewAb, NewRun, ProcessIdentity, ProcessProbe,
    RunQuery, RunStatus, RunStore, SeriesBatch, StepRange, Store, StoreError, StoreOptions, Stream, default_run_name,
};
use trackbench_store_pg::{ChangeListener, PgStore, migrate};

const T0: i64 = 1_750_000_000_000;

/// Says loudly, past the test harness's capture, that a test could not run here.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// A fresh database on the test server, dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &str) -> Database {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("tb_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let mut c = Client::connect(admin, NoTls).expect("connecting to the test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
        Database { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn test_server() -> Option<String> {
    let url = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        skipped("PostgreSQL backend: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a server)");
    }
    url
}

/// Everything the seam covers so far.
trait Contract: MetricStore + AbStore + ChangeStore {}
impl<T: MetricStore + AbStore + ChangeStore> Contract for T {}

/// A machine named `here` whose processes the test decides (the OS, not our store, is what
/// this stands in for).
#[derive(Default)]
struct FakeProcesses {
    procs: Mutex<HashMap<i64, i64>>,
}

impl FakeProcesses {
    fn start(&self, pid: i64, ticks: i64) {
        self.procs.lock().unwrap().insert(pid, ticks);
    }
    fn kill(&self, pid: i64) {
        self.procs.lock().unwrap().remove(&pid);
    }
}

impl ProcessProbe for FakeProcesses {
    fn host(&self) -> Option<&str> {
        Some("here")
    }
    fn boot(&self) -> Option<&str> {
        Some("boot-1")
    }
    fn start_ticks(&self, pid: i64) -> Option<i64> {
        self.procs.lock().unwrap().get(&pid).copied()
    }
}

/// Heartbeat timeout of the stores under test.
const TIMEOUT: i64 = 60_000;

/// A backend under test: its store, its manual clock and process table, and what must outlive
/// the store.
struct Backend {
    name: &'static str,
    store: Box<dyn Contract>,
    clock: Arc<AtomicI64>,
    procs: Arc<FakeProcesses>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }
}

/// The same options for every backend: a manual clock from T0 and a fake process table.
fn options() -> (StoreOptions, Arc<AtomicI64>, Arc<FakeProcesses>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let procs = Arc::new(FakeProcesses::default());
    let c = clock.clone();
    let opts = StoreOptions {
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
        heartbeat_timeout_ms: TIMEOUT,
        process_probe: Some(procs.clone()),
        ..StoreOptions::default()
    };
    (opts, clock, procs)
}

/// SQLite, and PostgreSQL when a test server is there.
fn backends() -> Vec<Backend> {
    let (opts, clock, procs) = options();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path(), opts).unwrap();
    let mut out = vec![Backend { name: "sqlite", store: Box::new(sqlite), clock, procs, _db: None, _dir: Some(dir) }];
    if let Some(admin) = test_server() {
        let db = Database::create(&admin);
        let (opts, clock, procs) = options();
        let pg = PgStore::connect(&db.url, opts).unwrap();
        out.push(Backend { name: "postgres", store: Box::new(pg), clock, procs, _db: Some(db), _dir: None });
    }
    out
}

#[test]
fn projects_are_created_listed_renamed_and_tagged_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        let alpha = s.create_project("Alpha").unwrap();
        assert_eq!((alpha.created_ms, alpha.updated_ms, alpha.runs), (T0, Some(T0), 0), "{}", b.name);
        assert!(matches!(s.create_project("Alpha"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        let beta = s.ensure_project("beta").unwrap();
        assert_eq!(s.ensure_project("beta").unwrap(), beta, "{}: ensure is idempotent", b.name);
        s.ensure_project("zeta").unwrap();
        s.ensure_project("émile ✓").unwrap();
        for bad in ["", "  ", "a\u{7}b"] {
            assert!(matches!(s.create_project(bad), Err(StoreError::Invalid { .. })), "{}: {bad:?}", b.name);
        }
        // Names order byte-wise on both (uppercase first, non-ASCII last), not by locale.
        let names: Vec<String> = s.list_projects(false).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["Alpha", "beta", "zeta", "émile ✓"], "{}", b.name);

        b.advance(10);
        let s = &mut b.store;
        s.rename_project(alpha.id, "Alpha").unwrap(); // the same name: nothing to do
        assert!(matches!(s.rename_project(alpha.id, "beta"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        s.rename_project(alpha.id, "alpha-2").unwrap();
        let renamed = s.project_by_id(alpha.id).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.updated_ms), ("alpha-2", Some(T0 + 10)), "{}", b.name);
        assert!(matches!(s.project("Alpha"), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
        assert!(matches!(s.project_by_id(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);

        s.set_project_tag(beta, "team", "vision").unwrap();
        s.set_project_tag(beta, "owner", "ana").unwrap();
        s.set_project_tag(beta, "team", "nlp ✓").unwrap();
        assert!(s.set_project_tag(beta, "", "x").is_err(), "{}", b.name);
        assert!(s.remove_project_tag(beta, "owner").unwrap(), "{}", b.name);
        assert!(!s.remove_project_tag(beta, "owner").unwrap(), "{}", b.name);
        assert_eq!(s.project_tags(beta).unwrap(), [("team".to_string(), "nlp ✓".to_string())], "{}", b.name);
        assert!(matches!(s.project_tags(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
    }
}

#[test]
fn deleted_projects_are_hidden_until_restored_alike() {
    for mut b in backends() {
        let id = b.store.create_project("p").unwrap().id;
        b.store.create_project("q").unwrap();
        b.advance(5);
        b.store.delete_project(id).unwrap();
        b.store.delete_project(id).unwrap(); // twice is fine
        let live: Vec<String> = b.store.list_projects(false).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(live, ["q"], "{}", b.name);
        let all = b.store.list_projects(true).unwrap();
        assert_eq!(all.iter().map(|p| (p.name.as_str(), p.deleted)).collect::<Vec<_>>(), [("p", true), ("q", false)]);
        assert!(b.store.project("p").unwrap().deleted, "{}: still found by name", b.name);
        assert!(matches!(b.store.create_project("p"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        b.store.restore_project(id).unwrap();
        let p = b.store.project_by_id(id).unwrap();
        assert_eq!((p.deleted, p.updated_ms), (false, Some(T0 + 5)), "{}", b.name);
        assert!(matches!(b.store.delete_project(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
    }
}

#[test]
fn runs_are_created_named_tagged_ended_and_deleted_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let first = s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
        assert_eq!(first.name, default_run_name(&first.id, 0), "{n}: the default name counts the project's runs");
        let full = NewRun {
            project: "p".into(),
            name: Some("full ✓".into()),
            group: Some("g".into()),
            notes: Some("notes".into()),
            tags: vec![("k".into(), "v".into())],
            host: Some("elsewhere".into()),
            pid: Some(7),
            command: Some("python train.py".into()),
            git_commit: Some("abc".into()),
            git_dirty: Some(true),
            env: Some(serde_json::json!({"python": "3.11", "gpus": [0, 1]})),
            created_ms: Some(T0 - 500),
            ..NewRun::default()
        };
        let r = s.create_run_with_id("fixedid000000001", &full).unwrap();
        assert_eq!(r.id, "fixedid000000001");
        assert_eq!((r.project.as_str(), r.name.as_str(), r.status), ("p", "full ✓", RunStatus::Running), "{n}");
        assert_eq!((r.created_ms, r.started_ms, r.heartbeat_ms, r.ended_ms), (T0 - 500, T0 - 500, T0, None), "{n}");
        assert_eq!(
            (r.group.as_deref(), r.notes.as_deref(), r.host.as_deref(), r.pid, r.git_dirty),
            (Some("g"), Some("notes"), Some("elsewhere"), Some(7), Some(true)),
            "{n}"
        );
        assert_eq!(r.env, full.env, "{n}");
        assert!(s.create_run(&NewRun { project: "p".into(), name: Some(" ".into()), ..NewRun::default() }).is_err());
        let p = s.project("p").unwrap();
        assert_eq!((p.runs, p.last_activity_ms), (2, Some(T0)), "{n}");

        // Tags: set (a write, so a heartbeat), overwrite, remove; sorted by key.
        b.advance(5);
        let s = &mut b.store;
        s.set_tag(&r.id, "b", "2").unwrap();
        s.set_tag(&r.id, "k", "v2").unwrap();
        assert_eq!(s.run(&r.id).unwrap().heartbeat_ms, T0 + 5, "{n}");
        assert!(matches!(s.set_tag(&r.id, "", "x"), Err(StoreError::Invalid { what: "tag", .. })), "{n}");
        assert!(s.remove_tag(&r.id, "b").unwrap() && !s.remove_tag(&r.id, "b").unwrap(), "{n}");
        assert_eq!(s.tags(&r.id).unwrap(), [("k".to_string(), "v2".to_string())], "{n}");
        assert!(matches!(s.tags("nosuchrun"), Err(StoreError::RunNotFound(_))), "{n}");

        // Names: a full id, a prefix of 4+ characters, a unique name; two of a name are ambiguous.
        assert_eq!(s.resolve_run("fixedid000000001").unwrap(), r.id);
        assert_eq!(s.resolve_run("fixe").unwrap(), r.id, "{n}");
        assert_eq!(s.resolve_run("full ✓").unwrap(), r.id, "{n}");
        s.set_run_name(&first.id, "full ✓").unwrap();
        assert!(matches!(s.resolve_run("full ✓"), Err(StoreError::AmbiguousRun(_, 2))), "{n}");
        assert!(matches!(s.resolve_run("nope"), Err(StoreError::RunNotFound(_))), "{n}");
        s.set_notes(&r.id, None).unwrap();
        assert_eq!(s.run(&r.id).unwrap().notes, None, "{n}");

        // Heartbeats never go back; an end keeps its error; `running` is no way to end.
        s.heartbeat(&r.id, T0 + 100).unwrap();
        s.heartbeat(&r.id, T0 + 50).unwrap();
        assert_eq!(s.run(&r.id).unwrap().heartbeat_ms, T0 + 100, "{n}");
        assert!(matches!(s.finish_run_at(&r.id, RunStatus::Running, None, None), Err(StoreError::Invalid { .. })));
        s.finish_run_at(&r.id, RunStatus::Failed, Some("out of memory"), Some(T0 + 200)).unwrap();
        let ended = s.run(&r.id).unwrap();
        assert_eq!(
            (ended.status, ended.ended_ms, ended.heartbeat_ms, ended.error.as_deref()),
            (RunStatus::Failed, Some(T0 + 200), T0 + 200, Some("out of memory")),
            "{n}"
        );

        // A running run whose heartbeat is older than the timeout reads crashed.
        b.advance(TIMEOUT + 1);
        assert_eq!(b.store.run(&first.id).unwrap().status, RunStatus::Crashed, "{n}");
        b.store.heartbeat(&first.id, T0 + 5 + TIMEOUT + 1).unwrap();
        assert_eq!(b.store.run(&first.id).unwrap().status, RunStatus::Running, "{n}");

        // Deleting a project deletes its live runs; restoring brings back only those.
        let s = &mut b.store;
        s.delete_run(&first.id).unwrap();
        assert!(s.run(&first.id).unwrap().deleted, "{n}");
        assert_eq!(s.project("p").unwrap().runs, 1, "{n}");
        b.advance(1);
        let pid = b.store.project("p").unwrap().id;
        b.store.delete_project(pid).unwrap();
        assert!(b.store.run(&r.id).unwrap().deleted, "{n}");
        b.store.restore_project(pid).unwrap();
        assert!(!b.store.run(&r.id).unwrap().deleted, "{n}: deleted with the project, restored with it");
        assert!(b.store.run(&first.id).unwrap().deleted, "{n}: deleted before, stays deleted");
        b.store.restore_run(&first.id).unwrap();
        assert_eq!(b.store.project("p").unwrap().runs, 2, "{n}");
    }
}

#[test]
fn a_run_whose_process_is_gone_reads_crashed_at_once_alike() {
    for mut b in backends() {
        let n = b.name;
        let at = |host: &str| NewRun {
            project: "p".into(),
            host: Some(host.into()),
            pid: Some(42),
            proc_start: Some(7),
            proc_boot: Some("boot-1".into()),
            ..NewRun::default()
        };
        b.procs.start(42, 7);
        let here = b.store.create_run(&at("here")).unwrap();
        let there = b.store.create_run(&at("there")).unwrap();
        assert_eq!(b.store.run(&here.id).unwrap().status, RunStatus::Running, "{n}");
        b.procs.kill(42);
        assert_eq!(b.store.run(&here.id).unwrap().status, RunStatus::Crashed, "{n}: its process is gone");
        // Another host's process is not this machine's to probe: it waits for the timeout.
        assert_eq!(b.store.run(&there.id).unwrap().status, RunStatus::Running, "{n}");
        // The pid now names another process (another start time): gone too.
        b.procs.start(42, 8);
        assert_eq!(b.store.run(&here.id).unwrap().status, RunStatus::Crashed, "{n}");
        b.advance(TIMEOUT + 1);
        assert_eq!(b.store.run(&there.id).unwrap().status, RunStatus::Crashed, "{n}");
    }
}

fn points(rows: &[(i64, f64)]) -> Points {
    let mut p = Points::default();
    for &(step, v) in rows {
        p.push(step, 1_000 + step, v);
    }
    p
}

fn series(key: &str, rows: &[(i64, f64)]) -> Batch {
    Batch { series: vec![SeriesBatch { key: key.into(), points: points(rows) }], ..Batch::default() }
}

fn bits(p: &Points) -> Vec<(i64, i64, u64)> {
    (0..p.len()).map(|i| (p.steps[i], p.wall_ms[i], p.values[i].to_bits())).collect()
}

#[test]
fn points_read_back_bit_exact_in_step_order_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let run = s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        // Out of order, a step twice (both kept, in logging order), NaN, ±inf and -0.0.
        let rows = [(0, 1.5), (1, f64::NAN), (1, f64::NEG_INFINITY), (2, f64::INFINITY), (5, -0.0), (3, 2.0)];
        let mut batch = series("loss", &rows);
        batch.series.push(SeriesBatch { key: "".into(), points: points(&[(0, 1.0)]) });
        let report = s.log_batch(&run, &batch).unwrap();
        assert_eq!((report.points, report.rejected.len()), (6, 1), "{n}: the bad key is refused, the rest stored");
        let all = s.series(&run, "loss", StepRange::ALL).unwrap();
        let want = points(&[(0, 1.5), (1, f64::NAN), (1, f64::NEG_INFINITY), (2, f64::INFINITY), (3, 2.0), (5, -0.0)]);
        assert_eq!(bits(&all), bits(&want), "{n}");
        let some = s.series(&run, "loss", StepRange { min: Some(1), max: Some(3) }).unwrap();
        assert_eq!(some.steps, [1, 1, 2, 3], "{n}");
        assert!(s.series(&run, "never logged", StepRange::ALL).unwrap().is_empty(), "{n}");

        // A slow loop's many small flushes read back whole, before and after the run ends (and
        // its series are compacted).
        let mut expect = Vec::new();
        for f in 0..700 {
            let rows: Vec<(i64, f64)> = (0..3).map(|i| (f * 3 + i, ((f * 3 + i) as f64).sin())).collect();
            expect.extend_from_slice(&rows);
            s.log_batch(&run, &series("acc", &rows)).unwrap();
        }
        assert_eq!(bits(&s.series(&run, "acc", StepRange::ALL).unwrap()), bits(&points(&expect)), "{n}");
        s.finish_run_at(&run, RunStatus::Finished, None, None).unwrap();
        assert_eq!(bits(&s.series(&run, "acc", StepRange::ALL).unwrap()), bits(&points(&expect)), "{n}");

        let sums = s.metric_summaries(&run).unwrap();
        assert_eq!(sums.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), ["acc", "loss"], "{n}");
        let loss = &sums[1];
        assert_eq!((loss.count, loss.nan_count, loss.last_step), (6, 1, 5), "{n}");
        // The value at the greatest step; summaries keep -0.0 as 0.0 (points keep every bit).
        assert_eq!(loss.last.to_bits(), 0.0f64.to_bits(), "{n}");
        assert_eq!((loss.min, loss.max), (Some(f64::NEG_INFINITY), Some(f64::INFINITY)), "{n}");
        assert_eq!(loss.sum, None, "{n}: -inf + inf has no sum");
        assert_eq!((sums[0].count, sums[0].last_step), (2100, 2099), "{n}");
        assert!(matches!(s.log_batch("nosuchrun", &series("x", &[(0, 1.0)])), Err(StoreError::RunNotFound(_))));
    }
}

#[test]
fn params_tags_summary_values_and_log_lines_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let run = s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        let params = |kv: &[(&str, serde_json::Value)]| Batch {
            params: kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            ..Batch::default()
        };
        let first = params(&[("lr", 0.01.into()), ("opt", "adam".into()), ("layers", serde_json::json!([64, 32]))]);
        assert_eq!(s.log_batch(&run, &first).unwrap().params, 3, "{n}");
        assert_eq!(s.log_batch(&run, &first).unwrap().params, 0, "{n}: the same values again store nothing");
        let report = s.log_batch(&run, &params(&[("lr", 0.02.into()), ("new", 1.into())])).unwrap();
        assert_eq!(report.params, 1, "{n}");
        assert!(report.rejected[0].reason.contains("write-once"), "{n}: {:?}", report.rejected);
        let got = s.params(&run).unwrap();
        assert_eq!(
            got,
            [
                ("layers".to_string(), serde_json::json!([64, 32])),
                ("lr".to_string(), serde_json::json!(0.01)),
                ("new".to_string(), serde_json::json!(1)),
                ("opt".to_string(), serde_json::json!("adam")),
            ],
            "{n}"
        );

        let long = "é".repeat(40_000);
        let batch = Batch {
            tags: vec![("team".into(), "cv".into()), ("".into(), "refused".into())],
            summary: vec![("best".into(), serde_json::json!(0.9))],
            log_lines: vec![
                LogLine { stream: Stream::Stdout, ts_ms: 1, line: "epoch 1\0done".into() },
                LogLine { stream: Stream::Stderr, ts_ms: 2, line: long.clone() },
                LogLine { stream: Stream::Stdout, ts_ms: 3, line: "end".into() },
            ],
            ..Batch::default()
        };
        assert_eq!(s.log_batch(&run, &batch).unwrap().rejected.len(), 1, "{n}");
        let again = Batch { summary: vec![("best".into(), serde_json::json!(0.95))], ..Batch::default() };
        s.log_batch(&run, &again).unwrap();
        assert_eq!(s.summary_values(&run).unwrap(), [("best".to_string(), serde_json::json!(0.95))], "{n}");
        assert_eq!(s.tags(&run).unwrap(), [("team".to_string(), "cv".to_string())], "{n}");
        let lines = s.log_lines(&run, 0, 10).unwrap();
        assert_eq!(lines.iter().map(|l| l.seq).collect::<Vec<_>>(), [1, 2, 3], "{n}");
        assert_eq!(lines[0].line.line, "epoch 1\u{FFFD}done", "{n}: NUL shown, not stored");
        assert_eq!((lines[1].line.stream, lines[1].line.line.len()), (Stream::Stderr, 64 * 1024), "{n}: cut");
        let page = s.log_lines(&run, 1, 1).unwrap();
        assert_eq!((page.len(), page[0].seq), (1, 2), "{n}");
    }
}

#[test]
fn a_retried_batch_is_stored_once_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let run = s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        let marked =
            |seq: i64, step: i64| Batch { mark: Some(("writer-1".into(), seq)), ..series("m", &[(step, 1.0)]) };
        assert!(!s.log_batch(&run, &marked(1, 0)).unwrap().duplicate, "{n}");
        let again = s.log_batch(&run, &marked(1, 0)).unwrap();
        assert!(again.duplicate && again.points == 0, "{n}: the answer was lost, the retry stores nothing");
        s.log_batch(&run, &marked(2, 1)).unwrap();
        assert!(s.log_batch(&run, &marked(1, 0)).unwrap().duplicate, "{n}: an older batch is not stored either");
        assert_eq!(s.series(&run, "m", StepRange::ALL).unwrap().steps, [0, 1], "{n}");
        let other = Batch { mark: Some(("writer-2".into(), 1)), ..series("m", &[(2, 1.0)]) };
        assert!(!s.log_batch(&run, &other).unwrap().duplicate, "{n}: marks are per writer");
        assert_eq!(s.metric_summaries(&run).unwrap()[0].count, 3, "{n}");
    }
}

#[test]
fn a_binary_batch_is_stored_as_its_chunks_alike() {
    use trackbench_store::wire::{decode_binary, encode_binary};
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let (by_chunks, by_json) = (
            s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id,
            s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id,
        );
        let mut step = 0;
        for (seq, size) in [(1, 10_000), (2, 5_000), (3, 100), (4, 9_000)] {
            let mut batch = Batch { mark: Some(("sdk-1".into(), seq)), ..Batch::default() };
            for _ in 0..size {
                let v = if step % 11 == 0 { f64::NAN } else { (step as f64 * 0.01).exp() };
                batch.push_metric("loss", step, T0 + step, if step == 3 { f64::NEG_INFINITY } else { v });
                batch.push_metric("lr", step / 2, T0 + step, -0.0);
                step += 1;
            }
            batch.params = vec![("lr".into(), serde_json::json!(0.1))];
            batch.tags = vec![("".into(), "refused".into())];
            let wire = decode_binary(&encode_binary(&batch)).unwrap();
            let report = s.log_chunked_batch(&by_chunks, &wire).unwrap();
            assert_eq!((report.points, report.rejected.len()), (2 * size, 1), "{n}: the bad tag key refused");
            assert!(s.log_chunked_batch(&by_chunks, &wire).unwrap().duplicate, "{n}: a resent batch is stored once");
            s.log_batch(&by_json, &batch).unwrap();
        }
        for key in ["loss", "lr"] {
            let (x, y) =
                (s.series(&by_chunks, key, StepRange::ALL).unwrap(), s.series(&by_json, key, StepRange::ALL).unwrap());
            assert_eq!(x.len(), 24_100, "{n}");
            assert_eq!(bits(&x), bits(&y), "{n}: `{key}` reads back bit-exact");
            let mut down = |run: &str| {
                s.downsample(run, key, StepRange::ALL, 37)
                    .unwrap()
                    .iter()
                    .map(|b| (b.first_step, b.last_step, b.count, b.min, b.max, b.last.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(down(&by_chunks), down(&by_json), "{n}: `{key}` downsampled");
        }
        let sums = |run: &str| {
            s.metric_summaries(run)
                .unwrap()
                .iter()
                .map(|m| (m.count, m.nan_count, m.last.to_bits(), m.last_step, m.min, m.max, m.sum))
                .collect::<Vec<_>>()
        };
        assert_eq!(sums(&by_chunks), sums(&by_json), "{n}: summaries as the JSON path folds them");
        assert_eq!(s.params(&by_chunks).unwrap(), s.params(&by_json).unwrap(), "{n}");
        if let Some(db) = &b._db {
            // The first batch's chunks are in the table byte for byte.
            let mut c = Client::connect(&db.url, NoTls).unwrap();
            let sent = decode_binary(&encode_binary(&{
                let mut one = Batch::default();
                let mut step = 0i64;
                for _ in 0..10_000 {
                    let v = if step % 11 == 0 { f64::NAN } else { (step as f64 * 0.01).exp() };
                    one.push_metric("loss", step, T0 + step, if step == 3 { f64::NEG_INFINITY } else { v });
                    step += 1;
                }
                one
            }))
            .unwrap();
            let rows = c
                .query(
                    "SELECT c.data FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id JOIN runs r ON r.id = c.run_id \
                     WHERE r.uid = $1 AND k.name = 'loss' ORDER BY c.seq LIMIT 2",
                    &[&by_chunks],
                )
                .unwrap();
            let stored: Vec<Vec<u8>> = rows.iter().map(|r| r.get(0)).collect();
            let want: Vec<Vec<u8>> = sent.chunks[0][..2].iter().map(|c| c.data.clone()).collect();
            assert_eq!(stored, want, "{n}: full chunks stored as sent");
        }
    }
}

/// A bucket as compared: first and last step, count, min, max, bits of the last value.
type BucketRow = (i64, i64, u64, Option<f64>, Option<f64>, u64);
/// A bucket being filled: as [`BucketRow`], with the last value itself.
type Filling = (i64, i64, u64, Option<f64>, Option<f64>, f64);

/// Buckets of `rows` over `[lo, hi]` computed point by point: what downsampling must give.
fn brute_buckets(rows: &[(i64, f64)], lo: i64, hi: i64, buckets: usize) -> Vec<BucketRow> {
    let span = (hi - lo + 1) as i128;
    let mut out: Vec<Option<Filling>> = vec![None; buckets];
    for &(step, v) in rows.iter().filter(|(s, _)| *s >= lo && *s <= hi) {
        let i = ((step - lo) as i128 * buckets as i128 / span) as usize;
        let b = out[i].get_or_insert((step, step, 0, None, None, v));
        b.0 = b.0.min(step);
        if step >= b.1 {
            (b.1, b.5) = (step, v);
        }
        b.2 += 1;
        if !v.is_nan() {
            b.3 = Some(b.3.map_or(v, |m: f64| m.min(v)));
            b.4 = Some(b.4.map_or(v, |m: f64| m.max(v)));
        }
    }
    out.into_iter().flatten().map(|(a, z, n, mn, mx, last)| (a, z, n, mn, mx, last.to_bits())).collect()
}

#[test]
fn downsampling_keeps_every_extreme_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let run = s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        let mut rows: Vec<(i64, f64)> = (0..20_000).map(|i| (i, (i as f64 / 100.0).sin())).collect();
        rows[777].1 = f64::NAN;
        rows[12_345].1 = 1e9;
        rows[3].1 = -1e9;
        for part in rows.chunks(7_000) {
            s.log_batch(&run, &series("m", part)).unwrap();
        }
        let tail: Vec<(i64, f64)> = (20_000..20_005).map(|i| (i, 0.5)).collect();
        s.log_batch(&run, &series("m", &tail)).unwrap();
        rows.extend_from_slice(&tail);
        let got = |s: &mut Box<dyn Contract>, range: StepRange, k: usize| {
            s.downsample(&run, "m", range, k)
                .unwrap()
                .into_iter()
                .map(|x| (x.first_step, x.last_step, x.count, x.min, x.max, x.last.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(got(s, StepRange::ALL, 7), brute_buckets(&rows, 0, 20_004, 7), "{n}");
        let some = StepRange { min: Some(100), max: Some(9_000) };
        assert_eq!(got(s, some, 10), brute_buckets(&rows, 100, 9_000, 10), "{n}");
        assert_eq!(got(s, StepRange::ALL, 1)[0].2, 20_005, "{n}");
        assert!(s.downsample(&run, "never logged", StepRange::ALL, 5).unwrap().is_empty(), "{n}");
    }
}

#[test]
fn ab_comparisons_keep_their_arms_runs_and_verdict_alike() {
    for mut b in backends() {
        let n = b.name;
        let s = &mut b.store;
        let runs: Vec<String> = (0..3)
            .map(|i| {
                s.create_run(&NewRun { project: "p".into(), name: Some(format!("r{i}")), ..NewRun::default() })
                    .unwrap()
                    .id
            })
            .collect();
        let new = NewAb {
            project: "p".into(),
            name: "lr 0.01 vs 0.03".into(),
            metric: "val/acc".into(),
            direction: "maximize".into(),
            spec: serde_json::json!({"a": {"lr": "0.01"}, "b": {"lr": "0.03"}, "seeds": 2}),
        };
        assert!(s.create_ab(&NewAb { direction: "sideways".into(), ..new.clone() }).is_err(), "{n}");
        let id = s.create_ab(&new).unwrap();
        for (arm, run, seq) in [(Arm::B, &runs[1], 2), (Arm::A, &runs[2], 3), (Arm::A, &runs[0], 1)] {
            s.add_ab_run(&id, arm, run, seq).unwrap();
        }
        s.add_ab_run(&id, Arm::B, &runs[0], 9).unwrap(); // a second add keeps the first
        let ab = s.ab(&id).unwrap();
        assert_eq!(ab.status, RunStatus::Running, "{n}");
        let order: Vec<(Arm, &str)> = ab.runs.iter().map(|r| (r.arm, r.run_id.as_str())).collect();
        assert_eq!(order, [(Arm::A, runs[0].as_str()), (Arm::B, runs[1].as_str()), (Arm::A, runs[2].as_str())], "{n}");
        assert_eq!(ab.spec["seeds"], 2, "{n}");
        assert!(matches!(s.finish_ab(&id, RunStatus::Running, None, None), Err(StoreError::Invalid { .. })), "{n}");
        b.advance(5);
        let verdict = serde_json::json!({"verdict": "B is better", "welch": {"p_two_sided": 0.01}});
        b.store.finish_ab(&id, RunStatus::Finished, Some(&verdict), None).unwrap();
        let ab = b.store.ab(&id).unwrap();
        assert_eq!((ab.status, ab.result.as_ref(), ab.ended_ms), (RunStatus::Finished, Some(&verdict), Some(T0 + 5)));
        assert_eq!(b.store.resolve_ab(&id[..6]).unwrap(), id, "{n}");
        assert!(matches!(b.store.resolve_ab("zzzzzz"), Err(StoreError::AbNotFound(_))), "{n}");
        let other = b.store.create_ab(&NewAb { project: "q".into(), ..new.clone() }).unwrap();
        let all: Vec<String> = b.store.list_abs(None).unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(all.len(), 2, "{n}");
        assert!(all.contains(&other) && all.contains(&id), "{n}");
        assert_eq!(b.store.list_abs(Some("p")).unwrap().len(), 1, "{n}");
        assert!(b.store.list_abs(Some("nope")).unwrap().is_empty(), "{n}");
        assert!(matches!(b.store.ab("nope"), Err(StoreError::AbNotFound(_))), "{n}");
    }
}

#[test]
fn runs_resume_record_inputs_and_purge_alike() {
    for mut b in backends() {
        let n = b.name;
        let me = |pid: i64, ticks: i64| ProcessIdentity {
            host: "here".into(),
            pid,
            start_ticks: ticks,
            boot: "boot-1".into(),
        };
        b.procs.start(42, 7);
        let held = NewRun {
            project: "p".into(),
            host: Some("here".into()),
            pid: Some(42),
            proc_start: Some(7),
            proc_boot: Some("boot-1".into()),
            ..NewRun::default()
        };
        let run = b.store.create_run(&held).unwrap().id;
        b.store.finish_run_at(&run, RunStatus::Finished, None, Some(T0 + 1)).unwrap();
        // Its holder still runs: resuming keeps it (a launched run's child attaching).
        b.advance(10);
        b.store.resume_run_as(&run, Some(&me(99, 1))).unwrap();
        let r = b.store.run(&run).unwrap();
        assert_eq!((r.status, r.ended_ms, r.heartbeat_ms, r.pid), (RunStatus::Running, None, T0 + 10, Some(42)), "{n}");
        // Its holder is gone: the resuming process holds it now, and is probed.
        b.procs.kill(42);
        b.procs.start(99, 1);
        b.store.resume_run_as(&run, Some(&me(99, 1))).unwrap();
        assert_eq!((b.store.run(&run).unwrap().status, b.store.run(&run).unwrap().pid), (RunStatus::Running, Some(99)));
        b.procs.kill(99);
        assert_eq!(b.store.run(&run).unwrap().status, RunStatus::Crashed, "{n}");
        // Resumed by no process: judged by its heartbeat only (no longer probed).
        b.store.resume_run_as(&run, None).unwrap();
        assert_eq!(b.store.run(&run).unwrap().status, RunStatus::Running, "{n}");

        let inputs = |d: &[&str]| -> Vec<(String, serde_json::Value)> {
            d.iter().map(|d| (d.to_string(), serde_json::json!({"digest": d, "name": format!("set {d}")}))).collect()
        };
        b.store.add_run_inputs(&run, &inputs(&["d2", "d1"])).unwrap();
        b.store.add_run_inputs(&run, &inputs(&["d1", "d3"])).unwrap();
        assert!(b.store.add_run_inputs(&run, &inputs(&[""])).is_err(), "{n}");
        let got: Vec<String> =
            b.store.run_inputs(&run).unwrap().iter().map(|v| v["digest"].as_str().unwrap().to_string()).collect();
        assert_eq!(got, ["d2", "d1", "d3"], "{n}: first recorded first, none twice");

        b.store.log_batch(&run, &series("m", &[(0, 1.0)])).unwrap();
        b.store.purge_run(&run).unwrap();
        assert!(matches!(b.store.run(&run), Err(StoreError::RunNotFound(_))), "{n}");
        assert!(matches!(b.store.log_batch(&run, &series("m", &[(1, 1.0)])), Err(StoreError::RunNotFound(_))), "{n}");
        assert_eq!(b.store.project("p").unwrap().runs, 0, "{n}");
    }
}

/// Five runs in `proj` and one in `other`, for the query language (the store's filter tests,
/// here so that they run on every backend):
/// name  lr(json)   opt      acc(last,min..)  loss      tags
/// a     0.01       "adam"   0.9 (0.5..0.9)   [1, 0.2]  team=x
/// b     "0.01"     "sgd"    0.7              [2, 0.5]  team=y
/// c     0.1        "adam"   0.95             [NaN]     -
/// d     1          "Adam"   -                -         team=x
/// e     -          -        0.3              [0.1]     (finished)
fn query_fixture(b: &mut Backend) {
    type Row<'a> = (&'a str, Option<serde_json::Value>, Option<&'a str>, &'a [f64], &'a [f64], Option<&'a str>);
    let rows: [Row; 5] = [
        ("a", Some(serde_json::json!(0.01)), Some("adam"), &[0.5, 0.9], &[1.0, 0.2], Some("x")),
        ("b", Some(serde_json::json!("0.01")), Some("sgd"), &[0.7], &[2.0, 0.5], Some("y")),
        ("c", Some(serde_json::json!(0.1)), Some("adam"), &[0.95], &[f64::NAN], None),
        ("d", Some(serde_json::json!(1)), Some("Adam"), &[], &[], Some("x")),
        ("e", None, None, &[0.3], &[0.1], None),
    ];
    for (i, (name, lr, opt, acc, loss, team)) in rows.into_iter().enumerate() {
        b.advance(1000);
        let new = NewRun { project: "proj".into(), name: Some(name.into()), ..NewRun::default() };
        let id = b.store.create_run(&new).unwrap().id;
        let mut batch = Batch::default();
        if let Some(lr) = lr {
            batch.params.push(("lr".into(), lr));
        }
        if let Some(opt) = opt {
            batch.params.push(("opt".into(), serde_json::json!(opt)));
        }
        for (s, v) in acc.iter().enumerate() {
            batch.push_metric("acc", s as i64, T0 + i as i64, *v);
        }
        for (s, v) in loss.iter().enumerate() {
            batch.push_metric("train.loss", s as i64, T0, *v);
        }
        if let Some(team) = team {
            batch.tags.push(("team".into(), team.into()));
        }
        b.store.log_batch(&id, &batch).unwrap();
        if name == "e" {
            b.store.finish_run_at(&id, RunStatus::Finished, None, None).unwrap();
        }
    }
    let other = b.store.create_run(&NewRun { project: "other".into(), name: Some("z".into()), ..NewRun::default() });
    let params = Batch { params: vec![("lr".into(), serde_json::json!(0.01))], ..Batch::default() };
    b.store.log_batch(&other.unwrap().id, &params).unwrap();
}

fn names(b: &Backend, filter: &str, order: Option<&str>) -> Vec<String> {
    let q = RunQuery {
        project: Some("proj".into()),
        filter: Some(filter.into()),
        order_by: order.map(str::to_string),
        ..RunQuery::default()
    };
    let runs = b.store.list_runs(&q).unwrap_or_else(|e| panic!("{}: {filter}: {e}", b.name));
    let mut n: Vec<String> = runs.into_iter().map(|r| r.name).collect();
    if order.is_none() {
        n.sort();
    }
    n
}

#[test]
fn the_query_language_selects_orders_and_pages_alike() {
    for mut b in backends() {
        query_fixture(&mut b);
        let n = b.name;
        let check = |filter: &str, expect: &[&str]| assert_eq!(names(&b, filter, None), expect, "{n}: {filter}");
        check("", &["a", "b", "c", "d", "e"]);
        check("metrics.acc > 0.8", &["a", "c"]);
        check("metrics.acc >= 0.7 and params.opt = 'adam'", &["a", "c"]);
        check("params.lr = 0.01", &["a", "b"]);
        check("params.lr = '0.01'", &["a", "b"]);
        check("params.lr < 0.5", &["a", "b", "c"]);
        check("params.lr > 0.05 or tags.team = 'y'", &["b", "c", "d"]);
        check("not params.lr = 0.01", &["c", "d", "e"]);
        check("params.opt LIKE 'a%'", &["a", "c"]);
        check("params.opt ILIKE 'a%'", &["a", "c", "d"]);
        check("params.opt NOT LIKE 'a%'", &["b", "d"]);
        check("params.opt LIKE 'a\\%'", &[]);
        check("params.opt IN ('sgd', 'Adam')", &["b", "d"]);
        check("params.opt NOT IN ('sgd', 'Adam')", &["a", "c"]);
        check("params.lr IS NULL", &["e"]);
        check("metrics.acc IS NOT NULL and tags.team IS NULL", &["c", "e"]);
        check("min(metrics.acc) < 0.6", &["a", "e"]);
        check("max(metrics.acc) >= 0.9", &["a", "c"]);
        check("count(metrics.acc) = 2", &["a"]);
        check("mean(metrics.acc) = 0.7", &["a", "b"]);
        check("metrics.train.loss < 0.3", &["a", "e"]);
        check("metrics.`train.loss` < 0.3", &["a", "e"]);
        check("metrics.train.loss > -1e9", &["a", "b", "e"]); // NaN last never matches
        check("attributes.status = 'finished'", &["e"]);
        check("attributes.status = 'RUNNING'", &["a", "b", "c", "d"]);
        check("attributes.run_name IN ('a', 'b') and (metrics.acc > 0.8 or params.opt = 'sgd')", &["a", "b"]);
        check("attributes.run_name LIKE '_'", &["a", "b", "c", "d", "e"]);
        check("tags.team != 'x'", &["b"]);
        check("attributes.end_time IS NOT NULL", &["e"]);
        check("attributes.duration >= 0", &["a", "b", "c", "d", "e"]);
        check("metrics.nosuch > 0", &[]);
        check("params.opt = 'x'' OR 1=1 --'", &[]);
        check("tags.`team') OR 1=1 --` = 'x'", &[]);
        let order = |o: &str| names(&b, "", Some(o));
        assert_eq!(order("metrics.acc desc"), ["c", "a", "b", "e", "d"], "{n}: runs lacking the metric last");
        assert_eq!(order("metrics.acc"), ["e", "b", "a", "c", "d"], "{n}");
        assert_eq!(order("min(metrics.acc) asc"), ["e", "a", "b", "c", "d"], "{n}");
        assert_eq!(order("params.lr desc, attributes.run_name asc"), ["d", "c", "a", "b", "e"], "{n}");
        assert_eq!(order("params.opt, attributes.run_name"), ["d", "a", "c", "b", "e"], "{n}");
        assert_eq!(order("attributes.created"), ["a", "b", "c", "d", "e"], "{n}");
        let q = RunQuery { limit: Some(2), offset: 1, project: Some("proj".into()), ..RunQuery::default() };
        let page: Vec<String> = b.store.list_runs(&q).unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(page, ["d", "c"], "{n}: newest first");
        assert_eq!(b.store.list_runs(&RunQuery::default()).unwrap().len(), 6, "{n}: nothing was harmed");
        let counts: Vec<(String, i64)> =
            b.store.list_projects(false).unwrap().into_iter().map(|p| (p.name, p.runs)).collect();
        assert_eq!(counts, [("other".to_string(), 1), ("proj".to_string(), 5)], "{n}");
        for (f, needle) in [
            ("metrics.acc >", "position"),
            ("attributes.start_time > 'yesterday'", "compared with a number"),
            ("metrics.acc = 'high'", "compared with a number"),
            ("attributes.status = 'sleeping'", "unknown status"),
            ("metrics.acc LIKE 'x'", "not metrics"),
        ] {
            let q = RunQuery { filter: Some(f.into()), ..RunQuery::default() };
            let err = b.store.list_runs(&q).expect_err(f).to_string();
            assert!(err.contains(needle), "{n}: {f}: {err}");
        }
    }
}

/// Listings ordered first by a metric, at every limit and offset, alike. (PostgreSQL lists them
/// in two parts, `filter::ListPart`: the runs with a value, by walking the metric's index, then
/// the runs without one. Here the cut comes at every place in a page, with ties, NaN and
/// infinite last values, missing metrics, deleted runs and a filter.)
#[test]
fn listings_ordered_by_a_metric_page_alike() {
    // name, `score` points (the last is what orders), `lr`.
    type Row<'a> = (&'a str, &'a [f64], Option<f64>);
    let rows: [Row; 9] = [
        ("a", &[0.5], Some(0.5)),
        ("b", &[f64::NAN], Some(2.0)),
        ("c", &[0.2, 0.5], Some(1.0)),
        ("d", &[], Some(3.0)),
        ("e", &[0.9], None),
        ("f", &[1.0, f64::NAN], Some(2.0)),
        ("g", &[f64::INFINITY], Some(1.0)),
        ("h", &[-0.1], Some(2.0)),
        ("i", &[0.5], Some(3.0)), // deleted
    ];
    let mut seen: Vec<(&str, Vec<Vec<String>>)> = Vec::new();
    for mut b in backends() {
        for (name, score, lr) in rows {
            b.advance(1000);
            let id =
                b.store.create_run(&NewRun { project: "proj".into(), name: Some(name.into()), ..NewRun::default() });
            let id = id.unwrap().id;
            let mut batch = Batch::default();
            for (s, v) in score.iter().enumerate() {
                batch.push_metric("score", s as i64, T0, *v);
            }
            if let Some(lr) = lr {
                batch.params.push(("lr".into(), serde_json::json!(lr)));
            }
            b.store.log_batch(&id, &batch).unwrap();
            if name == "i" {
                b.store.delete_run(&id).unwrap();
            }
        }
        let other = b.store.create_run(&NewRun { project: "other".into(), ..NewRun::default() }).unwrap().id;
        b.store.log_batch(&other, &series("score", &[(0, 0.7)])).unwrap();
        let n = b.name;
        let list = |order: &str, filter: Option<&str>, deleted: bool, limit: Option<usize>, offset: usize| {
            let q = RunQuery {
                project: Some("proj".into()),
                filter: filter.map(str::to_string),
                order_by: Some(order.into()),
                limit,
                offset,
                include_deleted: deleted,
            };
            let runs = b.store.list_runs(&q).unwrap_or_else(|e| panic!("{n}: {order}: {e}"));
            runs.into_iter().map(|r| r.name).collect::<Vec<String>>()
        };
        let expect = [
            ("metrics.score desc", None, false, &["g", "e", "c", "a", "h", "f", "d", "b"][..]),
            ("metrics.score", None, false, &["h", "c", "a", "e", "g", "f", "d", "b"]),
            ("metrics.score desc", None, true, &["g", "e", "i", "c", "a", "h", "f", "d", "b"]),
            ("metrics.score desc, params.lr asc", None, false, &["g", "e", "a", "c", "h", "f", "b", "d"]),
            ("metrics.score desc, params.lr asc", None, true, &["g", "e", "a", "c", "i", "h", "f", "b", "d"]),
            ("metrics.score asc, params.lr desc", Some("params.lr >= 1"), false, &["h", "c", "g", "d", "f", "b"]),
            ("metrics.score desc", Some("metrics.score > 0.6"), false, &["g", "e"]),
            ("metrics.score desc", Some("metrics.score IS NULL"), false, &["d"]),
            ("metrics.nosuch desc", None, false, &["h", "g", "f", "e", "d", "c", "b", "a"]),
        ];
        let mut all = Vec::new();
        for (order, filter, deleted, want) in expect {
            let full = list(order, filter, deleted, None, 0);
            assert_eq!(full, want, "{n}: {order} / {filter:?} / deleted {deleted}");
            for limit in [Some(0), Some(1), Some(2), Some(3), Some(5), Some(20), None] {
                for offset in 0..=full.len() + 1 {
                    let page = list(order, filter, deleted, limit, offset);
                    let from = offset.min(full.len());
                    let to = limit.map_or(full.len(), |l| (from + l).min(full.len()));
                    assert_eq!(page, full[from..to], "{n}: {order} / {filter:?} / limit {limit:?} offset {offset}");
                }
            }
            all.push(full);
        }
        seen.push((n, all));
    }
    for w in seen.windows(2) {
        assert_eq!(w[0].1, w[1].1, "{} and {} list alike", w[0].0, w[1].0);
    }
}

/// blake3 of every shipped PostgreSQL migration. Append a line for a new one; never edit one.
const SHIPPED: &[&str] = &[
    "c102eebfd2f74aebd1714464a2870256861f23b2d59f37416fd97cb3452b7436",
    "50eb4cc096d322c4a36788c6e92f4bb0e0bb23e99bd052e998f184883b3b83b8",
    "b28416c81b8a61c7f3ae1f9bcaaf029a76d242eb21303d227376782f9211bdd2",
    "e5ab2d77eba7eca55182f3e3ab4f4319d7c446e6c175e54871ee667c036f989a",
];

#[test]
fn postgres_migrations_are_append_only() {
    let hashes: Vec<String> =
        migrate::MIGRATIONS.iter().map(|m| blake3::hash(m.as_bytes()).to_hex().to_string()).collect();
    assert!(hashes.len() >= SHIPPED.len(), "a shipped migration was removed");
    for (i, (got, pinned)) in hashes.iter().zip(SHIPPED).enumerate() {
        assert_eq!(got, pinned, "migration {} changed after shipping; add a new one instead", i + 1);
    }
    assert_eq!(hashes.len(), SHIPPED.len(), "new migration: pin its hash in SHIPPED: {:?}", &hashes[SHIPPED.len()..]);
}

#[test]
fn replicas_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let Some(admin) = test_server() else { return };
    let db = Database::create(&admin);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || PgStore::connect(&url, options().0).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), migrate::LATEST);
    }
    let mut c = Client::connect(&db.url, NoTls).unwrap();
    c.execute("UPDATE trackbench_schema SET version = $1", &[&(migrate::LATEST + 1)]).unwrap();
    match PgStore::connect(&db.url, options().0) {
        Err(StoreError::SchemaTooNew { found, known, .. }) => {
            assert_eq!((found, known), (migrate::LATEST + 1, migrate::LATEST))
        }
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // The refusal changed nothing.
    let v: i64 = c.query_one("SELECT version FROM trackbench_schema", &[]).unwrap().get(0);
    assert_eq!(v, migrate::LATEST + 1);
}

#[test]
fn an_unreachable_database_is_a_clear_error_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let err = PgStore::connect("postgres://ana:s3cret@127.0.0.1:1/tb?connect_timeout=5", options().0)
        .err()
        .expect("no server there");
    match err {
        StoreError::Database { message, unavailable } => {
            assert!(unavailable, "{message}");
            assert!(message.contains("127.0.0.1:1") && !message.contains("s3cret"), "{message}");
        }
        other => panic!("expected a Database error, got {other}"),
    }
}

#[test]
fn live_views_see_the_same_changes_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        let old = s.create_run(&NewRun { project: "p".into(), name: Some("old".into()), ..NewRun::default() }).unwrap();
        s.log_batch(&old.id, &series("loss", &[(0, 1.0)])).unwrap();
        let mut cursor = s.change_cursor().unwrap();
        assert_eq!(s.poll_changes(&mut cursor).unwrap(), [], "{}: a fresh cursor sees nothing", b.name);

        let new = s.create_run(&NewRun { project: "p".into(), name: Some("new".into()), ..NewRun::default() }).unwrap();
        s.log_batch(&old.id, &series("loss", &[(1, 0.5), (2, 0.25)])).unwrap();
        s.finish_run(&old.id, RunStatus::Finished, None).unwrap();
        let mut got = s.poll_changes(&mut cursor).unwrap();
        got.sort_by_key(|c| format!("{c:?}"));
        let mut want = vec![
            Change::RunCreated {
                run: new.id.clone(),
                project: "p".into(),
                name: "new".into(),
                status: RunStatus::Running,
            },
            Change::Points { run: old.id.clone(), project: "p".into(), key: "loss".into(), count: 3, last_step: 2 },
            Change::RunStatus { run: old.id.clone(), project: "p".into(), status: RunStatus::Finished },
        ];
        want.sort_by_key(|c| format!("{c:?}"));
        assert_eq!(got, want, "{}", b.name);

        // Points of a running run, then its silence past the timeout reads crashed.
        s.log_batch(&new.id, &series("acc", &[(0, 0.1), (1, 0.2)])).unwrap();
        let got = s.poll_changes(&mut cursor).unwrap();
        let want =
            [Change::Points { run: new.id.clone(), project: "p".into(), key: "acc".into(), count: 2, last_step: 1 }];
        assert_eq!(got, want, "{}", b.name);
        b.advance(TIMEOUT + 1);
        let s = &mut b.store;
        let got = s.poll_changes(&mut cursor).unwrap();
        assert_eq!(
            got,
            [Change::RunStatus { run: new.id.clone(), project: "p".into(), status: RunStatus::Crashed }],
            "{}",
            b.name
        );
        // A resumed run is seen again.
        s.resume_run(&old.id).unwrap();
        let got = s.poll_changes(&mut cursor).unwrap();
        // (with its series, which the cursor stopped following when it ended)
        let want = [
            Change::RunStatus { run: old.id.clone(), project: "p".into(), status: RunStatus::Running },
            Change::Points { run: old.id.clone(), project: "p".into(), key: "loss".into(), count: 3, last_step: 2 },
        ];
        assert_eq!(got, want, "{}", b.name);
        assert_eq!(s.poll_changes(&mut cursor).unwrap(), [], "{}: nothing twice", b.name);
    }
}

#[test]
fn a_listener_hears_writes_from_other_connections_on_commit_only() {
    let Some(admin) = test_server() else { return };
    let db = Database::create(&admin);
    let mut listener = ChangeListener::connect(&db.url).unwrap();
    let mut store = PgStore::connect(&db.url, StoreOptions::default()).unwrap();
    assert!(!listener.wait(std::time::Duration::from_millis(50)).unwrap(), "nothing written yet");
    let run = store.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
    assert!(listener.wait(std::time::Duration::from_secs(5)).unwrap(), "a new run is announced");
    // A batch without points (a tag) is not a change a live view shows; points are.
    store.set_tag(&run.id, "k", "v").unwrap();
    assert!(!listener.wait(std::time::Duration::from_millis(100)).unwrap(), "a tag is not announced");
    // Announced on commit: a rolled back write announces nothing.
    let mut other = Client::connect(&db.url, NoTls).unwrap();
    let mut tx = other.transaction().unwrap();
    tx.batch_execute("NOTIFY trackbench_changes").unwrap();
    tx.rollback().unwrap();
    assert!(!listener.wait(std::time::Duration::from_millis(100)).unwrap(), "a rolled back notice is not heard");
    store.log_batch(&run.id, &series("loss", &[(0, 1.0)])).unwrap();
    store.log_batch(&run.id, &series("loss", &[(1, 1.0)])).unwrap();
    assert!(listener.wait(std::time::Duration::from_secs(5)).unwrap(), "points are announced");
    while listener.wait(std::time::Duration::from_millis(50)).unwrap() {}
    store.finish_run(&run.id, RunStatus::Finished, None).unwrap();
    assert!(listener.wait(std::time::Duration::from_secs(5)).unwrap(), "an ended run is announced");
}

#[test]
fn a_database_at_an_older_schema_is_migrated_with_its_data() {
    let Some(admin) = test_server() else { return };
    let db = Database::create(&admin);
    let mut c = Client::connect(&db.url, NoTls).unwrap();
    assert_eq!(migrate::migrate_to(&mut c, "the test database", 1).unwrap(), 1);
    // What a build that knew schema 1 only wrote.
    c.batch_execute(
        "INSERT INTO projects(name, created_ms) VALUES ('old', 1);
         INSERT INTO runs(uid, project_id, name, status, created_ms, started_ms, heartbeat_ms)
           VALUES ('oldrun000001', (SELECT id FROM projects), 'kept', 'finished', 1, 1, 1);
         INSERT INTO params(run_id, key, value_json, value_text, value_num)
           VALUES ((SELECT id FROM runs), 'lr', '0.1', '0.1', 0.1);
         INSERT INTO run_tags(run_id, key, value) VALUES ((SELECT id FROM runs), 'team', 'cv');",
    )
    .unwrap();
    let s = PgStore::connect(&db.url, options().0).unwrap();
    assert_eq!(s.schema_version().unwrap(), migrate::LATEST, "opening it brought it up to date");
    for filter in ["params.lr = 0.1", "params.lr > 0.05", "tags.team = 'cv'"] {
        let q = RunQuery { filter: Some(filter.into()), ..RunQuery::default() };
        let names: Vec<String> = s.list_runs(&q).unwrap().into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["kept"], "{filter}");
    }
    let indexes: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('params_key_text', 'params_key_num', 'run_tags_key_value')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(indexes, 3, "migration 2's indexes");
    let index: Option<String> = c
        .query_one("SELECT indexdef FROM pg_indexes WHERE indexname = 'metric_summaries_key_last'", &[])
        .unwrap()
        .get(0);
    assert!(index.is_some_and(|d| d.contains("(key_id, last)")), "migration 3's index");
}
