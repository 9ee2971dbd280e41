//! `trackbench_store::copy`: a whole store from SQLite to PostgreSQL (blobs on S3 when
//! `TRACKBENCH_TEST_S3` names a bucket, else in a folder) and on to a new SQLite folder, with
//! everything compared (points bit for bit, artifacts byte for byte); a second copy is a
//! no-op; a copy stopped at any write and run again completes with nothing doubled. SQLite to
//! SQLite always runs; PostgreSQL needs `TRACKBENCH_TEST_POSTGRES` (skipped, and said so,
//! without it).

#[allow(dead_code)]
mod common;

use std::io::Read;
use std::sync::Arc;

use serde_json::json;
use trackbench_store::copy::{copy_store, counts};
use trackbench_store::prelude::*;
use trackbench_store::{
    Arm, Batch, BlobStore, DirBlobs, LogLine, ModelStatus, NewAb, NewLoggedModel, NewModelVersion, NewRun, RunQuery,
    RunStatus, StepRange, Store, StoreError, Stream,
};
use trackbench_store_pg::PgStore;

use common::{Database, manual_clock, skipped, test_server};

fn sqlite(dir: &std::path::Path) -> Store {
    Store::open(dir, manual_clock().0).unwrap()
}

fn blobs_for_test(dir: &std::path::Path) -> Arc<dyn BlobStore> {
    match std::env::var("TRACKBENCH_TEST_S3").ok().filter(|u| !u.is_empty()) {
        Some(url) => s3_blobs(&url),
        None => {
            skipped("copy to PostgreSQL with blobs on S3: TRACKBENCH_TEST_S3 is not set (blobs in a folder instead)");
            Arc::new(DirBlobs::new(dir.join("pg-blobs")))
        }
    }
}

fn s3_blobs(url: &str) -> Arc<dyn BlobStore> {
    let (scheme, rest) = url.split_once("://").expect("TRACKBENCH_TEST_S3 is a URL");
    let (auth, rest) = rest.rsplit_once('@').expect("TRACKBENCH_TEST_S3 carries KEY:SECRET@");
    let (key, secret) = auth.split_once(':').expect("KEY:SECRET");
    let (host, bucket) = rest.split_once('/').expect("TRACKBENCH_TEST_S3 ends in /BUCKET");
    let decode = |s: &str| s.replace("%2F", "/").replace("%2B", "+").replace("%3D", "=");
    let vars: Vec<(String, String)> = vec![
        ("AWS_ENDPOINT_URL".into(), format!("{scheme}://{host}")),
        ("AWS_ALLOW_HTTP".into(), "true".into()),
        ("AWS_ACCESS_KEY_ID".into(), decode(key)),
        ("AWS_SECRET_ACCESS_KEY".into(), decode(secret)),
        ("AWS_REGION".into(), "us-east-1".into()),
    ];
    let url = format!("s3://{}/copy{}", bucket.trim_matches('/'), std::process::id());
    let opts = trackbench_objstore::ObjectOptions { part_size: 5 << 20, ..Default::default() };
    trackbench_objstore::open_blobs_with(&url, &vars, &opts).unwrap()
}

