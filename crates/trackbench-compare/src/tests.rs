//! Tests against a real store in a temp folder: selection, diff, summary table, alignment on
//! the three axes, grouping math (against numbers worked out by hand and scipy's t quantiles)
//! and the whole report.

use std::sync::Arc;

use serde_json::{Value, json};
use trackbench_store::{Batch, NewRun, RunInfo, Store, StoreError, StoreOptions};

use crate::*;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions { clock: Arc::new(|| 1_000_000), ..StoreOptions::default() };
    let store = Store::open(dir.path(), opts).unwrap();
    Fixture { _dir: dir, store }
}

/// A point: (metric, step, wall ms, value).
type Point<'a> = (&'a str, i64, i64, f64);

impl Fixture {
    fn run(&mut self, name: &str, group: Option<&str>, params: &[(&str, Value)], points: &[Point]) -> RunInfo {
        let new = NewRun {
            project: "p".into(),
            name: Some(name.into()),
            group: group.map(Into::into),
            created_ms: Some(1_000),
            ..NewRun::default()
        };
        let run = self.store.create_run(&new).unwrap();
        let mut batch =
            Batch { params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), ..Batch::default() };
        for &(key, step, wall, v) in points {
            batch.push_metric(key, step, wall, v);
        }
        let report = self.store.log_batch(&run.id, &batch).unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        self.store.run(&run.id).unwrap()
    }
}

