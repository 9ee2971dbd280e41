//! Project lifecycle and tags, run inputs and renames, and change polling for live views.

use serde_json::json;
use trackbench_store::{Batch, Change, RunQuery, RunStatus, StoreError};

use crate::util::store;

#[test]
fn project_create_rename_delete_restore() {
    let mut t = store();
    let p = t.store.create_project("exp").unwrap();
    assert!(matches!(t.store.create_project("exp"), Err(StoreError::ProjectExists(n)) if n == "exp"));
    let keep = t.run("exp", "a");
    let lone = t.run("exp", "b");
    t.store.delete_run(&lone).unwrap();
    t.advance(10);
    t.store.delete_project(p.id).unwrap();
    assert!(t.store.projects().unwrap().is_empty());
    assert!(t.store.project_by_id(p.id).unwrap().deleted);
    assert!(t.store.list_runs(&RunQuery::default()).unwrap().is_empty(), "its runs are deleted with it");
    t.store.restore_project(p.id).unwrap();
    let live: Vec<String> = t.store.list_runs(&RunQuery::default()).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(live, [keep], "restoring brings back the runs the deletion deleted, not older deletions");
    t.run("other", "c");
    assert!(matches!(t.store.rename_project(p.id, "other"), Err(StoreError::ProjectExists(_))));
    t.store.rename_project(p.id, "renamed").unwrap();
    assert_eq!(t.store.project_by_id(p.id).unwrap().name, "renamed");
    assert_eq!(t.store.run(&live[0]).unwrap().project, "renamed");
    assert!(matches!(t.store.project_by_id(999), Err(StoreError::ProjectNotFound(_))));
}

#[test]
fn project_tags_last_write_wins() {
    let mut t = store();
    let id = t.store.ensure_project("p").unwrap();
    t.store.set_project_tag(id, "team", "a").unwrap();
    t.store.set_project_tag(id, "team", "b").unwrap();
    t.store.set_project_tag(id, "note", "x").unwrap();
    assert_eq!(t.store.project_tags(id).unwrap(), [("note".into(), "x".into()), ("team".into(), "b".into())]);
    assert!(t.store.remove_project_tag(id, "note").unwrap());
    assert!(!t.store.remove_project_tag(id, "note").unwrap());
    assert!(t.store.set_project_tag(id, "", "x").is_err());
}

#[test]
fn run_inputs_deduplicate_by_digest_and_runs_rename() {
    let mut t = store();
    let r = t.run("p", "a");
    let d1 = json!({"name": "train", "digest": "abc"});
    t.store.add_run_inputs(&r, &[("abc".into(), d1.clone())]).unwrap();
    t.store.add_run_inputs(&r, &[("abc".into(), d1.clone()), ("def".into(), json!({"name": "val"}))]).unwrap();
    assert_eq!(t.store.run_inputs(&r).unwrap(), [d1, json!({"name": "val"})]);
    t.store.set_run_name(&r, "better").unwrap();
    assert_eq!(t.store.run(&r).unwrap().name, "better");
    assert!(t.store.set_run_name(&r, "").is_err());
}

#[test]
fn poll_changes_reports_new_runs_points_and_status() {
    let mut t = store();
    let old = t.run("p", "old");
    t.store.finish_run(&old, RunStatus::Finished, None).unwrap();
    let mut cursor = t.store.change_cursor().unwrap();
    assert!(t.store.poll_changes(&mut cursor).unwrap().is_empty(), "nothing new");

    let r = t.run("p", "new");
    let mut b = Batch::default();
    b.push_metric("loss", 0, 1, 1.0);
    b.push_metric("loss", 1, 2, 0.5);
    t.store.log_batch(&r, &b).unwrap();
    let changes = t.store.poll_changes(&mut cursor).unwrap();
    assert_eq!(
        changes,
        [
            Change::RunCreated { run: r.clone(), project: "p".into(), name: "new".into(), status: RunStatus::Running },
            Change::Points { run: r.clone(), project: "p".into(), key: "loss".into(), count: 2, last_step: 1 },
        ]
    );
    assert!(t.store.poll_changes(&mut cursor).unwrap().is_empty());

    let mut b = Batch::default();
    b.push_metric("loss", 2, 3, 0.25);
    t.store.log_batch(&r, &b).unwrap();
    t.store.finish_run(&r, RunStatus::Failed, Some("boom")).unwrap();
    let changes = t.store.poll_changes(&mut cursor).unwrap();
    assert!(changes.contains(&Change::RunStatus { run: r.clone(), project: "p".into(), status: RunStatus::Failed }));
    assert!(changes.contains(&Change::Points {
        run: r.clone(),
        project: "p".into(),
        key: "loss".into(),
        count: 3,
        last_step: 2
    }));

    // A resumed run is watched again; a silent running one turns crashed.
    t.store.resume_run(&old).unwrap();
    let changes = t.store.poll_changes(&mut cursor).unwrap();
    assert_eq!(changes, [Change::RunStatus { run: old.clone(), project: "p".into(), status: RunStatus::Running }]);
    t.advance(trackbench_store::DEFAULT_HEARTBEAT_TIMEOUT_MS + 1);
    let changes = t.store.poll_changes(&mut cursor).unwrap();
    assert_eq!(changes, [Change::RunStatus { run: old.clone(), project: "p".into(), status: RunStatus::Crashed }]);
}

#[test]
fn a_cursor_on_an_empty_store_sees_the_first_run() {
    let mut t = store();
    let mut cursor = t.store.change_cursor().unwrap();
    let r = t.run("p", "first");
    let changes = t.store.poll_changes(&mut cursor).unwrap();
    assert!(matches!(&changes[..], [Change::RunCreated { run, .. }] if *run == r));
}

#[test]
fn a_marked_batch_sent_twice_is_stored_once() {
    let mut t = store();
    let r = t.run("p", "a");
    let mut b = Batch { mark: Some(("writer-1".into(), 1)), ..Batch::default() };
    b.push_metric("x", 0, 1, 1.0);
    assert!(!t.store.log_batch(&r, &b).unwrap().duplicate);
    let again = t.store.log_batch(&r, &b).unwrap();
    assert!(again.duplicate && again.points == 0, "a retry of batch 1 is skipped");
    // Another writer's batch 1, and this writer's batch 2, are new.
    b.mark = Some(("writer-2".into(), 1));
    assert_eq!(t.store.log_batch(&r, &b).unwrap().points, 1);
    b.mark = Some(("writer-1".into(), 2));
    assert_eq!(t.store.log_batch(&r, &b).unwrap().points, 1);
    assert_eq!(t.store.series(&r, "x", trackbench_store::StepRange::ALL).unwrap().len(), 3);
    b.mark = Some(("".into(), 3));
    assert!(t.store.log_batch(&r, &b).is_err(), "a bad writer id is refused, nothing stored");
}
