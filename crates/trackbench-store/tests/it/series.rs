//! Metric series: no point lost, exact values, summaries, chunking, ranges, downsampling.

use proptest::prelude::*;
use trackbench_store::{Batch, Points, RunStatus, StepRange};

use crate::util::{T0, store};

fn pts(v: &[(i64, f64)]) -> Points {
    let mut p = Points::default();
    for (i, (s, x)) in v.iter().enumerate() {
        p.push(*s, T0 + i as i64, *x);
    }
    p
}

#[test]
fn duplicate_steps_are_all_kept_in_logging_order() {
    let mut t = store();
    let run = t.run("p", "r");
    t.store.log_metric_points(&run, "loss", pts(&[(0, 1.0), (1, 2.0), (1, 3.0)])).unwrap();
    t.store.log_metric_points(&run, "loss", pts(&[(1, 4.0), (0, 5.0)])).unwrap();
    let s = t.store.series(&run, "loss", StepRange::ALL).unwrap();
    assert_eq!(s.steps, vec![0, 0, 1, 1, 1]);
    assert_eq!(s.values, vec![1.0, 5.0, 2.0, 3.0, 4.0]);
    let sum = &t.store.metric_summaries(&run).unwrap()[0];
    assert_eq!((sum.count, sum.last_step, sum.last), (5, 1, 4.0), "last = later-logged point at the greatest step");
}

#[test]
fn nan_and_infinities_round_trip_and_summaries_ignore_nan() {
    let mut t = store();
    let run = t.run("p", "r");
    let odd_nan = f64::from_bits(0x7ff8_0000_0000_1234);
    let values = [1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, odd_nan];
    let v: Vec<(i64, f64)> = values.iter().enumerate().map(|(i, x)| (i as i64, *x)).collect();
    t.store.log_metric_points(&run, "x", pts(&v)).unwrap();
    let s = t.store.series(&run, "x", StepRange::ALL).unwrap();
    for (a, b) in s.values.iter().zip(values) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    let sum = &t.store.metric_summaries(&run).unwrap()[0];
    assert_eq!(sum.nan_count, 2);
    assert_eq!(sum.min, Some(f64::NEG_INFINITY));
    assert_eq!(sum.max, Some(f64::INFINITY));
    assert!(sum.last.is_nan(), "last value is the NaN at step 5");
    // A series of only NaN has no min/max but a NaN last.
    t.store.log_metric_points(&run, "allnan", pts(&[(0, f64::NAN)])).unwrap();
    let s = t.store.metric_summaries(&run).unwrap();
    let allnan = s.iter().find(|s| s.key == "allnan").unwrap();
    assert_eq!((allnan.min, allnan.max, allnan.last.is_nan()), (None, None, true));
}

#[test]
fn unicode_and_odd_keys_round_trip_and_bad_keys_are_refused() {
    let mut t = store();
    let run = t.run("p", "r");
    let mut b = Batch::default();
    for k in ["損失/train", "acc@1", "a b.c", "ключ", "🚀"] {
        b.push_metric(k, 0, T0, 1.0);
    }
    b.push_metric("", 0, T0, 1.0);
    b.push_metric("bad\nkey", 0, T0, 1.0);
    b.push_metric(&"k".repeat(300), 0, T0, 1.0);
    let report = t.store.log_batch(&run, &b).unwrap();
    assert_eq!(report.points, 5);
    assert_eq!(report.rejected.len(), 3, "{report:?}");
    let keys = t.store.metric_keys(&run).unwrap();
    assert_eq!(keys, vec!["a b.c", "acc@1", "ключ", "損失/train", "🚀"]);
}

#[test]
fn small_flushes_merge_into_full_chunks() {
    let mut t = store();
    let run = t.run("p", "r");
    for i in 0..1000 {
        t.store.log_metric_points(&run, "loss", pts(&[(2 * i, i as f64), (2 * i + 1, -(i as f64))])).unwrap();
    }
    let h = t.store.health().unwrap();
    assert_eq!(h.metric_points, 2000);
    assert!(h.metric_chunks <= 24, "1000 flushes of 2 points leave {} chunks (tiered merging)", h.metric_chunks);
    let s = t.store.series(&run, "loss", StepRange::ALL).unwrap();
    assert_eq!(s.len(), 2000);
    assert_eq!(s.steps, (0..2000).collect::<Vec<_>>());
    t.store.finish_run(&run, trackbench_store::RunStatus::Finished, None).unwrap();
    assert_eq!(t.store.health().unwrap().metric_chunks, 1, "finishing compacts into full chunks");
    assert!(t.store.series(&run, "loss", StepRange::ALL).unwrap().bit_eq(&s));
    // A big flush spills into several chunks.
    let big: Vec<(i64, f64)> = (2000..20_000).map(|i| (i, i as f64)).collect();
    t.store.log_metric_points(&run, "loss", pts(&big)).unwrap();
    assert_eq!(t.store.series(&run, "loss", StepRange::ALL).unwrap().len(), 20_000);
    assert!(t.store.health().unwrap().metric_chunks >= 5);
}

