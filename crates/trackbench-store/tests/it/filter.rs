//! The query language over real runs: each filter/order-by compared with the expected names.

use trackbench_store::{Batch, RunQuery, RunStatus};

use crate::util::{T0, TestStore, store};

/// Five runs with params, metrics and tags:
/// name  lr(json)   opt      acc(last,min..)  loss      tags
/// a     0.01       "adam"   0.9 (0.5..0.9)   [1, 0.2]  team=x
/// b     "0.01"     "sgd"    0.7              [2, 0.5]  team=y
/// c     0.1        "adam"   0.95             [NaN]     -
/// d     1          "Adam"   -                -         team=x
/// e     -          -        0.3              [0.1]     (finished, group g)
/// (name, lr, optimizer, acc points, loss points, team tag)
type Row<'a> = (&'a str, Option<serde_json::Value>, Option<&'a str>, &'a [f64], &'a [f64], Option<&'a str>);

fn fixture() -> TestStore {
    let mut t = store();
    let rows: [Row; 5] = [
        ("a", Some(serde_json::json!(0.01)), Some("adam"), &[0.5, 0.9], &[1.0, 0.2], Some("x")),
        ("b", Some(serde_json::json!("0.01")), Some("sgd"), &[0.7], &[2.0, 0.5], Some("y")),
        ("c", Some(serde_json::json!(0.1)), Some("adam"), &[0.95], &[f64::NAN], None),
        ("d", Some(serde_json::json!(1)), Some("Adam"), &[], &[], Some("x")),
        ("e", None, None, &[0.3], &[0.1], None),
    ];
    for (i, (name, lr, opt, acc, loss, team)) in rows.into_iter().enumerate() {
        t.advance(1000);
        let id = t.run("proj", name);
        let mut b = Batch::default();
        if let Some(lr) = lr {
            b.params.push(("lr".into(), lr));
        }
        if let Some(opt) = opt {
            b.params.push(("opt".into(), serde_json::json!(opt)));
        }
        for (s, v) in acc.iter().enumerate() {
            b.push_metric("acc", s as i64, T0 + i as i64, *v);
        }
        for (s, v) in loss.iter().enumerate() {
            b.push_metric("train.loss", s as i64, T0, *v);
        }
        if let Some(team) = team {
            b.tags.push(("team".into(), team.into()));
        }
        t.store.log_batch(&id, &b).unwrap();
        if name == "e" {
            t.store.finish_run(&id, RunStatus::Finished, None).unwrap();
        }
    }
    let other = t.run("other", "z");
    t.store.log_params(&other, vec![("lr".into(), serde_json::json!(0.01))]).unwrap();
    t
}

fn names(t: &TestStore, filter: &str, order: Option<&str>) -> Vec<String> {
    let q = RunQuery {
        project: Some("proj".into()),
        filter: Some(filter.into()),
        order_by: order.map(str::to_string),
        ..RunQuery::default()
    };
    let mut n: Vec<String> =
        t.store.list_runs(&q).unwrap_or_else(|e| panic!("{filter}: {e}")).into_iter().map(|r| r.name).collect();
    if order.is_none() {
        n.sort();
    }
    n
}

