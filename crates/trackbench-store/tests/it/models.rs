//! Logged models and the registry: a model's tags, write-once params, metrics (NaN and ±inf
//! bit-exact) and artifacts (kept by garbage collection); registered models with versions
//! numbered without gap or repeat under concurrent registration, aliases, stages, renames and
//! deletes.

use std::sync::{Arc, Barrier};

use trackbench_store::{GcOptions, ModelStatus, NewLoggedModel, NewModelVersion, Store, StoreError, StoreOptions};

use crate::util::store;

fn new_model(project: &str, run: Option<&str>) -> NewLoggedModel {
    NewLoggedModel {
        project: project.into(),
        name: "model".into(),
        source_run: run.map(str::to_string),
        model_type: Some("classifier".into()),
        tags: vec![("team".into(), "vision".into())],
        params: vec![("C".into(), "1.0".into())],
    }
}

#[test]
fn a_logged_model_keeps_its_tags_params_metrics_and_status() {
    let mut t = store();
    let run = t.run("p", "train");
    let m = t.store.create_logged_model(&new_model("p", Some(&run))).unwrap();
    assert!(m.id.starts_with("m-") && m.id.len() == 34, "{}", m.id);
    assert_eq!(
        (m.status, m.source_run.as_deref(), m.project.as_str()),
        (ModelStatus::Pending, Some(run.as_str()), "p")
    );
    assert_eq!(m.params["C"], "1.0");

    t.store.set_logged_model_tags(&m.id, &[("team".into(), "nlp".into()), ("k".into(), "v".into())]).unwrap();
    t.store.delete_logged_model_tag(&m.id, "k").unwrap();
    assert!(matches!(t.store.delete_logged_model_tag(&m.id, "k"), Err(StoreError::NotFound { .. })));
    // Params are write-once: the same value again is fine, another one is refused and nothing
    // of that call is stored.
    t.store.log_logged_model_params(&m.id, &[("C".into(), "1.0".into()), ("depth".into(), "3".into())]).unwrap();
    let err = t.store.log_logged_model_params(&m.id, &[("x".into(), "1".into()), ("C".into(), "2.0".into())]);
    assert!(matches!(err, Err(StoreError::Invalid { .. })), "{err:?}");

    let values =
        [(String::from("acc"), 0.5, 0, 10), ("acc".into(), f64::NAN, 1, 11), ("loss".into(), f64::NEG_INFINITY, 0, 12)];
    t.store.log_model_metrics(&m.id, Some(&run), &values).unwrap();
    t.store.log_model_metrics(&m.id, None, &[("acc".into(), 0.75, 1, 13)]).unwrap();

    let m = t.store.finalize_logged_model(&m.id, ModelStatus::Ready, None).unwrap();
    assert_eq!(m.status, ModelStatus::Ready);
    assert_eq!(m.tags.iter().collect::<Vec<_>>(), [(&"team".to_string(), &"nlp".to_string())]);
    assert_eq!(m.params.len(), 2);
    assert!(!m.params.contains_key("x"));
    let got: Vec<(&str, u64, i64, Option<&str>)> =
        m.metrics.iter().map(|x| (x.key.as_str(), x.value.to_bits(), x.step, x.run.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("acc", 0.5f64.to_bits(), 0, Some(run.as_str())),
            ("acc", f64::NAN.to_bits(), 1, Some(run.as_str())),
            ("acc", 0.75f64.to_bits(), 1, None),
            ("loss", f64::NEG_INFINITY.to_bits(), 0, Some(run.as_str())),
        ]
    );

    assert_eq!(t.store.logged_models(&["p".into()]).unwrap().len(), 1);
    assert_eq!(t.store.logged_models_of_run(&run).unwrap()[0].id, m.id);
    assert!(t.store.model_outputs(&run).unwrap().is_empty());
    t.store.log_model_outputs(&run, &[(m.id.clone(), 3)]).unwrap();
    t.store.log_model_outputs(&run, &[(m.id.clone(), 0)]).unwrap(); // again: the step is replaced
    assert_eq!(t.store.model_outputs(&run).unwrap(), [(m.id.clone(), 0)]);
    assert!(t.store.log_model_outputs(&run, &[("m-nope".into(), 0)]).is_err());
    for bad in ["a/b", "a:b", "a.b", "50%", "say \"hi\"", "it's", ""] {
        let new = NewLoggedModel { name: bad.into(), ..new_model("p", None) };
        assert!(matches!(t.store.create_logged_model(&new), Err(StoreError::Invalid { .. })), "{bad:?} accepted");
    }
    assert!(t.store.logged_models(&["other".into()]).unwrap().is_empty());
    t.store.delete_logged_model(&m.id).unwrap();
    assert!(matches!(t.store.logged_model(&m.id), Err(StoreError::NotFound { .. })));
    assert!(t.store.model_outputs(&run).unwrap().is_empty());
    assert!(t.store.logged_models(&[]).unwrap().is_empty());
    assert!(matches!(
        t.store.create_logged_model(&new_model("p", Some("no-such-run"))),
        Err(StoreError::RunNotFound(_))
    ));
}