/// A store with one of everything (and the awkward cases: NaN, ±inf, -0.0, a step logged
/// twice, log lines over several pages, a deleted run, a deleted project, a version number
/// left by a deleted version).
fn fill(s: &mut dyn Backend, big: usize) {
    let alpha = s.ensure_project("alpha").unwrap();
    s.set_project_tag(alpha, "team", "vision").unwrap();
    s.ensure_project("beta").unwrap();

    let new = NewRun {
        project: "alpha".into(),
        name: Some("first".into()),
        group: Some("g1".into()),
        notes: Some("notes\nwith lines".into()),
        tags: vec![("k".into(), "v".into()), ("mlflow.user".into(), "ann".into())],
        host: Some("box".into()),
        pid: Some(4242),
        command: Some("python train.py".into()),
        git_commit: Some("abc123".into()),
        git_dirty: Some(true),
        env: Some(json!({"python": "3.12", "gpus": [0, 1]})),
        created_ms: Some(1_700_000_000_000),
        ..NewRun::default()
    };
    s.create_run_with_id("r1", &new).unwrap();
    let mut b = Batch {
        params: vec![
            ("lr".into(), json!(0.001)),
            ("layers".into(), json!(4)),
            ("opt".into(), json!("adam")),
            ("nested".into(), json!({"a": [1, 2]})),
        ],
        summary: vec![("best".into(), json!(0.93))],
        ..Batch::default()
    };
    for (i, v) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e-300, 0.5].iter().enumerate() {
        b.push_metric("odd", i as i64, 1_700_000_000_000 + i as i64, *v);
    }
    b.push_metric("odd", 3, 1_700_000_000_100, 7.0); // step 3 twice: both kept
    for i in 0..big {
        b.push_metric("loss", i as i64 * 2, 1_700_000_000_000 + i as i64 * 13, (i as f64).sin() / (1.0 + i as f64));
    }
    s.log_batch("r1", &b).unwrap();
    let lines: Vec<LogLine> = (0..25_000)
        .map(|i| LogLine {
            stream: if i % 3 == 0 { Stream::Stderr } else { Stream::Stdout },
            ts_ms: 1_700_000_000_000 + i,
            line: format!("line {i} ✓"),
        })
        .collect();
    s.log_batch("r1", &Batch { log_lines: lines, ..Batch::default() }).unwrap();
    s.add_run_inputs(
        "r1",
        &[
            ("d1".into(), json!({"dataset": {"name": "mnist", "digest": "abc"}})),
            ("d2".into(), json!({"dataset": {"name": "val", "digest": "def"}, "tags": []})),
        ],
    )
    .unwrap();
    s.put_artifact_from("r1", "notes.txt", &mut &b"hello"[..], "test").unwrap();
    let blob: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    s.put_artifact_from("r1", "ckpt/model.bin", &mut &blob[..], "test").unwrap();
    s.finish_run_at("r1", RunStatus::Failed, Some("OOM"), Some(1_700_000_900_000)).unwrap();

    s.create_run_with_id("r2", &NewRun { project: "alpha".into(), ..NewRun::default() }).unwrap();
    let mut b = Batch::default();
    b.push_metric("loss", 0, 1, 1.0);
    s.log_batch("r2", &b).unwrap();

    s.create_run_with_id("r3", &NewRun { project: "alpha".into(), name: Some("gone".into()), ..NewRun::default() })
        .unwrap();
    s.finish_run_at("r3", RunStatus::Killed, None, None).unwrap();
    s.delete_run("r3").unwrap();

    s.create_run_with_id("r4", &NewRun { project: "beta".into(), ..NewRun::default() }).unwrap();
    s.finish_run("r4", RunStatus::Finished, None).unwrap();
    let beta = s.project("beta").unwrap().id;
    s.delete_project(beta).unwrap();

    let ab = s
        .create_ab(&NewAb {
            project: "alpha".into(),
            name: "lr test".into(),
            metric: "loss".into(),
            direction: "minimize".into(),
            spec: json!({"seeds": 1}),
        })
        .unwrap();
    s.add_ab_run(&ab, Arm::A, "r1", 1).unwrap();
    s.add_ab_run(&ab, Arm::B, "r2", 2).unwrap();
    s.finish_ab(&ab, RunStatus::Finished, Some(&json!({"winner": "b", "p": 0.01})), None).unwrap();

    let m1 = s
        .create_logged_model(&NewLoggedModel {
            project: "alpha".into(),
            name: "clf".into(),
            source_run: Some("r1".into()),
            model_type: Some("mlp".into()),
            tags: vec![("t".into(), "1".into())],
            params: vec![("width".into(), "128".into())],
        })
        .unwrap()
        .id;
    s.log_model_metrics(&m1, Some("r1"), &[("acc".into(), 0.9, 1, 5), ("acc".into(), 0.91, 1, 6)]).unwrap();
    s.log_model_metrics(&m1, None, &[("f1".into(), f64::NAN, 2, 7)]).unwrap();
    s.put_model_artifact_from(&m1, "MLmodel", &mut &b"flavors: {}"[..], "test").unwrap();
    s.finalize_logged_model(&m1, ModelStatus::Ready, Some("ok")).unwrap();
    s.log_model_outputs("r1", &[(m1.clone(), 3)]).unwrap();
    let m2 = s
        .create_logged_model(&NewLoggedModel { project: "alpha".into(), name: "draft".into(), ..Default::default() })
        .unwrap()
        .id;

    s.create_registered_model("clf", Some("classifier"), &[("owner".into(), "ann".into())]).unwrap();
    let v = |m: &str| NewModelVersion {
        name: "clf".into(),
        source: format!("models:/{m}"),
        logged_model: Some(m.to_string()),
        run: Some("r1".into()),
        ..Default::default()
    };
    s.create_model_version(&v(&m1)).unwrap();
    s.create_model_version(&v(&m2)).unwrap();
    s.delete_model_version("clf", 2).unwrap();
    let mut v3 = v(&m1);
    v3.description = Some("third".into());
    v3.tags = vec![("approved".into(), "yes".into())];
    s.create_model_version(&v3).unwrap();
    s.transition_model_version_stage("clf", 3, "Production", false).unwrap();
    s.set_model_alias("clf", "champion", 3).unwrap();
}

fn read_all(mut r: Box<dyn Read + Send>) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

