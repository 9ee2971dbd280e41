//! How many seeds per arm a two-sided two-sample t-test needs to detect a difference.

use crate::dist::{normal_quantile, t_test_power};

/// The significance level [`seeds_needed`] is usually asked for.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// The power [`seeds_needed`] is usually asked for.
pub const DEFAULT_POWER: f64 = 0.8;

/// The largest per-arm count [`seeds_needed`] reports; beyond it the answer is `None`.
pub const MAX_SEEDS: u64 = 1_000_000_000;

/// The smallest n >= 2 per arm for which a two-sided two-sample t-test at level `alpha` detects a
/// true difference `diff` with probability at least `power`, when both arms have standard
/// deviation `sd` (use the pooled sd).
///
/// Power is computed exactly from the noncentral t distribution (df = 2n - 2, noncentrality
/// |diff| / sd * sqrt(n / 2)) by numerical integration, not with the normal approximation; the
/// search starts from the normal-approximation n and brackets and bisects from there (power
/// grows with n). Matches the smallest n with `scipy.stats.nct` power >= `power`.
///
/// `None` when there is nothing to find: `diff` is 0 or not finite, `sd` is negative or not
/// finite, `alpha` or `power` is not strictly between 0 and 1, or more than [`MAX_SEEDS`] per
/// arm would be needed. A difference with `sd` = 0 is detected by the smallest test: `Some(2)`.
pub fn seeds_needed(diff: f64, sd: f64, alpha: f64, power: f64) -> Option<u64> {
    let valid = |p: f64| p > 0.0 && p < 1.0;
    if !diff.is_finite() || diff == 0.0 || !sd.is_finite() || sd < 0.0 {
        return None;
    }
    if !valid(alpha) || !valid(power) {
        return None;
    }
    seeds_for_effect(diff.abs() / sd, alpha, power)
}

/// The power of a two-sided two-sample t-test at level `alpha` with `n` seeds per arm, when
/// the true difference is `diff` and both arms have standard deviation `sd`: the probability
/// that the test finds the difference (the exact noncentral t computation [`seeds_needed`]
/// uses). `None` for n < 2, non-finite `diff`, negative or non-finite `sd`, or `alpha` outside
/// (0, 1). A zero `diff` gives `alpha`; a nonzero one with `sd` = 0 gives 1.
pub fn power(n: u64, diff: f64, sd: f64, alpha: f64) -> Option<f64> {
    if n < 2 || !diff.is_finite() || !sd.is_finite() || sd < 0.0 || !(alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    if diff == 0.0 {
        return Some(alpha);
    }
    let d = diff.abs() / sd;
    Some(if d.is_infinite() { 1.0 } else { t_test_power(n, d, alpha) })
}

/// [`seeds_needed`] for a standardised effect `d` = |diff| / sd > 0 (may be +inf).
pub(crate) fn seeds_for_effect(d: f64, alpha: f64, power: f64) -> Option<u64> {
    if d.is_nan() || d <= 0.0 {
        return None;
    }
    if d.is_infinite() {
        return Some(2);
    }
    let z = normal_quantile(1.0 - alpha / 2.0) + normal_quantile(power);
    let approx = 2.0 * (z / d) * (z / d);
    // The t-test needs at least about as many seeds as the z-test approximation.
    if approx.is_nan() || approx > MAX_SEEDS as f64 {
        return None;
    }
    let start = (approx.ceil() as u64).clamp(2, MAX_SEEDS);
    let reaches = |n: u64| t_test_power(n, d, alpha) >= power;

    // Bracket: `lo` does not reach the target (1 stands for "below the minimum"), `hi` does.
    let (mut lo, mut hi);
    if reaches(start) {
        hi = start;
        lo = 1;
        let mut step = 1;
        while hi > 2 {
            let candidate = hi.saturating_sub(step).max(2);
            if reaches(candidate) {
                hi = candidate;
                step *= 2;
            } else {
                lo = candidate;
                break;
            }
        }
    } else {
        lo = start;
        let mut step = 1;
        loop {
            let candidate = lo + step;
            if candidate > MAX_SEEDS {
                return None;
            }
            if reaches(candidate) {
                hi = candidate;
                break;
            }
            lo = candidate;
            step *= 2;
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if mid >= 2 && reaches(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_find() {
        let check = |diff: f64, sd: f64, alpha: f64, power: f64, expect: Option<u64>| {
            assert_eq!(seeds_needed(diff, sd, alpha, power), expect, "{diff} {sd} {alpha} {power}")
        };
        check(0.0, 1.0, 0.05, 0.8, None);
        check(f64::NAN, 1.0, 0.05, 0.8, None);
        check(1.0, -1.0, 0.05, 0.8, None);
        check(1.0, f64::INFINITY, 0.05, 0.8, None);
        check(1.0, 1.0, 0.0, 0.8, None);
        check(1.0, 1.0, 0.05, 1.0, None);
        check(1e-9, 1.0, 0.05, 0.8, None);
        check(1.0, 0.0, 0.05, 0.8, Some(2));
        check(1e300, 1e-300, 0.05, 0.8, Some(2));
    }

    #[test]
    fn tiny_effects_need_many_seeds_but_not_more_than_the_cap() {
        // Normal approximation 2 (1.96 + 0.84)^2 / d^2 = 15.7 / d^2, the t-test a bit more.
        let n = seeds_needed(0.001, 1.0, 0.05, 0.8).unwrap();
        assert!((15_697_000..15_699_000).contains(&n), "{n}");
    }
}
