//! Logged datasets and drift over the native API: profiles logged by the real SDK over HTTP to
//! the real binary, read back as a run's datasets, one profile's columns and charts, and drift
//! between two profiles; the 400s and 404s; odd dataset names; a run with no datasets.

use serde_json::Value;

use crate::util::{Api, Server, TOKEN};

#[path = "../common/datasets.rs"]
mod datasets;
use datasets::{enc, log, remote_run, table};

/// The names a dataset may have that a URL or a `RUN:DATASET@STEP` spec must carry intact.
const ODD: [&str; 5] = ["eval set", "données ✓ 📊", "a@b", "x:y", "a/b?c#d%"];

/// Run ids: `reference` (train, and datasets with odd names), `current` (train shifted, and
/// serving at steps 0..2 drifting from step 2), `empty` (no datasets).
struct Logged {
    reference: String,
    current: String,
    empty: String,
}

fn logged(s: &Server) -> Logged {
    let r = remote_run(&s.base, TOKEN, "reference");
    log(&r, "train", &table(0.0, 1.0, false), "training", None);
    for name in ODD {
        log(&r, name, &table(0.0, 1.0, false), "evaluation", None);
    }
    let c = remote_run(&s.base, TOKEN, "current");
    log(&c, "train", &table(15.0, 1.6, true), "training", None);
    for step in 0..3 {
        let t = if step < 2 { table(0.0, 1.0, false) } else { table(15.0, 1.6, true) };
        log(&c, "serving", &t, "serving", Some(step));
    }
    // An input an MLflow client logged: a dataset without a Trackbench profile.
    let mlflow = format!(
        r#"{{"run_id":"{}","datasets":[{{"tags":[],"dataset":{{"name":"from-mlflow","digest":"abc123","source_type":"local","source":"{{}}"}}}}]}}"#,
        c.id()
    );
    let (status, v) = s.post("/api/2.0/mlflow/runs/log-inputs", &mlflow);
    assert_eq!(status, 200, "{v}");
    let e = remote_run(&s.base, TOKEN, "empty");
    let ids = Logged { reference: r.id().to_string(), current: c.id().to_string(), empty: e.id().to_string() };
    for run in [r, c, e] {
        run.finish().expect("finish");
    }
    ids
}

fn drift_url(reference: &str, current: &str, extra: &str) -> String {
    format!("/api/v1/drift?reference={}&current={}{extra}", enc(reference), enc(current))
}

fn column<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["report"]["columns"].as_array().expect("columns").iter().find(|c| c["column"] == name).expect(name)
}

fn sum(v: &Value) -> f64 {
    v.as_array().expect("numbers").iter().map(|x| x.as_f64().expect("a number")).sum()
}