/// Everything in `a` is in `b`, the same (times a write records as "now" aside).
fn assert_same(a: &mut dyn Backend, b: &mut dyn Backend) {
    assert_eq!(counts(a).unwrap(), counts(b).unwrap());
    let pa = a.list_projects(true).unwrap();
    let pb = b.list_projects(true).unwrap();
    assert_eq!(pa.len(), pb.len());
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!((&x.name, x.deleted, x.runs), (&y.name, y.deleted, y.runs));
        assert_eq!(a.project_tags(x.id).unwrap(), b.project_tags(y.id).unwrap());
        let q = RunQuery { project: Some(x.name.clone()), include_deleted: true, ..RunQuery::default() };
        let (ra, rb) = (a.list_runs(&q).unwrap(), b.list_runs(&q).unwrap());
        assert_eq!(ra.len(), rb.len());
        for r in &ra {
            let mut s = b.run(&r.id).unwrap();
            s.heartbeat_ms = r.heartbeat_ms;
            s.started_ms = r.started_ms;
            s.status = r.status;
            assert_eq!(r, &s);
            let id = r.id.as_str();
            assert_eq!(a.tags(id).unwrap(), b.tags(id).unwrap());
            assert_eq!(a.params(id).unwrap(), b.params(id).unwrap());
            assert_eq!(a.summary_values(id).unwrap(), b.summary_values(id).unwrap());
            assert_eq!(a.run_inputs(id).unwrap(), b.run_inputs(id).unwrap());
            assert_eq!(a.log_lines(id, 0, 1 << 20).unwrap(), b.log_lines(id, 0, 1 << 20).unwrap());
            let sa = a.metric_summaries(id).unwrap();
            assert_eq!(sa.len(), b.metric_summaries(id).unwrap().len());
            for m in sa {
                let (x, y) =
                    (a.series(id, &m.key, StepRange::ALL).unwrap(), b.series(id, &m.key, StepRange::ALL).unwrap());
                assert!(x.bit_eq(&y), "series {} of {id} differs", m.key);
            }
            let (fa, fb) = (a.artifacts(id).unwrap(), b.artifacts(id).unwrap());
            assert_eq!(fa.len(), fb.len());
            for (x, y) in fa.iter().zip(&fb) {
                assert_eq!((&x.path, x.size, &x.hash, &x.media_type), (&y.path, y.size, &y.hash, &y.media_type));
                let bytes = read_all(a.open_artifact(id, &x.path, None).unwrap().1);
                assert_eq!(bytes, read_all(b.open_artifact(id, &y.path, None).unwrap().1), "{}", x.path);
            }
            assert_eq!(a.model_outputs(id).unwrap(), b.model_outputs(id).unwrap());
        }
    }
    assert_eq!(a.list_abs(None).unwrap(), b.list_abs(None).unwrap());
    let (ma, mb) = (a.logged_models(&[]).unwrap(), b.logged_models(&[]).unwrap());
    assert_eq!(ma.len(), mb.len());
    for x in &ma {
        let mut y = b.logged_model(&x.id).unwrap();
        y.updated_ms = x.updated_ms;
        assert_eq!(format!("{x:?}"), format!("{y:?}")); // NaN metrics compare as text
        for f in a.model_artifacts(&x.id).unwrap() {
            let bytes = read_all(a.open_model_artifact(&x.id, &f.path, None).unwrap().1);
            assert_eq!(bytes, read_all(b.open_model_artifact(&x.id, &f.path, None).unwrap().1));
        }
    }
    let strip = |mut v: trackbench_store::ModelVersion| {
        (v.created_ms, v.updated_ms) = (0, 0);
        v
    };
    let (va, vb) = (a.model_versions(None).unwrap(), b.model_versions(None).unwrap());
    assert_eq!(va.into_iter().map(strip).collect::<Vec<_>>(), vb.into_iter().map(strip).collect::<Vec<_>>());
    for (x, y) in a.registered_models().unwrap().iter().zip(&b.registered_models().unwrap()) {
        assert_eq!((&x.name, &x.description, &x.tags, &x.aliases), (&y.name, &y.description, &y.tags, &y.aliases));
    }
}

fn copy_all(src: &mut dyn Backend, dst: &mut dyn Backend) -> trackbench_store::copy::CopyReport {
    copy_store(src, dst, &mut |_| Ok(())).unwrap()
}

#[test]
fn sqlite_to_sqlite_copies_everything_and_again_nothing() {
    let t = tempfile::tempdir().unwrap();
    let mut src = sqlite(&t.path().join("src"));
    fill(&mut src, 5_000);
    let mut dst = sqlite(&t.path().join("dst"));
    let r = copy_all(&mut src, &mut dst);
    assert_eq!(r.runs_copied, 4);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_same(&mut src, &mut dst);
    let again = copy_all(&mut src, &mut dst);
    assert!(again.is_noop(), "{again:?}");
    assert_eq!(again.runs_skipped, 4);
    assert_same(&mut src, &mut dst);
}

