//! A/B comparisons: created with a spec, runs added by arm in order, finished with a verdict,
//! listed per project and resolved by prefix.

use trackbench_store::{Arm, NewAb, RunStatus, StoreError};

use crate::util::store;

#[test]
fn an_ab_keeps_its_arms_runs_and_verdict() {
    let mut t = store();
    let (a1, b1, a2) = (t.run("p", "a1"), t.run("p", "b1"), t.run("p", "a2"));
    let new = NewAb {
        project: "p".into(),
        name: "lr 0.01 vs 0.03".into(),
        metric: "val/acc".into(),
        direction: "maximize".into(),
        spec: serde_json::json!({"a": {"lr": "0.01"}, "b": {"lr": "0.03"}, "seeds": 2}),
    };
    let id = t.store.create_ab(&new).unwrap();
    for (seq, (arm, run)) in [(Arm::B, &b1), (Arm::A, &a2), (Arm::A, &a1)].into_iter().enumerate() {
        t.store.add_ab_run(&id, arm, run, [2, 3, 1][seq]).unwrap();
    }
    t.store.add_ab_run(&id, Arm::B, &a1, 9).unwrap(); // a second add is a no-op
    let ab = t.store.ab(&id).unwrap();
    assert_eq!(ab.status, RunStatus::Running);
    assert_eq!(
        ab.runs.iter().map(|r| (r.arm, r.run_id.as_str())).collect::<Vec<_>>(),
        [(Arm::A, a1.as_str()), (Arm::B, b1.as_str()), (Arm::A, a2.as_str())]
    );
    assert_eq!(ab.spec["seeds"], 2);
    let verdict = serde_json::json!({"verdict": "B is better", "welch": {"p_two_sided": 0.01}});
    t.advance(5);
    t.store.finish_ab(&id, RunStatus::Finished, Some(&verdict), None).unwrap();
    let ab = t.store.ab(&id).unwrap();
    assert_eq!((ab.status, ab.result.as_ref()), (RunStatus::Finished, Some(&verdict)));
    assert_eq!(ab.ended_ms, Some(ab.created_ms + 5));
    assert_eq!(t.store.resolve_ab(&id[..6]).unwrap(), id);
    assert_eq!(t.store.list_abs(Some("p")).unwrap().len(), 1);
    assert!(t.store.list_abs(Some("other")).unwrap().is_empty());
    assert!(matches!(t.store.ab("nope"), Err(StoreError::AbNotFound(_))));
    assert!(t.store.finish_ab(&id, RunStatus::Running, None, None).is_err());
    let bad = NewAb { direction: "up".into(), ..new };
    assert!(matches!(t.store.create_ab(&bad), Err(StoreError::Invalid { .. })));
}