/// `(metric, step, 1000 + 10 * step, v)` for each value.
fn steps<'a>(metric: &'a str, values: &[(i64, f64)]) -> Vec<Point<'a>> {
    values.iter().map(|&(s, v)| (metric, s, 1_000 + 10 * s, v)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn names(runs: &[RunInfo]) -> Vec<&str> {
    runs.iter().map(|r| r.name.as_str()).collect()
}

#[test]
fn selections_resolve_ids_filters_and_groups() {
    let mut f = fixture();
    let a = f.run("a", Some("base"), &[("lr", json!(0.01))], &[]);
    f.run("b", Some("base"), &[("lr", json!(0.1))], &[]);
    f.run("c", None, &[("lr", json!(0.01))], &[]);

    let ids = Selection::Ids(vec!["c".into(), a.id[..6].to_string(), a.id.clone()]);
    assert_eq!(names(&ids.resolve(&f.store).unwrap()), ["c", "a"], "order kept, duplicates once");
    let filter = Selection::Filter { project: Some("p".into()), filter: Some("params.lr = 0.01".into()) };
    assert_eq!(names(&filter.resolve(&f.store).unwrap()).len(), 2);
    let group = Selection::Group { project: None, group: "base".into() };
    let mut in_group = names(&group.resolve(&f.store).unwrap()).into_iter().map(String::from).collect::<Vec<_>>();
    in_group.sort();
    assert_eq!(in_group, ["a", "b"]);
    assert!(Selection::Filter { project: Some("nope".into()), filter: None }.resolve(&f.store).unwrap().is_empty());

    let unknown = Selection::Ids(vec!["zzzz-nothing".into()]).resolve(&f.store);
    assert!(matches!(unknown, Err(CompareError::Store(StoreError::RunNotFound(_)))), "{unknown:?}");
    let bad = Selection::Filter { project: None, filter: Some("params.lr >> 1".into()) }.resolve(&f.store);
    assert!(matches!(bad, Err(CompareError::Store(StoreError::Filter(_)))), "{bad:?}");
}

#[test]
fn param_diff_reads_the_store() {
    let mut f = fixture();
    let a = f.run("a", None, &[("lr", json!(0.01)), ("opt", json!("adam")), ("seed", json!(1))], &[]);
    let b = f.run("b", None, &[("lr", json!("0.01")), ("opt", json!("adam"))], &[]);
    let d = param_diff(&f.store, &[a.clone(), b.clone()]).unwrap();
    assert_eq!(d.runs, [a.id, b.id]);
    assert_eq!((d.differing[0].key.as_str(), d.differing[0].numeric_equal), ("lr", true));
    assert_eq!(d.equal[0].key, "opt");
    assert_eq!(d.missing[0].values, [Some(json!(1)), None]);
}

#[test]
fn summary_table_picks_best_by_direction() {
    let mut f = fixture();
    let a = f.run("a", None, &[], &steps("loss", &[(0, 3.0), (1, 1.0), (2, 2.0)]));
    let b = f.run("b", None, &[], &steps("loss", &[(0, 5.0), (1, f64::NAN)]));
    let c = f.run("c", None, &[], &steps("acc", &[(0, 0.5)]));
    let runs = [a, b, c];
    let rows = summary_table(&f.store, &runs, "loss", Direction::Minimize).unwrap();
    assert_eq!(
        (rows[0].last, rows[0].last_step, rows[0].min, rows[0].max, rows[0].best, rows[0].count),
        (Some(2.0), Some(2), Some(1.0), Some(3.0), Some(1.0), 3)
    );
    assert!(rows[1].last.unwrap().is_nan());
    assert_eq!((rows[1].best, rows[1].nan_count), (Some(5.0), 1));
    assert_eq!((rows[2].last, rows[2].best, rows[2].count), (None, None, 0));
    let rows = summary_table(&f.store, &runs, "loss", Direction::Maximize).unwrap();
    assert_eq!(rows[0].best, Some(3.0));
    let json = serde_json::to_value(&rows[1]).unwrap();
    assert_eq!(json["last"], "NaN");
}

#[test]
fn aligned_on_steps_downsamples_in_the_store() {
    let mut f = fixture();
    let values: Vec<(i64, f64)> = (0..10).map(|s| (s, s as f64 * 10.0)).collect();
    let a = f.run("a", None, &[], &steps("acc", &values));
    let none = f.run("none", None, &[], &[]);
    let runs = [a.clone(), none];

    let full = aligned(&mut f.store, &runs, "acc", AxisKind::Step, 100).unwrap();
    assert_eq!(full[0].x, (0..10).collect::<Vec<_>>());
    assert_eq!(full[0].y, values.iter().map(|v| v.1).collect::<Vec<_>>());
    assert_eq!((full[0].points, full[0].run.as_str(), full[0].axis), (10, a.id.as_str(), AxisKind::Step));
    assert!(full[1].x.is_empty() && full[1].points == 0, "a run without the metric has an empty series");

    let two = aligned(&mut f.store, &runs[..1], "acc", AxisKind::Step, 2).unwrap();
    assert_eq!(two[0].x, [4, 9]);
    assert_eq!(two[0].y, [40.0, 90.0]);
    assert_eq!(two[0].min, [Some(0.0), Some(50.0)]);
    assert_eq!(two[0].max, [Some(40.0), Some(90.0)]);
    assert_eq!(two[0].count, [5, 5]);
}

#[test]
fn aligned_on_time_axes_buckets_by_wall_time() {
    let mut f = fixture();
    // Steps in order, wall times not: a resumed run whose clock went back.
    let a = f.run(
        "a",
        None,
        &[],
        &[("m", 0, 1_050, 1.0), ("m", 1, 1_010, 2.0), ("m", 2, 1_030, f64::NAN), ("m", 3, 1_030, 4.0)],
    );
    let runs = [a];
    let wall = aligned(&mut f.store, &runs, "m", AxisKind::WallTime, 100).unwrap();
    assert_eq!(wall[0].x, [1_010, 1_030, 1_050]);
    assert_eq!(wall[0].y, [2.0, 4.0, 1.0], "on equal times the later step is last");
    assert_eq!(wall[0].count, [1, 2, 1]);
    assert_eq!(wall[0].min, [Some(2.0), Some(4.0), Some(1.0)], "NaN is not a minimum");

    let relative = aligned(&mut f.store, &runs, "m", AxisKind::RelativeTime, 100).unwrap();
    assert_eq!(relative[0].x, [10, 30, 50], "milliseconds since the run started at 1000");
    assert_eq!(relative[0].axis, AxisKind::RelativeTime);

    // Two buckets over 1010..=1050 (41 ms): 1010 and 1030 share the first.
    let two = aligned(&mut f.store, &runs, "m", AxisKind::RelativeTime, 2).unwrap();
    assert_eq!(two[0].x, [30, 50]);
    assert_eq!(two[0].y, [4.0, 1.0]);
    assert_eq!((two[0].min[0], two[0].max[0], two[0].count[0]), (Some(2.0), Some(4.0), 3));

    let nan_only = f.run("n", None, &[], &[("m", 0, 1_000, f64::NAN)]);
    let out = aligned(&mut f.store, &[nan_only], "m", AxisKind::WallTime, 10).unwrap();
    assert!(out[0].y[0].is_nan());
    assert_eq!(out[0].min, [None]);
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["y"], json!(["NaN"]));
    assert_eq!(json["axis"], "wall_time");
    assert_eq!(AxisKind::parse("relative"), Some(AxisKind::RelativeTime));
    assert_eq!(AxisKind::parse("wall-time"), Some(AxisKind::WallTime));
    assert_eq!(AxisKind::parse("epoch"), None);
}