#[test]
fn step_ranges_select_points() {
    let mut t = store();
    let run = t.run("p", "r");
    let v: Vec<(i64, f64)> = (0..10_000).map(|i| (i, i as f64)).collect();
    t.store.log_metric_points(&run, "x", pts(&v)).unwrap();
    let s = t.store.series(&run, "x", StepRange { min: Some(4090), max: Some(4100) }).unwrap();
    assert_eq!(s.steps, (4090..=4100).collect::<Vec<_>>());
    assert!(t.store.series(&run, "nope", StepRange::ALL).unwrap().is_empty());
}

#[test]
fn downsampling_keeps_every_extreme() {
    let mut t = store();
    let run = t.run("p", "r");
    let mut v: Vec<(i64, f64)> = (0..100_000).map(|i| (i, (i as f64 * 0.01).sin())).collect();
    v[31_337].1 = 1e9;
    v[77_777].1 = -1e9;
    v[50_000].1 = f64::NAN;
    t.store.log_metric_points(&run, "x", pts(&v)).unwrap();
    let b = t.store.downsample(&run, "x", StepRange::ALL, 100).unwrap();
    assert_eq!(b.len(), 100);
    assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 100_000);
    assert!(b.iter().any(|b| b.max == Some(1e9)));
    assert!(b.iter().any(|b| b.min == Some(-1e9)));
    assert_eq!(b.last().unwrap().last_step, 99_999);
}

#[test]
fn a_stale_heartbeat_reads_as_crashed() {
    let mut t = store();
    let run = t.run("p", "r");
    assert_eq!(t.store.run(&run).unwrap().status, RunStatus::Running);
    t.advance(t.store.options().heartbeat_timeout_ms + 1);
    assert_eq!(t.store.run(&run).unwrap().status, RunStatus::Crashed);
    t.store.heartbeat(&run, trackbench_store::now_ms().max(crate::util::T0 + 10_000_000)).unwrap();
    t.store.finish_run(&run, RunStatus::Finished, None).unwrap();
    assert_eq!(t.store.run(&run).unwrap().status, RunStatus::Finished);
}

#[test]
fn params_are_typed_and_write_once() {
    let mut t = store();
    let run = t.run("p", "r");
    let r = t
        .store
        .log_params(
            &run,
            vec![
                ("lr".into(), serde_json::json!(0.01)),
                ("model.depth".into(), serde_json::json!(4)),
                ("opt".into(), serde_json::json!("adam")),
                ("dims".into(), serde_json::json!([64, 64])),
            ],
        )
        .unwrap();
    assert_eq!(r.params, 4);
    let again = t.store.log_params(&run, vec![("lr".into(), serde_json::json!(0.01))]).unwrap();
    assert!(again.rejected.is_empty(), "same value again is a no-op");
    let changed = t.store.log_params(&run, vec![("lr".into(), serde_json::json!(0.1))]).unwrap();
    assert_eq!(changed.rejected.len(), 1);
    assert!(changed.rejected[0].reason.contains("write-once"));
    let p = t.store.params(&run).unwrap();
    assert_eq!(p[2], ("model.depth".into(), serde_json::json!(4)));
    assert_eq!(p[1], ("lr".into(), serde_json::json!(0.01)));
}

/// (count, min, max, first step, last step, bits of last) per non-empty bucket, by brute force.
type B = (u64, Option<f64>, Option<f64>, i64, i64, u64);

