//! The A/B comparison: every statistic of this crate on the same two groups, and a verdict in
//! plain words.
//!
//! The verdict follows Welch's test at level alpha = 1 - confidence (its confidence interval
//! excludes 0 exactly when p < alpha), and `direction` decides what "better" means:
//!
//! - "B is better than A by 0.022 (95% CI 0.0082 to 0.035), p = 0.0061 (Welch), 5 seeds each"
//! - "no detectable difference between A and B (p = 0.64, 95% CI for B - A -0.023 to 0.035,
//!   5 seeds each); about 168 seeds per arm would be needed to detect a difference of 0.0061"
//!   (80% power at the same alpha, for the observed difference and the pooled sd).
//!
//! Numbers carry two significant digits.
//! The other statistics ride along for the reader; where they disagree with the verdict a note
//! says so.

use serde::Serialize;

use crate::bootstrap::{DEFAULT_RESAMPLES, bootstrap_prepared};
use crate::describe::{Summary, summarize};
use crate::effect::{hedges_g_prepared, scaled_diff_and_pooled_sd};
use crate::error::check_confidence;
use crate::mann_whitney::{MannWhitney, mann_whitney_prepared};
use crate::power::{DEFAULT_POWER, MAX_SEEDS, seeds_for_effect};
use crate::sample::{common_scale, prepare};
use crate::welch::{Welch, welch_prepared};
use crate::{Direction, Group, StatsError};

/// The bootstrap interval as [`compare`] ran it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// Lower end of the interval for mean(B) - mean(A).
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// Number of resamples ([`DEFAULT_RESAMPLES`]).
    pub resamples: usize,
    /// The generator seed.
    pub seed: u64,
}

/// What the comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// B is significantly better than A (in the given direction).
    BBetter,
    /// A is significantly better than B.
    ABetter,
    /// Welch's test does not reject equal means at the chosen level.
    NoDetectableDifference,
}

/// Everything [`compare`] computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// What "better" means.
    pub direction: Direction,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Significance level of the verdict, 1 - confidence.
    pub alpha: f64,
    /// Group A (baseline).
    pub a: Summary,
    /// Group B (candidate).
    pub b: Summary,
    /// Welch's t-test of mean(B) - mean(A); decides the verdict.
    pub welch: Welch,
    /// Percentile bootstrap interval for mean(B) - mean(A).
    pub bootstrap: BootstrapCi,
    /// The rank test of B against A.
    pub mann_whitney: MannWhitney,
    /// Hedges' g of B over A; `None` when both groups have zero variance.
    pub hedges_g: Option<f64>,
    /// Pooled standard deviation of the two groups.
    pub pooled_sd: f64,
    /// Seeds per arm for 80% power to detect the observed difference at level alpha; `None`
    /// when the observed difference is 0 or more than [`MAX_SEEDS`] would be needed.
    pub seeds_needed: Option<u64>,
    /// The conclusion.
    pub outcome: Outcome,
    /// The conclusion in plain words.
    pub verdict: String,
    /// Caveats: dropped NaN, constant groups, tests that disagree.
    pub notes: Vec<String>,
}

/// Compares B (`b`, the candidate) with A (`a`, the baseline): summaries, Welch's test, a
/// bootstrap interval ([`DEFAULT_RESAMPLES`] resamples from `seed`), the Mann-Whitney test,
/// Hedges' g, the seeds needed, and a verdict. NaN values are dropped; each group needs two
/// values left.
pub fn compare(
    a: &[f64],
    b: &[f64],
    direction: Direction,
    confidence: f64,
    seed: u64,
) -> Result<Comparison, StatsError> {
    check_confidence(confidence)?;
    let pa = prepare(a, Group::A, 2)?;
    let pb = prepare(b, Group::B, 2)?;
    let (a, b) = (&pa.values[..], &pb.values[..]);
    let alpha = 1.0 - confidence;

    let welch = welch_prepared(a, b, confidence);
    let (low, high) = bootstrap_prepared(a, b, confidence, DEFAULT_RESAMPLES, seed);
    let mann_whitney = mann_whitney_prepared(a, b);
    let hedges_g = hedges_g_prepared(a, b);
    let (diff_scaled, sd_scaled) = scaled_diff_and_pooled_sd(a, b);
    // 0 / 0 (no difference, no spread) is NaN and gives None; x / 0 is +inf and gives Some(2).
    let seeds_needed = seeds_for_effect(diff_scaled.abs() / sd_scaled, alpha, DEFAULT_POWER);

    let significant = welch.p_two_sided < alpha;
    let improvement = match direction {
        Direction::Maximize => welch.diff,
        Direction::Minimize => -welch.diff,
    };
    let outcome = match (significant, improvement > 0.0) {
        (false, _) => Outcome::NoDetectableDifference,
        (true, true) => Outcome::BBetter,
        (true, false) => Outcome::ABetter,
    };
    let a = summarize(&pa);
    let b = summarize(&pb);

    let mut notes = Vec::new();
    for (name, s) in [("A", &a), ("B", &b)] {
        if let Some(note) = &s.note {
            notes.push(format!("{name}: {note}"));
        }
    }
    if let Some(note) = &welch.note {
        notes.push(note.clone());
    } else {
        for (name, s) in [("A", &a), ("B", &b)] {
            if s.std == Some(0.0) {
                notes.push(format!(
                    "group {name} has zero variance (all {} values equal); the test relies on \
                     the other group's spread alone",
                    s.n
                ));
            }
        }
    }
    if hedges_g.is_none() {
        notes.push("Hedges' g is undefined: both groups have zero variance".to_string());
    }
    if (mann_whitney.p_two_sided < alpha) != significant {
        notes.push(format!(
            "the Mann-Whitney rank test {} ({}); with few seeds or an outlier the two tests can \
             disagree",
            if significant { "does not find a difference" } else { "does find a difference" },
            fmt_p_value(mann_whitney.p_two_sided),
        ));
    }

    let verdict = verdict(&welch, outcome, &a, &b, seeds_needed);
    Ok(Comparison {
        direction,
        confidence,
        alpha,
        a,
        b,
        welch,
        bootstrap: BootstrapCi { low, high, resamples: DEFAULT_RESAMPLES, seed },
        mann_whitney,
        hedges_g,
        pooled_sd: sd_scaled * common_scale(&[&pa.values, &pb.values]),
        seeds_needed,
        outcome,
        verdict,
        notes,
    })
}