#[test]
fn mean_ci_is_the_one_sample_t_interval() {
    // scipy.stats.t.ppf(0.975, 3) = 3.182446305284263
    let s = mean_ci(&[1.0, 2.0, 3.0, 4.0], 0.95);
    let half = 3.182446305284263 * (5.0f64 / 3.0).sqrt() / 2.0;
    assert_eq!((s.n, s.mean), (4, Some(2.5)));
    assert!(close(s.std.unwrap(), (5.0f64 / 3.0).sqrt()));
    assert!(close(s.ci_low.unwrap(), 2.5 - half) && close(s.ci_high.unwrap(), 2.5 + half), "{s:?}");
    assert_eq!(s.note, None);

    let one = mean_ci(&[f64::NAN, 0.7], 0.95);
    assert_eq!((one.n, one.mean, one.std, one.ci_low), (1, Some(0.7), None, None));
    let note = one.note.unwrap();
    assert!(note.contains("1 NaN") && note.contains("one run"), "{note}");

    let flat = mean_ci(&[2.0, 2.0, 2.0], 0.95);
    assert_eq!((flat.ci_low, flat.ci_high, flat.std), (Some(2.0), Some(2.0), Some(0.0)));
    assert!(flat.note.unwrap().contains("equal"));

    let none = mean_ci(&[f64::NAN], 0.95);
    assert_eq!((none.n, none.mean), (0, None));
    assert!(mean_ci(&[], 0.95).note.is_some());
    let inf = mean_ci(&[1.0, f64::INFINITY], 0.95);
    assert_eq!((inf.n, inf.mean), (1, None));
    assert!(inf.note.unwrap().contains("infinite"));
}

#[test]
fn grouped_by_param_aggregates_steps_and_finals() {
    let mut f = fixture();
    let r1 = f.run("r1", None, &[("bs", json!(32))], &steps("acc", &[(0, 1.0), (1, 2.0), (2, 3.0)]));
    let r2 = f.run("r2", None, &[("bs", json!(32.0))], &steps("acc", &[(0, 2.0), (1, 4.0), (2, 6.0)]));
    let r3 = f.run("r3", None, &[("bs", json!(32))], &steps("acc", &[(0, 3.0), (2, 9.0)]));
    let r4 = f.run("r4", None, &[("bs", json!(64))], &steps("acc", &[(0, 5.0), (1, f64::NAN), (2, 7.0)]));
    let r5 = f.run("r5", None, &[("bs", json!(64))], &steps("acc", &[(0, 1.0), (1, 3.0)]));
    let r6 = f.run("r6", None, &[], &[]);
    // Shuffled input: groups still come out by value, members in input order.
    let runs = [r4.clone(), r1.clone(), r6.clone(), r2.clone(), r5.clone(), r3.clone()];
    let groups = grouped(&mut f.store, &runs, &GroupBy::Param("bs".into()), "acc", Direction::Maximize, 100).unwrap();
    let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(labels, ["32", "64", "(none)"]);

    let g = &groups[0];
    assert_eq!(g.runs, [r1.id.clone(), r2.id.clone(), r3.id.clone()]);
    assert_eq!(g.series.steps, [0, 1, 2]);
    assert_eq!(g.series.n, [3, 2, 3]);
    assert_eq!(g.series.mean, [2.0, 3.0, 6.0]);
    assert_eq!(g.series.std, [Some(1.0), Some(2f64.sqrt()), Some(3.0)]);
    assert_eq!((g.series.min.clone(), g.series.max.clone()), (vec![1.0, 2.0, 3.0], vec![3.0, 4.0, 9.0]));
    // Finals 3, 6, 9: mean 6, std 3, CI 6 ± t(0.975, 2) * 3 / sqrt(3); scipy: t = 4.302652729749464.
    let half = 4.302652729749464 * 3.0 / 3f64.sqrt();
    assert_eq!((g.final_value.n, g.final_value.mean, g.final_value.std), (3, Some(6.0), Some(3.0)));
    assert!(close(g.final_value.ci_low.unwrap(), 6.0 - half) && close(g.final_value.ci_high.unwrap(), 6.0 + half));
    assert_eq!(g.best.mean, Some(6.0));

    let g = &groups[1];
    assert_eq!(g.runs, [r4.id.clone(), r5.id.clone()]);
    assert_eq!(g.series.n, [2, 1, 1], "NaN at step 1 does not contribute");
    assert_eq!(g.series.mean, [3.0, 3.0, 7.0]);
    assert_eq!(g.series.std, [Some(8f64.sqrt()), None, None]);
    // Finals 7 and 3; scipy: t.ppf(0.975, 1) = 12.706204736174694.
    let half = 12.706204736174694 * 8f64.sqrt() / 2f64.sqrt();
    assert!(close(g.final_value.ci_low.unwrap(), 5.0 - half) && close(g.final_value.ci_high.unwrap(), 5.0 + half));

    let g = &groups[2];
    assert_eq!(
        (g.value.clone(), g.runs.clone(), g.without_metric.clone()),
        (None, vec![r6.id.clone()], vec![r6.id.clone()])
    );
    assert_eq!((g.final_value.n, g.final_value.mean), (0, None));
    assert!(g.series.steps.is_empty());

    let min = grouped(&mut f.store, &runs, &GroupBy::Param("bs".into()), "acc", Direction::Minimize, 100).unwrap();
    assert_eq!(min[0].best.mean, Some(2.0), "best of each run is its min: 1, 2, 3");
    let json = serde_json::to_value(&min[0]).unwrap();
    assert_eq!(json["final"]["mean"], 6.0);
    assert_eq!(json["series"]["std"][1], 2f64.sqrt());
}

