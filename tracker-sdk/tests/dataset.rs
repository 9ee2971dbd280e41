//! `Run::log_dataset`: a table's profile stored as a run input, into the local store and over
//! HTTP, idempotent for the same name, step and data, and shown by the server's MLflow
//! `runs/get` as MLflow shows datasets.

use trackbench_sdk::data::{Column, ColumnValues, Profile};
use trackbench_sdk::dataset::LoggedDataset;
use trackbench_sdk::{Remote, Run, RunOptions};
use trackbench_store::{Store, StoreOptions};

#[allow(dead_code)] // shared with the other test binaries
mod common;

fn table(shift: f64) -> (Vec<f64>, Vec<Option<&'static str>>) {
    let xs: Vec<f64> = (0..500).map(|i| (i % 50) as f64 + shift).collect();
    let cs: Vec<Option<&str>> =
        (0..500).map(|i| if i % 7 == 0 { None } else { Some(["a", "b", "c"][i % 3]) }).collect();
    (xs, cs)
}

fn log(run: &Run, name: &str, shift: f64, step: Option<i64>) -> String {
    let (xs, cs) = table(shift);
    let cols = [Column::new("x", ColumnValues::F64(&xs)), Column::new("c", ColumnValues::Str(&cs))];
    run.log_dataset(name, &cols, Some("training"), step).unwrap()
}

fn datasets(store: &std::path::Path, run: &str) -> Vec<LoggedDataset> {
    let s = Store::open(store, StoreOptions::default()).unwrap();
    s.run_inputs(run).unwrap().iter().filter_map(LoggedDataset::from_input).collect()
}

#[test]
fn datasets_are_stored_once_per_name_step_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::start(RunOptions::new("data").store_dir(dir.path())).unwrap();
    let d1 = log(&run, "train", 0.0, None);
    assert_eq!(log(&run, "train", 0.0, None), d1, "the same table again is the same input");
    log(&run, "serving", 0.0, Some(0));
    log(&run, "serving", 5.0, Some(1));
    let err = run.log_dataset("", &[], None, None).unwrap_err();
    assert!(err.to_string().contains("dataset name"), "{err}");
    let id = run.id().to_string();
    run.finish().unwrap();
    let got = datasets(dir.path(), &id);
    let names: Vec<(&str, Option<i64>)> = got.iter().map(|d| (d.name.as_str(), d.step)).collect();
    assert_eq!(names, [("train", None), ("serving", Some(0)), ("serving", Some(1))]);
    let p: Profile = got[0].parse_profile().unwrap();
    assert_eq!(p.rows, 500);
    assert_eq!(p.column("c").unwrap().nulls, 72);
    assert_eq!(got[0].context.as_deref(), Some("training"));
}

#[test]
fn a_remote_run_logs_datasets_that_mlflow_get_run_shows() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (_server, url) = common::serve(&store, 0);
    let run = Run::start(RunOptions::new("data").remote(Remote::new(&url, Some(common::TOKEN.into())))).unwrap();
    let digest = log(&run, "train", 0.0, Some(3));
    log(&run, "train", 0.0, Some(3));
    let id = run.id().to_string();
    run.finish().unwrap();

    let got = datasets(&store, &id);
    assert_eq!(got.len(), 1, "resent over HTTP, stored once");
    assert_eq!((got[0].digest.as_str(), got[0].step), (digest.as_str(), Some(3)));

    let body = ureq::get(format!("{url}/api/2.0/mlflow/runs/get?run_id={id}"))
        .header("Authorization", format!("Bearer {}", common::TOKEN))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let inputs = v["run"]["inputs"]["dataset_inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    let ds = &inputs[0]["dataset"];
    assert_eq!(ds["name"], "train");
    assert_eq!(ds["digest"], digest.as_str());
    assert_eq!(ds["source_type"], "code");
    let schema: serde_json::Value = serde_json::from_str(ds["schema"].as_str().unwrap()).unwrap();
    assert_eq!(
        schema["mlflow_colspec"],
        serde_json::json!([
            {"name": "x", "type": "double", "required": true},
            {"name": "c", "type": "string", "required": false},
        ])
    );
    // MLflow's `profile` is a string field: here the Trackbench profile's JSON.
    let profile = Profile::from_json(ds["profile"].as_str().unwrap()).unwrap();
    assert_eq!(profile.rows, 500);
    let tags = &inputs[0]["tags"];
    assert_eq!(tags[0], serde_json::json!({"key": "mlflow.data.context", "value": "training"}));
    assert_eq!(tags[1], serde_json::json!({"key": "trackbench.data.step", "value": "3"}));
}
