//! Logged datasets and drift on the team store: profiles logged by the real SDK through one
//! replica are read, and tested for drift, through a `--readonly` one (the routes are reads).

use serde_json::Value;

use crate::util::{TOKEN, Team};

#[path = "../common/datasets.rs"]
mod datasets;
use datasets::{enc, log, remote_run, table};

#[test]
fn a_readonly_replica_serves_datasets_and_drift_of_profiles_logged_elsewhere() {
    let Some(team) = Team::new("data") else { return };
    let a = team.replica(&[]);
    let r = team.replica(&["--readonly"]);
    let run = remote_run(&a.base, TOKEN, "team-data");
    log(&run, "train", &table(0.0, 1.0, false), "training", None);
    log(&run, "serving set", &table(15.0, 1.6, true), "serving", Some(4));
    let id = run.id().to_string();
    run.finish().expect("finish");
    let empty = a.create_run("data", "no-datasets");

    let (status, v) = r.get(&format!("/api/v1/runs/{id}/datasets"));
    assert_eq!(status, 200, "{v}");
    let got: Vec<(&str, &Value, &Value)> = v["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), &d["step"], &d["rows"]))
        .collect();
    assert_eq!(got, [("train", &Value::Null, &400.into()), ("serving set", &4.into(), &400.into())]);
    let (status, v) = r.get(&format!("/api/v1/runs/{empty}/datasets"));
    assert_eq!((status, &v["datasets"]), (200, &serde_json::json!([])), "{v}");

    let (status, p) = r.get(&format!("/api/v1/runs/{id}/datasets/{}", enc("serving set")));
    assert_eq!((status, &p["step"]), (200, &4.into()), "{p}");
    assert_eq!(p["columns"].as_array().map(Vec::len), Some(4), "{p}");

    let drift =
        |cur: &str| r.get(&format!("/api/v1/drift?reference={}&current={}", enc(&format!("{id}:train")), enc(cur)));
    let (status, d) = drift(&format!("{id}:serving set@4"));
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["report"]["drift"], true, "{d}");
    let cols = d["report"]["columns"].as_array().expect("columns");
    let verdict = |n: &str| cols.iter().find(|c| c["column"] == n).map(|c| c["drift"].clone());
    assert_eq!((verdict("age"), verdict("score")), (Some(true.into()), Some(false.into())), "{d}");
    assert_eq!(d["charts"]["age"]["shares"].as_array().map(Vec::len), Some(2));
    let (status, d) = drift("team-data:nothing");
    assert_eq!(status, 404, "{d}");
    assert!(d["message"].as_str().is_some_and(|m| m.contains("the run has train, serving set")), "{d}");
}