#[test]
fn grouped_by_group_on_a_coarse_step_grid() {
    let mut f = fixture();
    let up: Vec<(i64, f64)> = (0..10).map(|s| (s, s as f64)).collect();
    let double: Vec<(i64, f64)> = (0..10).map(|s| (s, 2.0 * s as f64)).collect();
    let a = f.run("a", Some("seeds"), &[], &steps("loss", &up));
    let b = f.run("b", Some("seeds"), &[], &steps("loss", &double));
    let c = f.run("c", Some("other"), &[], &steps("loss", &[(20, 1.0)]));
    let groups = grouped(&mut f.store, &[a, b, c], &GroupBy::Group, "loss", Direction::Minimize, 3).unwrap();
    assert_eq!(groups.iter().map(|g| g.label.as_str()).collect::<Vec<_>>(), ["other", "seeds"]);
    // One grid over steps 0..=20 in 3 buckets of 7 steps: 0..=6, 7..=13, 14..=20.
    let seeds = &groups[1].series;
    assert_eq!(seeds.steps, [6, 9]);
    assert_eq!(seeds.mean, [9.0, 13.5]);
    assert_eq!(groups[0].series.steps, [20]);
    assert_eq!(groups[1].best.mean, Some(0.0));
}

#[test]
fn group_by_parses() {
    assert_eq!(GroupBy::parse("params.lr").unwrap(), GroupBy::Param("lr".into()));
    assert_eq!(GroupBy::parse("param.a.b").unwrap(), GroupBy::Param("a.b".into()));
    assert_eq!(GroupBy::parse("group").unwrap(), GroupBy::Group);
    assert!(matches!(GroupBy::parse("metrics.acc"), Err(CompareError::Invalid { .. })));
    assert!(GroupBy::parse("params.").is_err());
    assert_eq!(GroupBy::Param("lr".into()).label(), "params.lr");
}

#[test]
fn report_puts_it_together() {
    let mut f = fixture();
    let mut pa = steps("loss", &[(0, 2.0), (1, 1.0)]);
    pa.extend(steps("acc", &[(0, 0.5)]));
    pa.push(("sys/gpu", 0, 1_000, 50.0));
    let a = f.run("a", None, &[("lr", json!(0.1)), ("opt", json!("adam"))], &pa);
    let mut pb = steps("loss", &[(0, 3.0)]);
    pb.push(("sys/gpu", 0, 1_000, 60.0));
    let b = f.run("b", None, &[("lr", json!(0.2)), ("opt", json!("adam"))], &pb);
    let runs = [a, b];

    let r = report(&mut f.store, &runs, &ReportOptions::default()).unwrap();
    assert_eq!(r.runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(r.params.differing.len(), 1);
    let keys: Vec<&str> = r.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(keys, ["loss"], "only metrics every run has, system metrics left out");
    assert_eq!((r.metrics[0].direction, r.metrics[0].direction_guessed), (Direction::Minimize, true));
    assert_eq!(r.metrics[0].rows[0].best, Some(1.0));
    assert!(r.grouped.is_empty());

    let opts = ReportOptions {
        metrics: Some(vec!["acc".into(), "sys/gpu".into()]),
        direction: Some(Direction::Minimize),
        group_by: Some(GroupBy::Param("opt".into())),
        ..ReportOptions::default()
    };
    let r = report(&mut f.store, &runs, &opts).unwrap();
    assert_eq!(r.metrics.len(), 2);
    assert_eq!(r.metrics[0].rows[1].count, 0);
    assert_eq!(r.grouped.len(), 2);
    assert_eq!(r.grouped[1].groups[0].final_value.mean, Some(55.0));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["grouped"][0]["group_by"], "params.opt");
    assert_eq!(json["metrics"][0]["direction"], "minimize");

    let missing = ReportOptions { metrics: Some(vec!["nope".into()]), ..ReportOptions::default() };
    assert!(matches!(report(&mut f.store, &runs, &missing), Err(CompareError::MetricNotFound(k)) if k == "nope"));
}
