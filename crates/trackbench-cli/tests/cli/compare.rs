//! `compare` through the real binary: the param diff and summary tables, grouped aggregates,
//! `--json`, and the exit codes of bad filters, unknown runs and empty selections.

use serde_json::{Value, json};
use trackbench_sdk::{Run, RunOptions};

use crate::util::Env;

/// Logs a finished run with `params` and one `loss` point per value (steps 0, 1, …).
fn log(env: &Env, name: &str, group: Option<&str>, params: &[(&str, Value)], loss: &[f64]) -> String {
    let mut opts = RunOptions::new("p").name(name).store_dir(env.store());
    if let Some(g) = group {
        opts = opts.group(g);
    }
    let run = Run::start(opts).expect("start run");
    run.log_params(params).unwrap();
    for (i, v) in loss.iter().enumerate() {
        run.log_at(i as i64, &[("loss", *v)]).unwrap();
    }
    let id = run.id().to_string();
    run.finish().unwrap();
    id
}

/// Three seeds of lr 0.1 and two of lr 0.01, in groups `fast` and `slow`.
fn seeds(env: &Env) -> Vec<String> {
    vec![
        log(
            env,
            "fast-1",
            Some("fast"),
            &[("lr", json!(0.1)), ("seed", json!(1)), ("opt", json!("adam"))],
            &[1.0, 0.5, 0.3],
        ),
        log(
            env,
            "fast-2",
            Some("fast"),
            &[("lr", json!(0.1)), ("seed", json!(2)), ("opt", json!("adam"))],
            &[1.0, 0.6, 0.4],
        ),
        log(
            env,
            "fast-3",
            Some("fast"),
            &[("lr", json!(0.1)), ("seed", json!(3)), ("opt", json!("adam"))],
            &[1.0, 0.7, 0.5],
        ),
        log(
            env,
            "slow-1",
            Some("slow"),
            &[("lr", json!(0.01)), ("seed", json!(1)), ("opt", json!("adam"))],
            &[1.0, 0.9],
        ),
        log(env, "slow-2", Some("slow"), &[("lr", json!("0.01")), ("opt", json!("adam"))], &[1.0, 0.7]),
    ]
}

#[test]
fn compare_named_runs_prints_the_diff_and_the_summary() {
    let env = Env::new();
    let ids = seeds(&env);
    let out = env.ok(&["compare", "fast-1", &ids[3][..8], "slow-2"]).stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "PARAMS of 3 run(s): 1 differ, 1 missing in some runs, 1 equal", "{out}");
    assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["RUN", "ID", "lr", "seed"], "{out}");
    assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["fast-1", &ids[0][..8], "0.1", "1"], "{out}");
    assert_eq!(lines[4].split_whitespace().collect::<Vec<_>>(), ["slow-2", &ids[4][..8], "0.01", "-"], "{out}");
    assert!(out.contains("equal in all runs: opt=adam"), "{out}");
    assert!(!out.contains("numeric"), "lr differs by value here, not only by type:\n{out}");

    assert!(out.contains("METRIC loss (lower is better, guessed from the name)"), "{out}");
    let fast = lines.iter().find(|l| l.starts_with("fast-1") && l.contains("0.3")).expect(&out);
    // RUN ID LAST STEP MIN MAX BEST POINTS
    assert_eq!(fast.split_whitespace().skip(2).collect::<Vec<_>>(), ["0.3", "2", "0.3", "1", "0.3", "3"], "{out}");
    assert!(out.contains(&format!("best: fast-1 ({}) with 0.3", &ids[0][..8])), "{out}");

    let max = env.ok(&["compare", "fast-1", "slow-1", "--direction", "max"]).stdout;
    assert!(max.contains("METRIC loss (higher is better)"), "{max}");
    assert!(max.contains(&format!("best: fast-1 ({}) with 1", &ids[0][..8])), "ties keep the first:\n{max}");
}

#[test]
fn numeric_equal_params_are_noted() {
    let env = Env::new();
    seeds(&env);
    let out = env.ok(&["compare", "slow-1", "slow-2"]).stdout;
    assert!(out.contains("note: `lr` differs only in type"), "{out}");
    let json = env.ok(&["compare", "slow-1", "slow-2", "--json"]).json();
    let lr = &json["params"]["differing"][0];
    assert_eq!((lr["key"].as_str(), lr["numeric_equal"].as_bool()), (Some("lr"), Some(true)));
    assert_eq!(lr["values"], json!([0.01, "0.01"]));
}