#[test]
fn datasets_profiles_and_drift_read_back_as_logged() {
    let s = Server::start();
    let ids = logged(&s);

    // The reference's datasets, in logging order, one entry per profile.
    let (status, v) = s.get(&format!("/api/v1/runs/{}/datasets", ids.reference));
    assert_eq!(status, 200, "{v}");
    let list = v["datasets"].as_array().expect("datasets");
    let names: Vec<&str> = list.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["train", ODD[0], ODD[1], ODD[2], ODD[3], ODD[4]]);
    let train = &list[0];
    assert_eq!(
        (&train["rows"], &train["columns"], &train["context"]),
        (&Value::from(400), &Value::from(4), &Value::from("training"))
    );
    assert_eq!((&train["step"], &train["profiled"]), (&Value::Null, &Value::Bool(true)));
    assert_eq!(train["digest"].as_str().map(str::len), Some(16), "{train}");

    // One profile: a summary row and a chart per column.
    let (status, p) = s.get(&format!("/api/v1/runs/{}/datasets/train", ids.reference));
    assert_eq!(status, 200, "{p}");
    assert_eq!((&p["name"], &p["rows"], &p["step"]), (&Value::from("train"), &Value::from(400), &Value::Null));
    let cols = p["columns"].as_array().expect("columns");
    let col = |n: &str| cols.iter().find(|c| c["name"] == n).unwrap_or_else(|| panic!("column {n}: {p}"));
    let age = col("age");
    assert_eq!(
        (&age["dtype"], &age["count"], &age["nulls"], &age["exact"]),
        (&"float".into(), &400.into(), &0.into(), &true.into())
    );
    assert!(age["min"].as_f64().unwrap() >= 20.0 && age["max"].as_f64().unwrap() <= 60.0, "{age}");
    assert_eq!(age["quantiles"].as_array().map(Vec::len), Some(5));
    assert_eq!(age["chart"]["kind"], "numeric");
    assert_eq!(age["chart"]["edges"].as_array().map(Vec::len), Some(31), "30 bins by default");
    assert!((sum(&age["chart"]["shares"][0]) - 1.0).abs() < 1e-9, "{}", age["chart"]);
    assert_eq!(col("income")["nulls"], 8);
    let city = col("city");
    assert_eq!((&city["dtype"], &city["chart"]["kind"]), (&"string".into(), &"categorical".into()));
    assert_eq!(city["top"].as_array().map(Vec::len), Some(3), "{city}");
    let labels = city["chart"]["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 3, "{city}");
    let (_, small) = s.get(&format!("/api/v1/runs/{}/datasets/train?bins=5&top=1", ids.reference));
    assert_eq!(small["columns"][0]["chart"]["edges"].as_array().map(Vec::len), Some(6));
    assert_eq!(small["columns"][2]["chart"]["labels"].as_array().map(Vec::len), Some(1));

    // Steps: an asked step, the latest without one, every step listed.
    let serving = |q: &str| s.get(&format!("/api/v1/runs/{}/datasets/serving{q}", ids.current));
    let (status, at1) = serving("?step=1");
    assert_eq!((status, &at1["step"]), (200, &Value::from(1)), "{at1}");
    let (_, latest) = serving("");
    assert_eq!(latest["step"], 2);
    assert_eq!(latest["steps"], serde_json::json!([0, 1, 2]));

    // Shifted data drifts, unchanged data does not.
    let (status, d) = s.get(&drift_url(&format!("{}:train", ids.reference), &format!("{}:train", ids.current), ""));
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["report"]["drift"], true, "{d}");
    for shifted in ["age", "income", "city"] {
        assert_eq!(column(&d, shifted)["drift"], true, "{shifted}: {}", column(&d, shifted));
    }
    let score = column(&d, "score");
    assert_eq!(
        (&score["drift"], &score["test"], &score["exact"]),
        (&false.into(), &"ks".into(), &true.into()),
        "{score}"
    );
    assert!(score["reason"].as_str().is_some_and(|r| !r.is_empty()), "auto says why: {score}");
    assert_eq!((&d["reference"]["run_name"], &d["reference"]["rows"]), (&"reference".into(), &400.into()));
    assert_eq!((&d["current"]["run"], &d["current"]["dataset"]), (&Value::from(ids.current.as_str()), &"train".into()));
    assert_eq!(d["options"]["test"], "auto");
    let age_chart = &d["charts"]["age"];
    assert_eq!((age_chart["kind"].as_str(), age_chart["shares"].as_array().map(Vec::len)), (Some("numeric"), Some(2)));
    assert_eq!(age_chart["cdf"][1].as_array().and_then(|c| c.last()).and_then(Value::as_f64), Some(1.0));
    assert_eq!(d["charts"]["city"]["labels"].as_array().map(|l| l.iter().any(|x| x == "Lyon")), Some(true));

    // By run name, at steps; a chosen test, threshold and columns, as the CLI's flags.
    let (_, early) = s.get(&drift_url("reference:train", "current:serving@1", ""));
    assert_eq!((&early["report"]["drift"], &early["current"]["step"]), (&false.into(), &1.into()), "{early}");
    let (_, late) = s.get(&drift_url(
        "reference:train",
        "current:serving",
        "&test=psi&threshold=psi=0.2,share=0.9&columns=score,age",
    ));
    let cols = late["report"]["columns"].as_array().expect("columns");
    let got: Vec<(&str, &str, f64, bool)> = cols
        .iter()
        .map(|c| {
            (
                c["column"].as_str().unwrap(),
                c["test"].as_str().unwrap(),
                c["threshold"].as_f64().unwrap(),
                c["drift"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("score", "psi", 0.2, false), ("age", "psi", 0.2, true)]);
    assert_eq!(
        (&late["report"]["drift"], &late["report"]["drift_share"]),
        (&false.into(), &0.9.into()),
        "half the columns is under a 0.9 share"
    );
    assert_eq!(late["options"]["thresholds"], serde_json::json!({ "psi": 0.2 }));
    assert_eq!(late["current"]["step"], 2);
}

#[test]
fn odd_dataset_names_travel_intact() {
    let s = Server::start();
    let ids = logged(&s);
    for name in ODD {
        let (status, p) = s.get(&format!("/api/v1/runs/{}/datasets/{}", ids.reference, enc(name)));
        assert_eq!(status, 200, "{name}: {p}");
        assert_eq!((p["name"].as_str(), &p["context"]), (Some(name), &Value::from("evaluation")), "{name}");
        // In a spec too: the first `:` ends the run, `@` then digits at the end is a step.
        let spec = format!("{}:{name}", ids.reference);
        let (status, d) = s.get(&drift_url(&spec, &format!("{}:train", ids.reference), ""));
        assert_eq!(status, 200, "{name}: {d}");
        assert_eq!((d["reference"]["dataset"].as_str(), &d["report"]["drift"]), (Some(name), &false.into()), "{name}");
    }
}

#[test]
fn malformed_requests_are_400_and_missing_things_404_naming_what_is_there() {
    let s = Server::start();
    let ids = logged(&s);
    let r = |d: &str| format!("{}:{d}", ids.reference);
    let cases: Vec<(String, u16, &str)> = vec![
        (drift_url("no-colon", &r("train"), ""), 400, "expected RUN:DATASET"),
        (format!("/api/v1/drift?reference={}", enc(&r("train"))), 400, "`current` is required"),
        (drift_url(&r("train"), &r("train"), "&test=magic"), 400, "unknown test"),
        (drift_url(&r("train"), &r("train"), "&threshold=ks"), 400, "expected NAME=VALUE"),
        (drift_url(&r("train"), &r("train"), "&threshold=ks%3D-2"), 400, "a number >= 0"),
        (drift_url(&r("train"), &r("train"), "&threshold=auto%3D0.1"), 400, "not auto"),
        (drift_url(&r("train"), &r("train"), "&columns=nope,zilch"), 400, "neither profile has nope, zilch"),
        (drift_url(&r("train"), &r("train"), "&bins=lots"), 400, "expected an integer"),
        (drift_url("no-such-run:train", &r("train"), ""), 404, "the reference"),
        (drift_url(&r("train"), &r("test"), ""), 404, "the run has train, eval set"),
        (drift_url(&r("train"), &format!("{}:serving@7", ids.current), ""), 404, "it was at steps 0, 1, 2"),
        (drift_url(&r("train"), &format!("{}:x", ids.empty), ""), 404, "the run has no datasets"),
        (drift_url(&r("train"), &format!("{}:from-mlflow", ids.current), ""), 404, "no Trackbench profile"),
        (format!("/api/v1/runs/{}/datasets/serving?step=two", ids.current), 400, "expected an integer"),
        (format!("/api/v1/runs/{}/datasets/serving?step=7", ids.current), 404, "it was at steps 0, 1, 2"),
        (format!("/api/v1/runs/{}/datasets/test", ids.reference), 404, "the run has train, eval set"),
        (format!("/api/v1/runs/{}/datasets/from-mlflow", ids.current), 404, "no Trackbench profile"),
        ("/api/v1/runs/no-such-run/datasets".to_string(), 404, "no-such-run"),
        ("/api/v1/runs/no-such-run/datasets/train".to_string(), 404, "no-such-run"),
    ];
    for (path, status, says) in cases {
        let (got, v) = s.get(&path);
        assert_eq!(got, status, "{path}: {v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{path}: {message:?} should say {says:?}");
        let code = if status == 400 { "INVALID_PARAMETER_VALUE" } else { "RESOURCE_DOES_NOT_EXIST" };
        assert_eq!(v["error_code"], code, "{path}");
    }
}

#[test]
fn a_run_without_datasets_lists_none_and_an_mlflow_input_lists_unprofiled() {
    let s = Server::start();
    let ids = logged(&s);
    let (status, v) = s.get(&format!("/api/v1/runs/{}/datasets", ids.empty));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["datasets"], serde_json::json!([]));
    let (_, v) = s.get(&format!("/api/v1/runs/{}/datasets", ids.current));
    let list = v["datasets"].as_array().expect("datasets");
    let steps: Vec<(&str, &Value)> = list.iter().map(|d| (d["name"].as_str().unwrap(), &d["step"])).collect();
    assert_eq!(
        steps,
        [
            ("train", &Value::Null),
            ("serving", &0.into()),
            ("serving", &1.into()),
            ("serving", &2.into()),
            ("from-mlflow", &Value::Null)
        ]
    );
    let mlflow = &list[4];
    assert_eq!((&mlflow["profiled"], &mlflow["rows"]), (&false.into(), &Value::Null), "{mlflow}");
    assert!(mlflow["note"].as_str().is_some_and(|n| n.contains("no Trackbench profile")), "{mlflow}");
}