/// Stopped after every write in turn, then run again: complete, nothing doubled.
#[test]
fn a_copy_stopped_anywhere_completes_when_run_again() {
    let t = tempfile::tempdir().unwrap();
    let mut src = sqlite(&t.path().join("src"));
    fill(&mut src, 300_000);
    let mut ticks = 0;
    let mut probe = sqlite(&t.path().join("probe"));
    copy_store(&mut src, &mut probe, &mut |_| {
        ticks += 1;
        Ok(())
    })
    .unwrap();
    assert!(ticks > 10, "{ticks} writes");
    for stop in 1..ticks {
        let mut dst = sqlite(&t.path().join(format!("dst{stop}")));
        let mut n = 0;
        let cut = copy_store(&mut src, &mut dst, &mut |_| {
            n += 1;
            if n == stop { Err(StoreError::Invalid { what: "test", why: "stopped".into() }) } else { Ok(()) }
        });
        assert!(cut.is_err(), "stop {stop}");
        copy_all(&mut src, &mut dst);
        assert_same(&mut src, &mut dst);
        assert!(copy_all(&mut src, &mut dst).is_noop(), "stop {stop}");
    }
}

#[test]
fn sqlite_to_postgres_to_sqlite() {
    let Some(admin) = test_server() else { return };
    let t = tempfile::tempdir().unwrap();
    let db = Database::create(&admin);
    let mut src = sqlite(&t.path().join("src"));
    fill(&mut src, 300_000);
    let mut pg = PgStore::connect(&db.url, manual_clock().0).unwrap().with_blobs(blobs_for_test(t.path()));

    // Stopped in the middle of the first run's points, then resumed.
    let mut n = 0;
    let cut = copy_store(&mut src, &mut pg, &mut |p| {
        n += 1;
        if p.points > 0 && p.runs_done == 0 {
            Err(StoreError::Invalid { what: "test", why: "stopped".into() })
        } else {
            Ok(())
        }
    });
    assert!(cut.is_err());
    assert!(pg.run("r1").is_ok(), "half a run is there");
    let r = copy_all(&mut src, &mut pg);
    assert_eq!(r.runs_recopied, 1, "{r:?}");
    assert_same(&mut src, &mut pg);
    assert!(copy_all(&mut src, &mut pg).is_noop());

    let mut back = sqlite(&t.path().join("back"));
    copy_all(&mut pg, &mut back);
    assert_same(&mut pg, &mut back);
    assert_same(&mut src, &mut back);
    assert!(copy_all(&mut pg, &mut back).is_noop());
}

/// Timing of a sizeable copy (20 runs × 100k points) each way:
/// `cargo test --release -p trackbench-store-pg --test copy -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing_20_runs_of_100k_points() {
    let Some(admin) = test_server() else { return };
    let t = tempfile::tempdir().unwrap();
    let mut src = sqlite(&t.path().join("src"));
    for r in 0..20 {
        let id = format!("run{r:02}");
        src.create_run_with_id(&id, &NewRun { project: "p".into(), ..NewRun::default() }).unwrap();
        let mut b = Batch::default();
        for i in 0..100_000 {
            b.push_metric("loss", i, 1_700_000_000_000 + i * 7, 1.0 / (1.0 + i as f64 + r as f64));
        }
        src.log_batch(&id, &b).unwrap();
        src.finish_run(&id, RunStatus::Finished, None).unwrap();
    }
    let db = Database::create(&admin);
    let mut pg = PgStore::connect(&db.url, manual_clock().0).unwrap().with_blobs(blobs_for_test(t.path()));
    let mut back = sqlite(&t.path().join("back"));
    let time = |what: &str, a: &mut dyn Backend, b: &mut dyn Backend| {
        let start = std::time::Instant::now();
        let r = copy_all(a, b);
        eprintln!(
            "{what}: {:.2} s ({} points, {} runs copied)",
            start.elapsed().as_secs_f64(),
            r.points,
            r.runs_copied
        );
    };
    time("SQLite -> PostgreSQL", &mut src, &mut pg);
    time("SQLite -> PostgreSQL again (no-op)", &mut src, &mut pg);
    time("PostgreSQL -> SQLite", &mut pg, &mut back);
    time("PostgreSQL -> SQLite again (no-op)", &mut pg, &mut back);
    let mut local = sqlite(&t.path().join("local"));
    time("SQLite -> SQLite", &mut src, &mut local);
    let start = std::time::Instant::now();
    assert_eq!(counts(&src).unwrap(), counts(&back).unwrap());
    eprintln!("counts on both sides: {:.2} s", start.elapsed().as_secs_f64());
}