#[test]
fn model_artifacts_are_stored_once_and_kept_by_gc() {
    let mut t = store();
    let run = t.run("p", "train");
    let m = t.store.create_logged_model(&new_model("p", Some(&run))).unwrap();
    let bytes = b"model weights".repeat(100);
    t.store.put_model_artifact_from(&m.id, "model.pkl", &bytes[..], "test").unwrap();
    t.store.put_model_artifact_from(&m.id, "MLmodel", &b"flavors: {}"[..], "test").unwrap();
    // The same bytes as a run artifact share the blob.
    t.store.put_artifact_from(&run, "copy.pkl", &bytes[..], "test").unwrap();
    assert!(t.store.put_model_artifact_from(&m.id, "../escape", &b"x"[..], "test").is_err());
    let list = t.store.model_artifacts(&m.id).unwrap();
    assert_eq!(list.iter().map(|a| a.path.as_str()).collect::<Vec<_>>(), ["MLmodel", "model.pkl"]);
    // The run is deleted and purged: its artifact row goes, the model's blob stays.
    t.store.delete_run(&run).unwrap();
    t.advance(10);
    let report = t.store.gc(&GcOptions { deleted_older_than_ms: Some(0), grace_ms: 0, dry_run: false }).unwrap();
    assert_eq!(report.runs_purged.len(), 1);
    let (info, file) = t.store.model_artifact_file(&m.id, "model.pkl").unwrap();
    assert_eq!(std::fs::read(file).unwrap(), bytes);
    assert_eq!(info.size, bytes.len() as u64);
    assert!(matches!(t.store.model_artifact_file(&m.id, "nope"), Err(StoreError::ArtifactNotFound(_))));
    // The model outlives its run; its source run reads as gone.
    assert_eq!(t.store.logged_model(&m.id).unwrap().source_run, None);
}

