//! Hedges' g: the difference of means in pooled standard deviations, bias-corrected.

use crate::sample::{Moments, common_scale, prepare, scaled};
use crate::{Group, StatsError};

/// Hedges' g of B over A: (mean_B - mean_A) / s_pooled * J, where
/// s_pooled = sqrt(((n_A - 1) var_A + (n_B - 1) var_B) / (n_A + n_B - 2)) and J is the common
/// approximation of the small-sample correction, J = 1 - 3 / (4 (n_A + n_B) - 9) (Hedges 1981;
/// the exact correction is a ratio of gamma functions and differs by < 0.5% from n = 4 on).
///
/// NaN values are dropped; each group needs two values left. When both groups have zero
/// variance the pooled sd is 0 and g is undefined: [`StatsError::ZeroVariance`].
pub fn hedges_g(a: &[f64], b: &[f64]) -> Result<f64, StatsError> {
    let a = prepare(a, Group::A, 2)?;
    let b = prepare(b, Group::B, 2)?;
    hedges_g_prepared(&a.values, &b.values).ok_or(StatsError::ZeroVariance)
}

/// g on finite groups of at least two values; `None` when the pooled sd is 0.
pub(crate) fn hedges_g_prepared(a: &[f64], b: &[f64]) -> Option<f64> {
    let (diff, sd) = scaled_diff_and_pooled_sd(a, b);
    if sd == 0.0 {
        return None;
    }
    let n = (a.len() + b.len()) as f64;
    Some(diff / sd * (1.0 - 3.0 / (4.0 * n - 9.0)))
}

/// mean_B - mean_A and the pooled sd, both divided by the same power of two (their ratio is
/// exact; [`common_scale`] of the inputs turns them back into data units).
pub(crate) fn scaled_diff_and_pooled_sd(a: &[f64], b: &[f64]) -> (f64, f64) {
    let scale = common_scale(&[a, b]);
    let ma = Moments::of(&scaled(a, scale));
    let mb = Moments::of(&scaled(b, scale));
    let (na, nb) = (ma.n as f64, mb.n as f64);
    let pooled_var = ((na - 1.0) * ma.var + (nb - 1.0) * mb.var) / (na + nb - 2.0);
    (mb.mean - ma.mean, pooled_var.sqrt())
}
