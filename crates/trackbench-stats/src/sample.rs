//! Input preparation shared by every statistic, and the sums the means and variances use.
//!
//! [`prepare`] drops NaN (counting them), refuses infinities and checks the group size.
//! [`pairwise_sum`] is numpy's summation order (`np.add.reduce` on a contiguous array), so
//! means agree with numpy's bit for bit on ordinary inputs. [`common_scale`] picks a power of
//! two that brings the largest magnitude near 1: computing on `x / scale` cannot overflow when
//! squaring, and because the scale is a power of two the results are the same numbers as
//! computing on `x` directly wherever that does not overflow.

use crate::{Group, StatsError};

/// A group's finite values, with the number of NaN dropped from it.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub values: Vec<f64>,
    pub excluded_nan: usize,
}

/// Drops NaN, rejects infinities and requires at least `needed` values.
pub(crate) fn prepare(xs: &[f64], group: Group, needed: usize) -> Result<Prepared, StatsError> {
    let mut values = Vec::with_capacity(xs.len());
    let mut excluded_nan = 0;
    for (index, &x) in xs.iter().enumerate() {
        if x.is_nan() {
            excluded_nan += 1;
        } else if x.is_infinite() {
            return Err(StatsError::InfiniteValue { group, index });
        } else {
            values.push(x);
        }
    }
    if values.len() < needed {
        return Err(StatsError::TooFewValues { group, n: values.len(), needed, excluded_nan });
    }
    Ok(Prepared { values, excluded_nan })
}

/// A power of two near the largest magnitude in `groups` (1 when all are zero).
pub(crate) fn common_scale(groups: &[&[f64]]) -> f64 {
    let max = groups.iter().flat_map(|g| g.iter()).fold(0.0_f64, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return 1.0;
    }
    // The exponent field of `max` (0 for subnormals), clamped to normal powers of two.
    let biased = ((max.to_bits() >> 52) & 0x7ff) as i64;
    let exponent = (biased - 1023).clamp(-1022, 1023);
    f64::from_bits(((exponent + 1023) as u64) << 52)
}

/// `xs` divided by `scale` (exact for a power of two, barring underflow of tiny values).
pub(crate) fn scaled(xs: &[f64], scale: f64) -> Vec<f64> {
    xs.iter().map(|x| x / scale).collect()
}

/// numpy's pairwise summation (`pairwise_sum` in numpy's `loops_utils.h`).
pub(crate) fn pairwise_sum(xs: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = xs.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in xs {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0; 8];
        r.copy_from_slice(&xs[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += xs[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += xs[i];
            i += 1;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&xs[..half]) + pairwise_sum(&xs[half..])
    }
}

/// Mean and sample variance (ddof = 1; 0 for a single value) of finite values.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    pub n: usize,
    pub mean: f64,
    pub var: f64,
}

impl Moments {
    /// A constant group gets its value as the mean and a variance of exactly 0 (numpy can leave
    /// a rounding residue of ~1e-33 there; the residue is noise, and 0 is what it means).
    pub fn of(xs: &[f64]) -> Moments {
        let n = xs.len();
        if n == 0 {
            return Moments { n, mean: 0.0, var: 0.0 };
        }
        let first = xs[0];
        if xs.iter().all(|&x| x == first) {
            return Moments { n, mean: first, var: 0.0 };
        }
        // Rounding can leave the mean an ulp outside the data; keep it inside.
        let (lo, hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let mean = (pairwise_sum(xs) / n as f64).clamp(lo, hi);
        if n < 2 {
            return Moments { n, mean, var: 0.0 };
        }
        let squares: Vec<f64> = xs.iter().map(|x| (x - mean) * (x - mean)).collect();
        Moments { n, mean, var: pairwise_sum(&squares) / (n - 1) as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_plain_sum_on_exact_values() {
        for n in [0usize, 1, 7, 8, 9, 16, 127, 128, 129, 300, 1000] {
            let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
            assert_eq!(pairwise_sum(&xs), (n * n.saturating_sub(1) / 2) as f64, "n = {n}");
        }
    }

    #[test]
    fn scale_is_a_power_of_two_near_the_largest_magnitude() {
        let check = |xs: &[f64], expect: f64| assert_eq!(common_scale(&[xs]), expect, "{xs:?}");
        check(&[0.0, -0.0], 1.0);
        check(&[0.75, -0.3], 0.5);
        check(&[3.0], 2.0);
        check(&[-1e308], 2f64.powi(1023));
        check(&[5e-324], 2f64.powi(-1022));
    }

    #[test]
    fn constant_groups_have_exact_mean_and_zero_variance() {
        let m = Moments::of(&[0.9, 0.9, 0.9]);
        assert_eq!((m.mean, m.var), (0.9, 0.0));
    }
}
