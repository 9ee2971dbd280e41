//! Welch's unequal-variance t-test of mean(B) - mean(A), with its confidence interval.
//!
//! Matches `scipy.stats.ttest_ind(b, a, equal_var=False)` (statistic, p-value, df) and its
//! `.confidence_interval(confidence)`. The one place it deliberately differs: when both groups
//! have zero variance the standard error is 0 and t is undefined (scipy returns nan, or +-inf
//! with p = 0). Here `t` and `df` are `None`, the interval collapses to the observed difference,
//! and p is 1 when the means are equal and 0 when they differ, with a note saying so.

use serde::Serialize;

use crate::dist::{t_quantile, t_two_sided_p};
use crate::error::check_confidence;
use crate::sample::{Moments, common_scale, prepare, scaled};
use crate::{Group, StatsError};

/// Result of Welch's t-test of B against A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Welch {
    /// mean(B) - mean(A).
    pub diff: f64,
    /// Standard error of the difference, sqrt(var_A / n_A + var_B / n_B).
    pub se: f64,
    /// Welch-Satterthwaite degrees of freedom; `None` when both groups have zero variance.
    pub df: Option<f64>,
    /// t = diff / se; `None` when both groups have zero variance.
    pub t: Option<f64>,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// The confidence level of the interval.
    pub confidence: f64,
    /// Lower end of the confidence interval for the difference.
    pub ci_low: f64,
    /// Upper end of the confidence interval for the difference.
    pub ci_high: f64,
    /// Set when a convention replaced an undefined value.
    pub note: Option<String>,
}

/// Welch's t-test of mean(`b`) - mean(`a`) with a two-sided `confidence` interval (e.g. 0.95).
///
/// NaN values are dropped; each group needs two values left.
pub fn welch(a: &[f64], b: &[f64], confidence: f64) -> Result<Welch, StatsError> {
    check_confidence(confidence)?;
    let a = prepare(a, Group::A, 2)?;
    let b = prepare(b, Group::B, 2)?;
    Ok(welch_prepared(&a.values, &b.values, confidence))
}

/// Welch's test on finite groups of at least two values and a valid confidence.
pub(crate) fn welch_prepared(a: &[f64], b: &[f64], confidence: f64) -> Welch {
    // Scale-free quantities (t, df, p) are computed on values divided by a common power of two,
    // so squaring cannot overflow; differences and errors are scaled back at the end.
    let scale = common_scale(&[a, b]);
    let ma = Moments::of(&scaled(a, scale));
    let mb = Moments::of(&scaled(b, scale));
    let (na, nb) = (ma.n as f64, mb.n as f64);
    let diff = mb.mean - ma.mean;
    let (wa, wb) = (ma.var / na, mb.var / nb);
    let se = (wa + wb).sqrt();
    let tail = (1.0 - confidence) / 2.0;

    if se == 0.0 {
        let (p, why) = if diff == 0.0 {
            (1.0, "the means are equal, so p = 1")
        } else {
            (0.0, "the means differ, so p = 0 by convention")
        };
        return Welch {
            diff: diff * scale,
            se: 0.0,
            df: None,
            t: None,
            p_two_sided: p,
            confidence,
            ci_low: diff * scale,
            ci_high: diff * scale,
            note: Some(format!(
                "both groups have zero variance: the t statistic is undefined; {why}, and the \
                 interval is the observed difference"
            )),
        };
    }

    // Welch-Satterthwaite, with the weights normalised by the larger so the squares cannot
    // underflow to 0/0.
    let big = wa.max(wb);
    let (ra, rb) = (wa / big, wb / big);
    let df = (ra + rb) * (ra + rb) / (ra * ra / (na - 1.0) + rb * rb / (nb - 1.0));
    let t = diff / se;
    let q = t_quantile(1.0 - tail, df);
    Welch {
        diff: diff * scale,
        se: se * scale,
        df: Some(df),
        t: Some(t),
        p_two_sided: t_two_sided_p(t, df),
        confidence,
        ci_low: (diff - q * se) * scale,
        ci_high: (diff + q * se) * scale,
        note: None,
    }
}
