//! `trackbench drift`: datasets logged through the Rust SDK, tested as a CI gate (exit 0 no
//! drift, 1 drift, 2 error).

use trackbench_sdk::data::{Column, ColumnValues};
use trackbench_sdk::{Run, RunOptions};

use crate::util::Env;

/// A table of 400 rows: `age` (shifted by `shift`), `income` (scaled by `scale`), `city` (with
/// `new_city` replacing a third of the rows when set) and an unchanged `score`.
struct Table {
    age: Vec<f64>,
    income: Vec<Option<i64>>,
    city: Vec<Option<&'static str>>,
    score: Vec<f64>,
}

fn table(shift: f64, scale: f64, new_city: bool) -> Table {
    let n = 400;
    // A deterministic spread of values (no generator needed): i * golden ratio mod 1.
    let u = |i: usize, k: f64| ((i as f64 + 1.0) * 0.618_033_988_75 * k).fract();
    Table {
        age: (0..n).map(|i| 20.0 + 40.0 * u(i, 1.0) + shift).collect(),
        income: (0..n)
            .map(|i| if i % 50 == 0 { None } else { Some((30_000.0 * scale * (1.0 + u(i, 3.0))) as i64) })
            .collect(),
        city: (0..n)
            .map(|i| match i % 3 {
                0 if new_city => Some("Lyon"),
                0 => Some("Paris"),
                1 => Some("Berlin"),
                _ => Some("Rome"),
            })
            .collect(),
        score: (0..n).map(|i| u(i, 7.0)).collect(),
    }
}

fn log(run: &Run, name: &str, t: &Table, step: Option<i64>) {
    let cols = [
        Column::new("age", ColumnValues::F64(&t.age)),
        Column::new("income", ColumnValues::I64(&t.income)),
        Column::new("city", ColumnValues::Str(&t.city)),
        Column::new("score", ColumnValues::F64(&t.score)),
    ];
    run.log_dataset(name, &cols, Some("training"), step).unwrap();
}

/// One run with `train`, `same` (train again, permuted: the same distribution), `shifted` (age,
/// income and city moved) and `serving` at steps 0..3 (drifting from step 2).
fn logged(env: &Env) -> String {
    let run = Run::start(RunOptions::new("data").name("drifty").store_dir(env.store())).unwrap();
    let train = table(0.0, 1.0, false);
    log(&run, "train", &train, None);
    let mut same = table(0.0, 1.0, false);
    same.age.reverse();
    same.income.reverse();
    same.score.reverse();
    log(&run, "same", &same, None);
    log(&run, "shifted", &table(15.0, 1.6, true), None);
    for step in 0..4 {
        let t = if step < 2 { table(0.0, 1.0, false) } else { table(15.0 * step as f64, 1.6, true) };
        log(&run, "serving", &t, Some(step));
    }
    let id = run.id().to_string();
    run.finish().unwrap();
    id
}