fn brute_buckets(v: &[(i64, f64)], n: usize, lo: i64, hi: i64) -> Vec<B> {
    let span = (hi - lo + 1) as i128;
    let mut out: Vec<Option<B>> = vec![None; n];
    for (s, x) in v.iter().filter(|(s, _)| *s >= lo && *s <= hi) {
        let i = ((*s - lo) as i128 * n as i128 / span) as usize;
        let b = out[i].get_or_insert((0, None, None, i64::MAX, i64::MIN, 0));
        b.0 += 1;
        if !x.is_nan() {
            b.1 = Some(b.1.map_or(*x, |m: f64| m.min(*x)));
            b.2 = Some(b.2.map_or(*x, |m: f64| m.max(*x)));
        }
        b.3 = b.3.min(*s);
        if *s >= b.4 {
            b.4 = *s;
            b.5 = x.to_bits();
        }
    }
    out.into_iter().flatten().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn downsample_matches_brute_force(
        flushes in proptest::collection::vec(proptest::collection::vec((0i64..20_000, prop_oneof![9 => -1e6f64..1e6, 1 => Just(f64::NAN)]), 1..3000), 1..4),
        n in 1usize..300,
        sorted_steps in any::<bool>(),
        cut in proptest::option::of((0i64..20_000, 0i64..20_000)),
    ) {
        let mut t = store();
        let run = t.run("p", "r");
        let mut all = Vec::new();
        for f in &flushes {
            let mut f = f.clone();
            if sorted_steps {
                f.sort_by_key(|p| p.0);
            }
            t.store.log_metric_points(&run, "x", pts(&f)).unwrap();
            all.extend_from_slice(&f);
        }
        let (range, lo, hi) = match cut {
            Some((a, b)) => (StepRange { min: Some(a.min(b)), max: Some(a.max(b)) }, a.min(b), a.max(b)),
            None => (StepRange::ALL, all.iter().map(|p| p.0).min().unwrap(), all.iter().map(|p| p.0).max().unwrap()),
        };
        let got: Vec<B> = t.store.downsample(&run, "x", range, n).unwrap().into_iter()
            .map(|b| (b.count, b.min, b.max, b.first_step, b.last_step, b.last.to_bits())).collect();
        prop_assert_eq!(got, brute_buckets(&all, n, lo, hi));
        let series = t.store.series(&run, "x", StepRange::ALL).unwrap();
        prop_assert_eq!(series.len(), all.len());
        let mut sorted = all.clone();
        sorted.sort_by_key(|p| p.0);
        prop_assert_eq!(series.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), sorted.iter().map(|p| p.1.to_bits()).collect::<Vec<_>>());
        let ranged = t.store.series(&run, "x", range).unwrap();
        prop_assert_eq!(ranged.steps, sorted.iter().map(|p| p.0).filter(|s| *s >= lo && *s <= hi).collect::<Vec<_>>());
    }
}

#[test]
fn a_full_disk_fails_the_batch_whole_and_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let opts = trackbench_store::StoreOptions { max_db_bytes: Some(400 * 1024), ..Default::default() };
    let mut s = trackbench_store::Store::open(dir.path(), opts).unwrap();
    let run = s.create_run(&trackbench_store::NewRun { project: "p".into(), ..Default::default() }).unwrap().id;
    let mut stored = 0usize;
    let err = loop {
        // Noisy values compress badly, so the cap is reached quickly.
        let v: Vec<(i64, f64)> = (0..5000)
            .map(|i| {
                (
                    stored as i64 + i,
                    f64::from_bits(0x3ff0_0000_0000_0000 ^ ((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 12)),
                )
            })
            .collect();
        match s.log_metric_points(&run, "x", pts(&v)) {
            Ok(_) => stored += v.len(),
            Err(e) => break e,
        }
        assert!(stored < 10_000_000, "the cap never hit");
    };
    assert!(err.is_disk_full(), "{err}");
    assert!(stored > 0);
    drop(s);
    let mut s = trackbench_store::Store::open(dir.path(), Default::default()).unwrap();
    assert_eq!(s.health().unwrap().integrity, "ok");
    let p = s.series(&run, "x", StepRange::ALL).unwrap();
    assert_eq!(p.len(), stored, "every batch before the failure, none of the failed one");
    assert_eq!(s.metric_summaries(&run).unwrap()[0].count as usize, stored);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// Many flushes of random sizes (merging and tiered compaction at work) never lose,
    /// reorder or alter a point, before and after the run is finished (compacted).
    #[test]
    fn any_flush_pattern_keeps_every_point_in_order(sizes in proptest::collection::vec(1usize..300, 1..120), seed in any::<u64>()) {
        let mut t = store();
        let run = t.run("p", "r");
        let mut expect = Points::default();
        let mut x = seed | 1;
        let mut step = 0i64;
        for n in sizes {
            let mut p = Points::default();
            for _ in 0..n {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                let v = f64::from_bits(x);
                p.push(step, T0 + step, v);
                expect.push(step, T0 + step, v);
                step += 1;
            }
            t.store.log_metric_points(&run, "x", p).unwrap();
        }
        prop_assert!(t.store.series(&run, "x", StepRange::ALL).unwrap().bit_eq(&expect));
        t.store.finish_run(&run, RunStatus::Finished, None).unwrap();
        prop_assert!(t.store.series(&run, "x", StepRange::ALL).unwrap().bit_eq(&expect));
        prop_assert_eq!(t.store.metric_summaries(&run).unwrap()[0].count as usize, expect.len());
    }
}