fn verdict(w: &Welch, outcome: Outcome, a: &Summary, b: &Summary, seeds: Option<u64>) -> String {
    let seeds_phrase =
        if a.n == b.n { format!("{} seeds each", a.n) } else { format!("{} seeds for A, {} for B", a.n, b.n) };
    let pct = fmt_percent(w.confidence);
    let degenerate = w.t.is_none();
    let better = match outcome {
        Outcome::BBetter => Some("B is better than A"),
        Outcome::ABetter => Some("A is better than B"),
        Outcome::NoDetectableDifference => None,
    };
    if let Some(better) = better {
        // Report the size of the win as a positive number, with its interval.
        let (size, lo, hi) =
            if w.diff > 0.0 { (w.diff, w.ci_low, w.ci_high) } else { (-w.diff, -w.ci_high, -w.ci_low) };
        if degenerate {
            return format!(
                "{better} by {} (every seed of A gave {}, every seed of B {}: with no variance \
                 p = 0 by convention), {seeds_phrase}",
                fmt_num(size),
                a.mean,
                b.mean,
            );
        }
        return format!(
            "{better} by {} ({pct} CI {} to {}), {} (Welch), {seeds_phrase}",
            fmt_num(size),
            fmt_num(lo),
            fmt_num(hi),
            fmt_p_value(w.p_two_sided),
        );
    }
    if degenerate {
        return format!(
            "no detectable difference between A and B: every seed of both gave {} ({seeds_phrase})",
            a.mean
        );
    }
    let mut s = format!(
        "no detectable difference between A and B ({}, {pct} CI for B - A {} to {}, {seeds_phrase})",
        fmt_p_value(w.p_two_sided),
        fmt_num(w.ci_low),
        fmt_num(w.ci_high),
    );
    let size = fmt_num(w.diff.abs());
    match seeds {
        _ if w.diff == 0.0 => s.push_str("; the means are identical"),
        Some(n) => s.push_str(&format!("; about {n} seeds per arm would be needed to detect a difference of {size}")),
        None => {
            s.push_str(&format!("; detecting a difference of {size} would take more than {MAX_SEEDS} seeds per arm"))
        }
    }
    s
}

/// A number with two significant digits ("0.022", "1.2", "43", "0.00073"), or in scientific
/// notation below 1e-4 and from 1e7 up; never "-0".
fn fmt_num(x: f64) -> String {
    let r = x.abs();
    let s = if r == 0.0 {
        "0".to_string()
    } else if !r.is_finite() {
        x.to_string()
    } else if !(1e-4..1e7).contains(&r) {
        format!("{x:.1e}")
    } else {
        // Count decimals on the value rounded to two digits, so 0.00996 shows as 0.010.
        let rounded: f64 = format!("{r:.1e}").parse().unwrap_or(r);
        let decimals = (1 - rounded.log10().floor() as i64).max(0) as usize;
        format!("{x:.decimals$}")
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| matches!(c, '0' | '.')) => rest.to_string(),
        _ => s,
    }
}

/// "p = 0.0061", "p = 0.41", "p < 0.001", "p = 1".
fn fmt_p_value(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else if p >= 0.995 {
        "p = 1".to_string()
    } else {
        format!("p = {}", fmt_num(p))
    }
}

/// 0.95 -> "95%", 0.999 -> "99.9%".
fn fmt_percent(confidence: f64) -> String {
    let s = format!("{:.2}", confidence * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_two_significant_digits() {
        let check = |x: f64, expect: &str| assert_eq!(fmt_num(x), expect, "{x}");
        check(1.2, "1.2");
        check(0.4, "0.40");
        check(0.02182, "0.022");
        check(0.0046274, "0.0046");
        check(-20.23, "-20");
        check(42.97, "43");
        check(1234.5, "1234");
        check(0.00996, "0.010");
        check(0.00073, "0.00073");
        check(7.75e-10, "7.8e-10");
        check(-0.0, "0");
        check(0.0, "0");
        check(f64::INFINITY, "inf");
    }

    #[test]
    fn p_values_and_percentages() {
        let check = |p: f64, expect: &str| assert_eq!(fmt_p_value(p), expect);
        check(0.0, "p < 0.001");
        check(0.0031, "p = 0.0031");
        check(0.0406, "p = 0.041");
        check(0.0546, "p = 0.055");
        check(0.41, "p = 0.41");
        check(1.0, "p = 1");
        assert_eq!(fmt_percent(0.95), "95%");
        assert_eq!(fmt_percent(0.999), "99.9%");
        assert_eq!(fmt_percent(0.9), "90%");
    }
}
