//! The model registry from the command line: `ab promote` registers arm B's best run when the
//! verdict says B is better (and refuses otherwise unless forced), `models register`, `alias`,
//! `ls` and `show`.

use trackbench_sdk::{Run, RunOptions};

use crate::util::Env;

/// Logs a finished run in `group` with last `acc` = `value`.
fn grouped_run(env: &Env, group: &str, value: f64) -> String {
    let run = Run::start(RunOptions::new("p").group(group).store_dir(env.store())).expect("start run");
    run.log_at(0, &[("acc", value)]).unwrap();
    let id = run.id().to_string();
    run.finish().unwrap();
    id
}

#[test]
fn an_ab_winner_is_promoted_only_when_the_verdict_says_so() {
    let env = Env::new();
    for v in [0.50, 0.52, 0.51, 0.49] {
        grouped_run(&env, "base", v);
    }
    let b: Vec<(String, f64)> = [0.90, 0.93, 0.91, 0.92].iter().map(|&v| (grouped_run(&env, "cand", v), v)).collect();
    let best = &b[1].0;
    let ab = env.ok(&["ab", "--from-groups", "base", "cand", "--metric", "acc", "--maximize", "--json"]).json();
    assert_eq!(ab["result"]["comparison"]["outcome"], "b_better", "{ab}");
    let id = ab["id"].as_str().unwrap();

    let p = env.ok(&["ab", "promote", &id[..6], "iris", "--json"]).json();
    assert_eq!((p["version"]["version"].as_i64(), p["run"].as_str()), (Some(1), Some(best.as_str())), "{p}");
    assert_eq!(p["version"]["aliases"], serde_json::json!(["champion"]));
    assert_eq!(p["version"]["source"], format!("runs:/{best}"));
    let tags = &p["version"]["tags"];
    assert_eq!((tags["ab.id"].as_str(), tags["ab.outcome"].as_str()), (Some(id), Some("b_better")), "{tags}");
    for k in ["ab.verdict", "ab.hedges_g", "ab.ci_low", "ab.ci_high", "ab.p_value"] {
        assert!(tags[k].as_str().is_some_and(|v| !v.is_empty()), "{k} missing: {tags}");
    }
    assert_eq!(p["forced"], false);

    // The other way round A is better: refused (bad usage), and nothing is registered.
    let back = env.ok(&["ab", "--from-groups", "cand", "base", "--metric", "acc", "--maximize", "--json"]).json();
    let back_id = back["id"].as_str().unwrap();
    let refused = env.cmd(&["ab", "promote", back_id, "iris"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("not that B is better") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    let shown = env.ok(&["models", "show", "iris", "--json"]).json();
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
    let forced = env.ok(&["ab", "promote", back_id, "iris", "--alias", "trial", "--force", "--json"]).json();
    assert_eq!((forced["version"]["version"].as_i64(), &forced["forced"]), (Some(2), &serde_json::json!(true)));
    assert_eq!(forced["version"]["tags"]["ab.forced"], "true");
    assert!(env.cmd(&["ab", "promote", "nosuchab", "iris"]).code == 4);
    // A refused alias registers nothing.
    assert_eq!(env.cmd(&["ab", "promote", id, "iris", "--alias", "latest"]).code, 2);
    assert_eq!(env.ok(&["models", "show", "iris", "--json"]).json()["versions"].as_array().unwrap().len(), 2);
}

#[test]
fn models_are_registered_aliased_listed_and_shown() {
    let env = Env::new();
    let run = env.log_run("p", "r", 0.1, &[0.5, 0.6]);
    let missing = env.cmd(&["models", "register", &format!("{run}:no/such/file"), "m"]);
    assert_eq!(missing.code, 4, "{}", missing.stderr);
    let v = env.ok(&["models", "register", &run, "m", "--json"]).json();
    assert_eq!((v["version"].as_i64(), v["source"].as_str()), (Some(1), Some(format!("runs:/{run}").as_str())));
    env.ok(&["models", "register", &run[..6], "m", "--alias", "champion"]);
    env.ok(&["models", "alias", "m", "prod", "1"]);
    let bad = env.cmd(&["models", "alias", "m", "latest", "1"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(env.cmd(&["models", "alias", "m", "x", "9"]).code, 4);
    let ls = env.ok(&["models", "ls"]).stdout;
    assert!(ls.contains("champion=v2") && ls.contains("prod=v1"), "{ls}");
    let show = env.ok(&["models", "show", "m"]).stdout;
    assert!(show.lines().filter(|l| l.contains(&format!("runs:/{run}"))).count() == 2, "{show}");
    assert_eq!(env.cmd(&["models", "show", "nope"]).code, 4);
}