#[test]
fn filters_select_the_right_runs() {
    let t = fixture();
    let check = |filter: &str, expect: &[&str]| {
        assert_eq!(names(&t, filter, None), expect, "filter: {filter}");
    };
    check("", &["a", "b", "c", "d", "e"]);
    check("metrics.acc > 0.8", &["a", "c"]);
    check("metrics.acc >= 0.7 and params.opt = 'adam'", &["a", "c"]);
    check("params.lr = 0.01", &["a", "b"]);
    check("params.lr = '0.01'", &["a", "b"]);
    check("params.lr < 0.5", &["a", "b", "c"]);
    check("params.lr > 0.05 or tags.team = 'y'", &["b", "c", "d"]);
    check("not params.lr = 0.01", &["c", "d", "e"]);
    check("params.opt LIKE 'a%'", &["a", "c"]);
    check("params.opt ILIKE 'a%'", &["a", "c", "d"]);
    check("params.opt NOT LIKE 'a%'", &["b", "d"]);
    check("params.opt IN ('sgd', 'Adam')", &["b", "d"]);
    check("params.opt NOT IN ('sgd', 'Adam')", &["a", "c"]);
    check("params.lr IS NULL", &["e"]);
    check("metrics.acc IS NOT NULL and tags.team IS NULL", &["c", "e"]);
    check("min(metrics.acc) < 0.6", &["a", "e"]);
    check("max(metrics.acc) >= 0.9", &["a", "c"]);
    check("count(metrics.acc) = 2", &["a"]);
    check("mean(metrics.acc) = 0.7", &["a", "b"]);
    check("metrics.train.loss < 0.3", &["a", "e"]);
    check("metrics.`train.loss` < 0.3", &["a", "e"]);
    check("metrics.train.loss > -1e9", &["a", "b", "e"]); // NaN last never matches
    check("attributes.status = 'finished'", &["e"]);
    check("attributes.status = 'RUNNING'", &["a", "b", "c", "d"]);
    check("attributes.run_name IN ('a', 'b') and (metrics.acc > 0.8 or params.opt = 'sgd')", &["a", "b"]);
    check("attributes.run_name LIKE '_'", &["a", "b", "c", "d", "e"]);
    check("tags.team != 'x'", &["b"]);
    check("attributes.end_time IS NOT NULL", &["e"]);
    check("attributes.project = 'proj'", &["a", "b", "c", "d", "e"]);
    check("metrics.nosuch > 0", &[]);
}

#[test]
fn order_by_metrics_params_and_attributes() {
    let t = fixture();
    assert_eq!(names(&t, "", Some("metrics.acc desc")), ["c", "a", "b", "e", "d"], "runs lacking the metric last");
    assert_eq!(names(&t, "", Some("metrics.acc")), ["e", "b", "a", "c", "d"]);
    assert_eq!(names(&t, "", Some("min(metrics.acc) asc")), ["e", "a", "b", "c", "d"]);
    assert_eq!(names(&t, "", Some("params.lr desc, attributes.run_name asc")), ["d", "c", "a", "b", "e"]);
    assert_eq!(names(&t, "", Some("attributes.created")), ["a", "b", "c", "d", "e"]);
}

#[test]
fn bad_filters_are_errors_with_positions() {
    let t = fixture();
    for (f, needle) in [
        ("metrics.acc >", "position"),
        ("metrics.acc = 'high'", "compared with a number"),
        ("attributes.status = 'sleeping'", "unknown status"),
        ("metrics.acc LIKE 'x'", "not metrics"),
        ("attributes.start_time > 'yesterday'", "compared with a number"),
    ] {
        let q = RunQuery { filter: Some(f.into()), ..RunQuery::default() };
        let err = t.store.list_runs(&q).expect_err(f).to_string();
        assert!(err.contains(needle), "{f}: {err}");
    }
}

#[test]
fn injection_attempts_are_just_values() {
    let t = fixture();
    assert!(names(&t, "params.opt = 'x'' OR 1=1 --'", None).is_empty());
    assert!(names(&t, "tags.`team') OR 1=1 --` = 'x'", None).is_empty());
    assert_eq!(t.store.list_runs(&RunQuery::default()).unwrap().len(), 6, "nothing was harmed");
}

#[test]
fn paging_and_projects() {
    let t = fixture();
    let q = RunQuery { limit: Some(2), offset: 1, project: Some("proj".into()), ..RunQuery::default() };
    let page: Vec<String> = t.store.list_runs(&q).unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(page, ["d", "c"], "newest first");
    let p = t.store.projects().unwrap();
    assert_eq!(p.iter().map(|p| (p.name.as_str(), p.runs)).collect::<Vec<_>>(), [("other", 1), ("proj", 5)]);
}
