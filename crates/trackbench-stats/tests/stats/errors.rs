//! Inputs that cannot give an answer get a precise error, never a panic or a NaN.

use trackbench_stats::{
    Direction, Group, MAX_RESAMPLES, StatsError, bootstrap_diff_ci, compare, describe, hedges_g, mann_whitney, welch,
};

/// Runs every two-group entry point on (a, b) and checks each returns `expect`.
fn check(a: &[f64], b: &[f64], expect: StatsError) {
    let got = [
        ("welch", welch(a, b, 0.95).err()),
        ("bootstrap_diff_ci", bootstrap_diff_ci(a, b, 0.95, 100, 1).err()),
        ("mann_whitney", mann_whitney(a, b).err()),
        ("hedges_g", hedges_g(a, b).err()),
        ("compare", compare(a, b, Direction::Maximize, 0.95, 1).err()),
    ];
    for (name, err) in got {
        assert_eq!(err.as_ref(), Some(&expect), "{name}({a:?}, {b:?})");
    }
}

fn too_few(group: Group, n: usize, excluded_nan: usize) -> StatsError {
    StatsError::TooFewValues { group, n, needed: 2, excluded_nan }
}

#[test]
fn too_few_values() {
    let nan = f64::NAN;
    check(&[], &[1.0, 2.0], too_few(Group::A, 0, 0));
    check(&[1.0], &[1.0, 2.0], too_few(Group::A, 1, 0));
    check(&[1.0, 2.0], &[3.0], too_few(Group::B, 1, 0));
    check(&[1.0, nan, nan], &[1.0, 2.0], too_few(Group::A, 1, 2));
    check(&[1.0, 2.0], &[nan, nan], too_few(Group::B, 0, 2));
    // A is checked first.
    check(&[1.0], &[2.0], too_few(Group::A, 1, 0));
}

#[test]
fn infinite_values() {
    let inf = f64::INFINITY;
    check(&[1.0, inf], &[1.0, 2.0], StatsError::InfiniteValue { group: Group::A, index: 1 });
    check(&[1.0, 2.0], &[f64::NAN, -inf, 3.0], StatsError::InfiniteValue { group: Group::B, index: 1 });
    assert_eq!(describe(&[inf]), Err(StatsError::InfiniteValue { group: Group::Sample, index: 0 }));
}

#[test]
fn invalid_confidence() {
    let (a, b) = ([1.0, 2.0], [3.0, 4.0]);
    for c in [0.0, 1.0, -0.5, 95.0, f64::NAN, f64::INFINITY] {
        let is_invalid = |e: Option<StatsError>| matches!(e, Some(StatsError::InvalidConfidence(_)));
        assert!(is_invalid(welch(&a, &b, c).err()), "welch at {c}");
        assert!(is_invalid(bootstrap_diff_ci(&a, &b, c, 100, 1).err()), "bootstrap at {c}");
        assert!(is_invalid(compare(&a, &b, Direction::Minimize, c, 1).err()), "compare at {c}");
    }
}

#[test]
fn invalid_resamples() {
    let (a, b) = ([1.0, 2.0], [3.0, 4.0]);
    for resamples in [0, MAX_RESAMPLES + 1, usize::MAX] {
        assert_eq!(
            bootstrap_diff_ci(&a, &b, 0.95, resamples, 1),
            Err(StatsError::InvalidResamples { resamples, max: MAX_RESAMPLES })
        );
    }
}

#[test]
fn zero_variance_effect_size() {
    assert_eq!(hedges_g(&[0.5, 0.5], &[0.75, 0.75, 0.75]), Err(StatsError::ZeroVariance));
    assert_eq!(hedges_g(&[0.5, 0.5], &[0.5, 0.5]), Err(StatsError::ZeroVariance));
    // One constant group is fine.
    assert!(hedges_g(&[0.5, 0.5], &[0.7, 0.8]).unwrap() > 0.0);
}

#[test]
fn errors_read_well() {
    let check = |e: StatsError, expect: &str| assert_eq!(e.to_string(), expect);
    check(too_few(Group::B, 1, 2), "group B has 1 usable value(s) (2 NaN excluded); at least 2 are needed");
    check(StatsError::InfiniteValue { group: Group::A, index: 3 }, "group A has an infinite value at index 3");
    check(StatsError::InvalidConfidence(95.0), "confidence must be strictly between 0 and 1 (e.g. 0.95), got 95");
}
