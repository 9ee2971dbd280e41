//! Garbage collection: purges only long-deleted runs, removes only unreferenced blobs older
//! than the grace period and stale temporary files; a dry run changes nothing.

use trackbench_store::{GcOptions, RunQuery, StoreError};

use crate::util::store;

const DAY: i64 = 86_400_000;

#[test]
fn gc_purges_old_deletions_and_unreferenced_blobs_only() {
    let mut t = store();
    let src = t.dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let write = |name: &str, body: &str| {
        let p = src.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let old = t.run("p", "old");
    let recent = t.run("p", "recent");
    let keep = t.run("p", "keep");
    t.store.put_artifact(&old, "only-old.txt", &write("a", "only in the old run")).unwrap();
    t.store.put_artifact(&old, "shared.txt", &write("b", "shared")).unwrap();
    t.store.put_artifact(&keep, "shared.txt", &write("b", "shared")).unwrap();
    t.store.put_artifact(&recent, "recent.txt", &write("c", "in the recently deleted run")).unwrap();
    t.store.delete_run(&old).unwrap();
    t.advance(40 * DAY);
    t.store.delete_run(&recent).unwrap();
    // A temporary file left by a killed upload.
    let tmp = t.dir.path().join("blobs/tmp/999-dead.part");
    std::fs::write(&tmp, "half an upload").unwrap();

    let opts = GcOptions { deleted_older_than_ms: Some(30 * DAY), grace_ms: 0, dry_run: true };
    let dry = t.store.gc(&opts).unwrap();
    assert_eq!(dry.runs_purged, std::slice::from_ref(&old));
    assert_eq!((dry.blobs_removed, dry.blob_bytes_freed), (1, "only in the old run".len() as u64));
    assert_eq!(dry.temp_files_removed, 1);
    assert!(t.store.run(&old).is_ok() && tmp.exists(), "a dry run changes nothing");

    let real = t.store.gc(&GcOptions { dry_run: false, ..opts.clone() }).unwrap();
    assert_eq!((real.runs_purged.clone(), real.blobs_removed, real.temp_files_removed), (dry.runs_purged, 1, 1));
    assert!(matches!(t.store.run(&old), Err(StoreError::RunNotFound(_))));
    assert!(!tmp.exists());
    // What is left still reads.
    let (_, shared) = t.store.artifact_file(&keep, "shared.txt").unwrap();
    assert_eq!(std::fs::read_to_string(shared).unwrap(), "shared");
    let (_, recent_blob) = t.store.artifact_file(&recent, "recent.txt").unwrap();
    assert!(recent_blob.exists(), "a run deleted 0 days ago keeps its blobs");
    let all = t.store.list_runs(&RunQuery { include_deleted: true, ..RunQuery::default() }).unwrap();
    assert_eq!(all.len(), 2);
    // Nothing left to collect.
    let again = t.store.gc(&GcOptions { dry_run: false, ..opts }).unwrap();
    assert_eq!((again.runs_purged.len(), again.blobs_removed, again.temp_files_removed), (0, 0, 0));
}

#[test]
fn young_files_are_never_collected() {
    let mut t = store();
    let r = t.run("p", "r");
    let f = t.dir.path().join("f");
    std::fs::write(&f, "x").unwrap();
    t.store.put_artifact(&r, "f", &f).unwrap();
    t.store.purge_run(&r).unwrap();
    // The blob is unreferenced now, but young: a put elsewhere may be about to reference it.
    let report = t.store.gc(&GcOptions { dry_run: false, ..GcOptions::default() }).unwrap();
    assert_eq!(report.blobs_removed, 0);
    let report = t.store.gc(&GcOptions { dry_run: false, grace_ms: 0, ..GcOptions::default() }).unwrap();
    assert_eq!(report.blobs_removed, 1);
}

#[test]
fn a_purged_runs_id_is_never_reused_under_another_handles_cache() {
    use std::sync::atomic::Ordering;
    use trackbench_store::{Points, Store, StoreOptions};
    let mut t = store();
    let c = t.clock.clone();
    let opts = StoreOptions { clock: std::sync::Arc::new(move || c.load(Ordering::SeqCst)), ..StoreOptions::default() };
    let mut other = Store::open(t.dir.path(), opts).unwrap();
    let point = |v: f64| {
        let mut p = Points::default();
        p.push(0, crate::util::T0, v);
        p
    };
    // `other` writes into the newest run, so it caches that run's internal id.
    let old = t.run("p", "old");
    other.log_metric_points(&old, "loss", point(1.0)).unwrap();
    t.store.delete_run(&old).unwrap();
    t.advance(40 * DAY);
    let report = t.store.gc(&GcOptions { deleted_older_than_ms: Some(30 * DAY), grace_ms: 0, dry_run: false }).unwrap();
    assert_eq!(report.runs_purged, std::slice::from_ref(&old));
    let new = t.run("p", "new");
    match other.log_metric_points(&old, "loss", point(2.0)) {
        Err(StoreError::RunNotFound(id)) => assert_eq!(id, old),
        other => panic!("a write into the purged run must fail, got {other:?}"),
    }
    assert!(t.store.metric_summaries(&new).unwrap().is_empty(), "nothing landed in the new run");
    // Also for a store reopened on a database whose newest run was purged.
    drop(other);
    t.store.delete_run(&new).unwrap();
    t.advance(40 * DAY);
    t.store.gc(&GcOptions { deleted_older_than_ms: Some(30 * DAY), grace_ms: 0, dry_run: false }).unwrap();
    let mut reopened = Store::open(t.dir.path(), StoreOptions::default()).unwrap();
    let newer = reopened.create_run(&trackbench_store::NewRun { project: "p".into(), ..Default::default() }).unwrap();
    assert!(matches!(t.store.log_metric_points(&new, "loss", point(3.0)), Err(StoreError::RunNotFound(_))));
    assert!(reopened.metric_summaries(&newer.id).unwrap().is_empty());
}