#[test]
fn compare_by_filter_groups_seeds_with_mean_std_and_ci() {
    let env = Env::new();
    seeds(&env);
    let out = env.ok(&["compare", "--filter", "params.opt = 'adam'", "--group-by", "group", "--metric", "loss"]).stdout;
    assert!(out.contains("GROUPED loss by group (lower is better)"), "{out}");
    // Finals of group fast: 0.3, 0.4, 0.5 -> mean 0.4 ± 0.1; CI 0.4 ± 4.302653 * 0.1 / sqrt(3).
    let fast = out.lines().find(|l| l.starts_with("fast ")).expect(&out);
    assert!(fast.contains("0.4 ± 0.1") && fast.contains("0.151586 to 0.648414"), "{out}");

    let json = env.ok(&["compare", "-f", "params.opt = 'adam'", "--group-by", "params.lr", "--json"]).json();
    assert_eq!(json["runs"].as_array().unwrap().len(), 5);
    assert_eq!(json["metrics"][0]["metric"], "loss");
    assert_eq!(json["metrics"][0]["direction"], "minimize");
    let groups = json["grouped"][0]["groups"].as_array().unwrap();
    let labels: Vec<&str> = groups.iter().map(|g| g["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["0.01", "0.1", "0.01"], "numbers ascending, then the string \"0.01\"");
    let fast = &groups[1];
    assert_eq!(fast["final"]["n"], 3);
    assert!((fast["final"]["mean"].as_f64().unwrap() - 0.4).abs() < 1e-12);
    assert!((fast["final"]["ci_low"].as_f64().unwrap() - 0.151586).abs() < 1e-6, "{fast}");
    assert_eq!(fast["series"]["steps"], json!([0, 1, 2]));
    assert!((fast["series"]["mean"][1].as_f64().unwrap() - 0.6).abs() < 1e-12);
    assert_eq!(groups[0]["final"]["ci_low"], Value::Null);
    assert!(groups[0]["final"]["note"].as_str().unwrap().contains("one run"));
}

#[test]
fn project_alone_selects_all_of_its_runs() {
    let env = Env::new();
    seeds(&env);
    env.log_run("other", "x", 0.5, &[0.1]);
    let json = env.ok(&["compare", "--project", "p", "--json"]).json();
    assert_eq!(json["runs"].as_array().unwrap().len(), 5);
    let json = env.ok(&["compare", "--project", "other", "--json"]).json();
    assert_eq!(json["metrics"][0]["metric"], "acc");
    assert_eq!(json["metrics"][0]["rows"][0]["last"], 0.1);
}

#[test]
fn errors_exit_with_their_codes() {
    let env = Env::new();
    seeds(&env);
    let bad = env.cmd(&["compare", "--filter", "params.lr >> 1"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("position 12") && bad.stderr.contains("\n           ^"), "{}", bad.stderr);

    let unknown = env.cmd(&["compare", "fast-1", "no-such-run"]);
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("run not found: no-such-run"), "{}", unknown.stderr);

    let none = env.cmd(&["compare", "--filter", "params.lr > 5"]);
    assert_eq!(none.code, 4, "{}", none.stderr);
    assert!(none.stderr.contains("matches none"), "{}", none.stderr);

    let metric = env.cmd(&["compare", "fast-1", "--metric", "acc"]);
    assert_eq!(metric.code, 4, "{}", metric.stderr);
    assert!(metric.stderr.contains("metric `acc`"), "{}", metric.stderr);

    let by = env.cmd(&["compare", "fast-1", "--group-by", "metrics.loss"]);
    assert_eq!(by.code, 2, "{}", by.stderr);
    assert_eq!(env.cmd(&["compare"]).code, 2, "nothing to compare is bad usage");
    assert_eq!(env.cmd(&["compare", "fast-1", "--filter", "x = 1"]).code, 2, "runs and a filter conflict");
    assert_eq!(env.cmd(&["compare", "fast-1", "--direction", "up"]).code, 2);
}