#[test]
fn registered_models_have_versions_aliases_stages_and_tags() {
    let mut t = store();
    let run = t.run("p", "train");
    let m = t.store.create_logged_model(&new_model("p", Some(&run))).unwrap();
    let rm = t.store.create_registered_model("iris clf ✓", Some("first"), &[("owner".into(), "ana".into())]).unwrap();
    assert_eq!((rm.name.as_str(), rm.description.as_deref()), ("iris clf ✓", Some("first")));
    assert!(matches!(t.store.create_registered_model("iris clf ✓", None, &[]), Err(StoreError::AlreadyExists { .. })));
    for bad in ["a/b", "a:b", "", "  ", "..", "."] {
        assert!(t.store.create_registered_model(bad, None, &[]).is_err(), "{bad:?} accepted");
    }
    let name = "iris clf ✓";
    let version = |source: &str| NewModelVersion {
        name: name.into(),
        source: source.into(),
        run: Some(run.clone()),
        logged_model: Some(m.id.clone()),
        ..NewModelVersion::default()
    };
    let v1 = t.store.create_model_version(&version(&format!("models:/{}", m.id))).unwrap();
    let v2 = t.store.create_model_version(&version(&format!("runs:/{run}/model"))).unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    assert_eq!(v1.logged_model.as_deref(), Some(m.id.as_str()));
    let missing = NewModelVersion { name: "nope".into(), ..version("models:/x") };
    assert!(matches!(t.store.create_model_version(&missing), Err(StoreError::NotFound { .. })));

    t.store.set_model_alias(name, "champion", 1).unwrap();
    t.store.set_model_alias(name, "champion", 2).unwrap(); // moves
    for bad in ["latest", "v3", "V12", "has space", "a/b", ""] {
        assert!(t.store.set_model_alias(name, bad, 1).is_err(), "alias {bad:?} accepted");
    }
    assert!(matches!(t.store.set_model_alias(name, "x", 9), Err(StoreError::NotFound { .. })));
    assert_eq!(t.store.model_version_by_alias(name, "champion").unwrap().version, 2);
    assert_eq!(t.store.model_version(name, 2).unwrap().aliases, ["champion"]);

    t.store.transition_model_version_stage(name, 1, "production", false).unwrap();
    let v2 = t.store.transition_model_version_stage(name, 2, "Production", true).unwrap();
    assert_eq!(v2.stage, "Production");
    assert_eq!(t.store.model_version(name, 1).unwrap().stage, "Archived");
    assert!(t.store.transition_model_version_stage(name, 1, "Nonsense", false).is_err());

    t.store.set_model_version_tag(name, 1, "validated", "yes").unwrap();
    t.store.update_model_version(name, 1, Some("the baseline")).unwrap();
    let v1 = t.store.model_version(name, 1).unwrap();
    assert_eq!((v1.tags["validated"].as_str(), v1.description.as_deref()), ("yes", Some("the baseline")));

    // A deleted version takes its alias with it and its number is never given again.
    t.store.delete_model_version(name, 2).unwrap();
    assert!(matches!(t.store.model_version_by_alias(name, "champion"), Err(StoreError::NotFound { .. })));
    assert_eq!(t.store.create_model_version(&version("models:/x")).unwrap().version, 3);

    let renamed = t.store.rename_registered_model(name, "iris").unwrap();
    assert_eq!(renamed.name, "iris");
    assert_eq!(t.store.model_versions(Some("iris")).unwrap().iter().map(|v| v.version).collect::<Vec<_>>(), [1, 3]);
    t.store.create_registered_model("other", None, &[]).unwrap();
    assert!(matches!(t.store.rename_registered_model("iris", "other"), Err(StoreError::AlreadyExists { .. })));
    assert_eq!(t.store.registered_models().unwrap().len(), 2);
    t.store.delete_registered_model("iris").unwrap();
    assert!(matches!(t.store.registered_model("iris"), Err(StoreError::NotFound { .. })));
    assert!(t.store.model_versions(None).unwrap().is_empty());
    // The logged model stays: the registry only pointed at it.
    assert!(t.store.logged_model(&m.id).is_ok());
}

#[test]
fn concurrent_registrations_number_versions_without_gap_or_repeat() {
    let mut t = store();
    t.store.create_registered_model("m", None, &[]).unwrap();
    let root = t.dir.path().to_path_buf();
    const THREADS: usize = 8;
    const EACH: usize = 12;
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (root, barrier) = (root.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut st = Store::open(&root, StoreOptions::default()).unwrap();
                barrier.wait();
                (0..EACH)
                    .map(|_| {
                        let new =
                            NewModelVersion { name: "m".into(), source: "models:/x".into(), ..Default::default() };
                        st.create_model_version(&new).unwrap().version
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut all: Vec<i64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort();
    assert_eq!(all, (1..=(THREADS * EACH) as i64).collect::<Vec<_>>());
}