#[test]
fn shifted_data_drifts_and_unchanged_data_does_not() {
    let env = Env::new();
    let id = logged(&env);
    let r = format!("{id}:train");

    let out = env.cmd(&["drift", &r, &format!("{id}:shifted")]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("dataset: 3 of 4 tested columns drifted"), "{}", out.stdout);
    assert!(out.stdout.contains("DRIFT (age, income, city)"), "{}", out.stdout);
    let score = out.stdout.lines().find(|l| l.starts_with("score")).unwrap();
    assert!(score.contains(" ok ") && score.contains("ks") && score.contains("exact"), "{score}");

    let same = env.cmd(&["drift", &r, &format!("{id}:same")]);
    assert_eq!(same.code, 0, "{}\n{}", same.stdout, same.stderr);
    assert!(same.stdout.contains("0 of 4 tested columns drifted"), "{}", same.stdout);

    // By name, one column, a chosen test and threshold, as JSON.
    let j = env.cmd(&[
        "drift",
        "drifty:train",
        "drifty:shifted",
        "--columns",
        "score,age",
        "--test",
        "psi",
        "--threshold",
        "psi=0.2",
        "--json",
    ]);
    assert_eq!(j.code, 1, "{}\n{}", j.stdout, j.stderr);
    let v = j.json();
    let cols = v["report"]["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 2);
    assert_eq!((cols[0]["column"].as_str(), cols[0]["drift"].as_bool()), (Some("score"), Some(false)));
    assert_eq!((cols[1]["column"].as_str(), cols[1]["drift"].as_bool()), (Some("age"), Some(true)));
    assert_eq!(cols[1]["test"], "psi");
    assert_eq!(cols[1]["threshold"], 0.2);
    // The dataset drifts at half the columns by default; `share` moves that.
    let lenient = env.cmd(&["drift", &r, &format!("{id}:shifted"), "--threshold", "share=0.9"]);
    assert_eq!(lenient.code, 0, "{}", lenient.stdout);

    // Steps: the serving data drifts from step 2; without @STEP the latest step.
    assert_eq!(env.cmd(&["drift", &r, &format!("{id}:serving@1")]).code, 0);
    assert_eq!(env.cmd(&["drift", &r, &format!("{id}:serving@2")]).code, 1);
    let latest = env.cmd(&["drift", &r, &format!("{id}:serving")]);
    assert_eq!(latest.code, 1);
    assert!(latest.stdout.contains("serving@3"), "{}", latest.stdout);
}

#[test]
fn missing_runs_datasets_and_bad_arguments_exit_2() {
    let env = Env::new();
    let id = logged(&env);
    let r = format!("{id}:train");
    let cases: [(&[&str], &str); 6] = [
        (&["drift", "nope:train", &r], "nope"),
        (&["drift", &r, &format!("{id}:test")], "no dataset \"test\": the run has train, same, shifted, serving"),
        (&["drift", &r, &format!("{id}:serving@9")], "was not logged at step 9; it was at steps 0, 1, 2, 3"),
        (&["drift", &r, "train"], "expected RUN:DATASET[@STEP]"),
        (&["drift", &r, &r, "--threshold", "ks"], "expected NAME=VALUE"),
        (&["drift", &r, &r, "--columns", "zzz"], "neither profile has zzz"),
    ];
    for (args, message) in cases {
        let out = env.cmd(args);
        assert_eq!(out.code, 2, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    // A dataset an MLflow client logged has no profile to test.
    let mut s = trackbench_store::Store::open(env.store(), trackbench_store::StoreOptions::default()).unwrap();
    let input =
        serde_json::json!({"tags": [], "dataset": {"name": "mlf", "digest": "abcd1234", "source_type": "local"}});
    s.add_run_inputs(&id, &[("k".into(), input)]).unwrap();
    let out = env.cmd(&["drift", &r, &format!("{id}:mlf")]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("has no Trackbench profile"), "{}", out.stderr);
}

#[test]
fn drift_series_writes_metric_series_per_step_once() {
    let env = Env::new();
    let id = logged(&env);
    let r = format!("{id}:train");
    let args = ["drift", "series", id.as_str(), "--dataset", "serving", "--reference", r.as_str()];
    let out = env.cmd(&[&args[..], &["--json"]].concat());
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let v = out.json();
    assert_eq!(v["drifted_steps"], serde_json::json!([2, 3]));
    assert!(v["points_written"].as_u64().unwrap() > 0);

    let mut s = trackbench_store::Store::open(env.store(), trackbench_store::StoreOptions::default()).unwrap();
    let all = trackbench_store::StepRange::ALL;
    let verdicts = s.series(&id, "drift/dataset", all).unwrap();
    assert_eq!(verdicts.steps, [0, 1, 2, 3]);
    assert_eq!(verdicts.values, [0.0, 0.0, 1.0, 1.0]);
    let ks = s.series(&id, "drift/age/ks", all).unwrap();
    assert_eq!(ks.steps, [0, 1, 2, 3]);
    assert_eq!(ks.values[0], 0.0);
    assert_eq!(s.series(&id, "drift/age/p_value", all).unwrap().len(), 4);
    assert_eq!(s.series(&id, "drift/city/chi2", all).unwrap().len(), 4);
    drop(s);

    // Again: nothing new is written (the store never replaces a point); with the gate, exit 1.
    let again = env.cmd(&[&args[..], &["--fail-on-drift"]].concat());
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("2 drifted; 0 point(s) written") && again.stdout.contains("4 step(s) already"));
    let s = trackbench_store::Store::open(env.store(), trackbench_store::StoreOptions::default()).unwrap();
    let summary = s.metric_summaries(&id).unwrap();
    assert_eq!(summary.iter().find(|m| m.key == "drift/dataset").unwrap().count, 4);

    // A dataset logged without steps, and one not logged at all.
    let out = env.cmd(&["drift", "series", &id, "--dataset", "train", "--reference", &r]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("was logged without a step"), "{}", out.stderr);
    let out = env.cmd(&["drift", "series", &id, "--dataset", "nope", "--reference", &r]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no dataset \"nope\""), "{}", out.stderr);
}
