//! Property tests: on any finite input with at least two values per group, nothing panics and
//! nothing comes out NaN; p-values are probabilities and intervals are ordered.

use proptest::prelude::*;
use trackbench_stats::{Comparison, Direction, compare, describe, power, seeds_needed};

/// Finite values of every kind: ordinary metrics, exact repeats (ties, constant groups),
/// huge and tiny magnitudes, zeros of both signs.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -10.0..10.0f64,
        2 => (0..4u8).prop_map(|k| 0.25 * f64::from(k)),
        1 => prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        1 => prop::sample::select(vec![f64::MAX, -f64::MAX, f64::MIN_POSITIVE, 1e300, -1e-300, -0.0]),
    ]
}

fn group() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(value(), 2..12)
}

fn assert_sane(c: &Comparison) {
    let mut numbers = vec![
        ("a.mean", c.a.mean),
        ("a.median", c.a.median),
        ("b.mean", c.b.mean),
        ("b.median", c.b.median),
        ("welch.diff", c.welch.diff),
        ("welch.se", c.welch.se),
        ("welch.p", c.welch.p_two_sided),
        ("welch.ci_low", c.welch.ci_low),
        ("welch.ci_high", c.welch.ci_high),
        ("bootstrap.low", c.bootstrap.low),
        ("bootstrap.high", c.bootstrap.high),
        ("mwu.u", c.mann_whitney.u),
        ("mwu.p", c.mann_whitney.p_two_sided),
        ("pooled_sd", c.pooled_sd),
    ];
    for (name, v) in [("a.std", c.a.std), ("a.sem", c.a.sem), ("b.std", c.b.std), ("b.sem", c.b.sem)] {
        numbers.push((name, v.expect("n >= 2 has a std")));
    }
    for (name, v) in [("welch.t", c.welch.t), ("welch.df", c.welch.df), ("hedges_g", c.hedges_g)] {
        if let Some(v) = v {
            numbers.push((name, v));
        }
    }
    for (name, v) in numbers {
        assert!(!v.is_nan(), "{name} is NaN in {c:#?}");
    }
    for p in [c.welch.p_two_sided, c.mann_whitney.p_two_sided] {
        assert!((0.0..=1.0).contains(&p), "p = {p}");
    }
    assert!(c.welch.ci_low <= c.welch.ci_high, "{c:#?}");
    assert!(c.bootstrap.low <= c.bootstrap.high, "{c:#?}");
    let pairs = (c.a.n * c.b.n) as f64;
    assert!((0.0..=pairs).contains(&c.mann_whitney.u));
    assert!(c.welch.df.is_none_or(|df| df >= 1.0 - 1e-9 && df.is_finite()));
    assert!(c.hedges_g.is_none_or(f64::is_finite));
    assert!(!c.verdict.is_empty() && !c.verdict.contains("NaN"), "{}", c.verdict);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn compare_never_panics_or_returns_nan(
        a in group(),
        b in group(),
        maximize in any::<bool>(),
        confidence in prop_oneof![Just(0.95), 0.5..0.999f64],
        seed in any::<u64>(),
    ) {
        let direction = if maximize { Direction::Maximize } else { Direction::Minimize };
        let c = compare(&a, &b, direction, confidence, seed).unwrap();
        assert_sane(&c);
    }

    #[test]
    fn describe_orders_its_numbers(xs in prop::collection::vec(value(), 1..20)) {
        let s = describe(&xs).unwrap();
        prop_assert!(s.min <= s.median && s.median <= s.max);
        prop_assert!(s.min <= s.mean && s.mean <= s.max, "{s:?}");
        prop_assert!(s.std.is_none_or(|v| v >= 0.0) && s.sem.is_none_or(|v| v >= 0.0));
    }

    #[test]
    fn seeds_needed_reaches_the_power_and_no_fewer_do(
        d in 0.05..20.0f64,
        alpha in prop_oneof![Just(0.05), 0.001..0.2f64],
        target in prop_oneof![Just(0.8), 0.5..0.99f64],
    ) {
        let n = seeds_needed(d, 1.0, alpha, target).unwrap();
        prop_assert!(power(n, d, 1.0, alpha).unwrap() >= target);
        if n > 2 {
            prop_assert!(power(n - 1, d, 1.0, alpha).unwrap() < target);
        }
    }
}
