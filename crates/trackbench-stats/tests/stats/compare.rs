//! The A/B comparison: verdicts in plain words for each direction and the degenerate cases,
//! and agreement with the standalone functions.

use trackbench_stats::{Comparison, Direction, Outcome, bootstrap_diff_ci, compare, hedges_g, mann_whitney, welch};

use crate::reference::{group, reference};

fn run(a: &[f64], b: &[f64], direction: Direction) -> Comparison {
    compare(a, b, direction, 0.95, 11).unwrap()
}

use Direction::{Maximize, Minimize};
use Outcome::{ABetter, BBetter, NoDetectableDifference};

/// (reference case, direction, outcome, verdict)
const VERDICTS: &[(&str, Direction, Outcome, &str)] = &[
    (
        "typical_5_seeds",
        Maximize,
        BBetter,
        "B is better than A by 0.022 (95% CI 0.0082 to 0.035), p = 0.0061 (Welch), 5 seeds each",
    ),
    (
        "typical_5_seeds",
        Minimize,
        ABetter,
        "A is better than B by 0.022 (95% CI 0.0082 to 0.035), p = 0.0061 (Welch), 5 seeds each",
    ),
    (
        "typical_5_seeds_loss",
        Minimize,
        BBetter,
        "B is better than A by 0.054 (95% CI 0.0046 to 0.10), p = 0.036 (Welch), 5 seeds each",
    ),
    (
        "typical_no_difference",
        Maximize,
        NoDetectableDifference,
        "no detectable difference between A and B (p = 0.64, 95% CI for B - A -0.023 to 0.035, \
         5 seeds each); about 168 seeds per arm would be needed to detect a difference of 0.0061",
    ),
    (
        "exact_8_vs_8",
        Maximize,
        NoDetectableDifference,
        "no detectable difference between A and B (p = 0.055, 95% CI for B - A -0.0016 to 0.14, \
         8 seeds each); about 16 seeds per arm would be needed to detect a difference of 0.071",
    ),
    (
        "zero_variance_b",
        Maximize,
        ABetter,
        "A is better than B by 0.026 (95% CI 0.010 to 0.043), p = 0.011 (Welch), 5 seeds for A, \
         3 for B",
    ),
    (
        "identical_groups",
        Maximize,
        NoDetectableDifference,
        "no detectable difference between A and B (p = 1, 95% CI for B - A -0.038 to 0.038, \
         4 seeds each); the means are identical",
    ),
    (
        "all_tied",
        Minimize,
        NoDetectableDifference,
        "no detectable difference between A and B: every seed of both gave 0.9 (4 seeds each)",
    ),
    (
        "zero_variance_both_differ",
        Minimize,
        ABetter,
        "A is better than B by 0.25 (every seed of A gave 0.5, every seed of B 0.75: with no \
         variance p = 0 by convention), 3 seeds each",
    ),
    (
        "large_50_vs_60_ties",
        Maximize,
        BBetter,
        "B is better than A by 0.0083 (95% CI 0.00073 to 0.016), p = 0.032 (Welch), 50 seeds \
         for A, 60 for B",
    ),
    (
        "huge_outlier",
        Maximize,
        NoDetectableDifference,
        "no detectable difference between A and B (p = 0.37, 95% CI for B - A -20 to 43, 5 seeds \
         each); about 41 seeds per arm would be needed to detect a difference of 11",
    ),
    (
        "tiny_scale",
        Maximize,
        BBetter,
        "B is better than A by 7.7e-10 (95% CI 3.6e-10 to 1.2e-9), p = 0.0048 (Welch), 4 seeds \
         each",
    ),
];

#[test]
fn verdicts_on_reference_cases() {
    let r = reference();
    let cases = r["cases"].as_array().unwrap();
    for &(name, direction, outcome, verdict) in VERDICTS {
        let case = cases.iter().find(|c| c["name"] == name).unwrap();
        let cmp =
            compare(&group(case, "a"), &group(case, "b"), direction, case["confidence"].as_f64().unwrap(), 11).unwrap();
        assert_eq!((cmp.outcome, cmp.verdict.as_str()), (outcome, verdict), "{name} {direction:?}");
    }
}

#[test]
fn notes_explain_the_caveats() {
    let nan = f64::NAN;
    let cmp = run(&[0.812, nan, 0.824, 0.805, nan, 0.831], &[0.835, 0.829, nan, 0.846, 0.838], Maximize);
    assert_eq!(
        cmp.notes,
        [
            "A: 2 NaN value(s) excluded; statistics use the remaining 4",
            "B: 1 NaN value(s) excluded; statistics use the remaining 4",
            "the Mann-Whitney rank test does not find a difference (p = 0.057); with few seeds or \
             an outlier the two tests can disagree",
        ]
    );
    let cmp = run(&[0.5, 0.5, 0.5], &[0.75, 0.75, 0.75], Maximize);
    assert_eq!(
        cmp.notes,
        [
            "both groups have zero variance: the t statistic is undefined; the means differ, so \
             p = 0 by convention, and the interval is the observed difference",
            "Hedges' g is undefined: both groups have zero variance",
        ]
    );
    assert_eq!((cmp.welch.p_two_sided, cmp.seeds_needed, cmp.hedges_g), (0.0, Some(2), None));
}

#[test]
fn direction_decides_who_wins() {
    let a = [0.8123, 0.8241, 0.8057, 0.8309, 0.8186];
    let b = [0.8352, 0.8297, 0.8463, 0.8381, 0.8514];
    assert_eq!(run(&a, &b, Maximize).outcome, BBetter);
    assert_eq!(run(&a, &b, Minimize).outcome, ABetter);
    assert_eq!(run(&b, &a, Minimize).outcome, BBetter);
}

#[test]
fn parts_agree_with_the_standalone_functions() {
    let r = reference();
    for case in r["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (group(case, "a"), group(case, "b"));
        let conf = case["confidence"].as_f64().unwrap();
        let cmp = compare(&a, &b, Minimize, conf, 99).unwrap();
        assert_eq!(cmp.welch, welch(&a, &b, conf).unwrap(), "{name}");
        assert_eq!(cmp.mann_whitney, mann_whitney(&a, &b).unwrap(), "{name}");
        assert_eq!(cmp.hedges_g, hedges_g(&a, &b).ok(), "{name}");
        let (low, high) = bootstrap_diff_ci(&a, &b, conf, cmp.bootstrap.resamples, 99).unwrap();
        assert_eq!((cmp.bootstrap.low, cmp.bootstrap.high), (low, high), "{name}");
        assert_eq!(cmp.alpha, 1.0 - conf);
        // The verdict and Welch's interval agree: significant exactly when 0 is outside it.
        let excludes_zero = cmp.welch.ci_low > 0.0 || cmp.welch.ci_high < 0.0;
        if cmp.welch.t.is_some() {
            assert_eq!(cmp.outcome != NoDetectableDifference, excludes_zero, "{name}");
        }
    }
}

#[test]
fn comparison_serializes() {
    let cmp = run(&[1.0, 2.0, f64::NAN], &[2.5, 3.0, 4.0], Maximize);
    let json = serde_json::to_value(&cmp).unwrap();
    assert_eq!(json["direction"], "maximize");
    assert_eq!(json["outcome"], "no_detectable_difference");
    assert_eq!(json["mann_whitney"]["method"], "exact");
    assert_eq!(json["a"]["excluded_nan"], 1);
    assert!(json["notes"][0].as_str().unwrap().starts_with("A: 1 NaN"));
}
