//! The Mann-Whitney U rank test of B against A, with scipy's `method='auto'` semantics.
//!
//! Matches `scipy.stats.mannwhitneyu(b, a, alternative='two-sided')` (scipy >= 1.7 defaults):
//!
//! - `u` is the statistic for B: the sum of B's ranks in the pooled sample (ties get their
//!   average rank) minus n_B (n_B + 1) / 2.
//! - method: exact unless both groups have more than 8 values or there is any tie (scipy's
//!   `_mwu_choose_method`; so 5 vs 20 without ties is exact, 9 vs 9 is asymptotic).
//! - exact: p = min(1, 2 P(U <= n_A n_B - max(U_A, U_B))) under the null distribution of U,
//!   counted exactly (see [`exact_lower_tail`]).
//! - asymptotic: z = (max(U_A, U_B) - n_A n_B / 2 - 0.5) / sigma with the tie-corrected
//!   sigma^2 = n_A n_B / 12 ((n + 1) - sum(t^3 - t) / (n (n - 1))), p = min(1, 2 P(Z > z)). When
//!   every value is tied sigma is 0 and p is 1.

use serde::Serialize;

use crate::dist::normal_sf;
use crate::sample::prepare;
use crate::{Group, StatsError};

/// How the p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MwuMethod {
    /// The exact null distribution of U (small groups, no ties).
    Exact,
    /// The normal approximation with tie and continuity corrections.
    Asymptotic,
}

/// Result of the Mann-Whitney U test of B against A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MannWhitney {
    /// U for B: the number of (b, a) pairs with b > a, ties counting one half.
    pub u: f64,
    /// Two-sided p-value.
    pub p_two_sided: f64,
    /// Exact or asymptotic, chosen as scipy's `method='auto'` does.
    pub method: MwuMethod,
}

/// The two-sided Mann-Whitney U test of `b` against `a`. NaN values are dropped; each group
/// needs two values left.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Result<MannWhitney, StatsError> {
    let a = prepare(a, Group::A, 2)?;
    let b = prepare(b, Group::B, 2)?;
    Ok(mann_whitney_prepared(&a.values, &b.values))
}

/// The test on finite, non-empty groups.
pub(crate) fn mann_whitney_prepared(a: &[f64], b: &[f64]) -> MannWhitney {
    let (na, nb) = (a.len(), b.len());
    let mut pooled: Vec<(f64, bool)> = b.iter().map(|&x| (x, true)).chain(a.iter().map(|&x| (x, false))).collect();
    // total_cmp puts -0.0 just before 0.0, so equal values stay adjacent.
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));

    let n = pooled.len();
    let mut rank_sum_b = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // Ranks i + 1 ..= j share their average.
        let rank = (i + j + 1) as f64 / 2.0;
        rank_sum_b += rank * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        i = j;
    }
    let ties = tie_term > 0.0;

    let (naf, nbf) = (na as f64, nb as f64);
    let u_b = rank_sum_b - nbf * (nbf + 1.0) / 2.0;
    let u_a = naf * nbf - u_b;
    let u = u_a.max(u_b);

    if (na > 8 && nb > 8) || ties {
        let mu = naf * nbf / 2.0;
        let nf = n as f64;
        let var = naf * nbf / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
        let p = if var > 0.0 { 2.0 * normal_sf((u - mu - 0.5) / var.sqrt()) } else { 1.0 };
        MannWhitney { u: u_b, p_two_sided: p.clamp(0.0, 1.0), method: MwuMethod::Asymptotic }
    } else {
        // Without ties U is an integer, and n_A n_B - U <= n_A n_B / 2.
        let k = (na * nb).saturating_sub(u as usize);
        let p = 2.0 * exact_lower_tail(na.min(nb), na.max(nb), k);
        MannWhitney { u: u_b, p_two_sided: p.clamp(0.0, 1.0), method: MwuMethod::Exact }
    }
}

/// P(U <= k) under the null hypothesis for groups of `m` <= `n` values.
///
/// The number of arrangements with U = u is the coefficient of q^u in the Gaussian binomial
/// [m + n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), built factor by factor on the
/// coefficients 0..=k only (multiplying by 1 - q^j subtracts a shifted copy; dividing by 1 - q^i
/// is a running sum with stride i). O(m k) time. Counts are exact 128-bit integers whenever
/// binom(m + n, m) fits with room to spare (always for m <= 8 and n below ~170,000); beyond
/// that they are f64 and the tail is accurate to rounding.
pub(crate) fn exact_lower_tail(m: usize, n: usize, k: usize) -> f64 {
    let mut total: Option<i128> = Some(1);
    for i in 1..=m {
        total = total.and_then(|t| t.checked_mul((n + i) as i128)).map(|t| t / i as i128);
    }
    // Every coefficient along the way is at most `total` in magnitude (each stage holds the
    // coefficients of a smaller Gaussian binomial, or their differences); keep room to spare.
    match total.filter(|t| t.checked_mul(8).is_some()) {
        Some(total) => gaussian_binomial_head::<i128>(m, n, k).iter().sum::<i128>() as f64 / total as f64,
        None => {
            let total = (1..=m).fold(1.0, |acc, i| acc * (n + i) as f64 / i as f64);
            let below: f64 = gaussian_binomial_head::<f64>(m, n, k).iter().sum();
            (below / total).clamp(0.0, 1.0)
        }
    }
}

/// Coefficients 0..=k of [m + n choose m]_q.
fn gaussian_binomial_head<T>(m: usize, n: usize, k: usize) -> Vec<T>
where
    T: Copy + From<u8> + std::ops::AddAssign + std::ops::SubAssign,
{
    let mut c = vec![T::from(0); k + 1];
    c[0] = T::from(1);
    for i in 1..=m {
        for u in (n + i..=k).rev() {
            let shifted = c[u - n - i];
            c[u] -= shifted;
        }
        for u in i..=k {
            let prev = c[u - i];
            c[u] += prev;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over every way of choosing which ranks belong to the smaller group.
    fn brute_lower_tail(m: usize, n: usize, k: usize) -> f64 {
        let (mut below, mut total) = (0u64, 0u64);
        for mask in 0u32..(1 << (m + n)) {
            if mask.count_ones() as usize != m {
                continue;
            }
            // U for the masked group: pairs (x, y) with x above y.
            let mut u = 0;
            let mut others_below = 0;
            for bit in 0..m + n {
                if mask & (1 << bit) != 0 {
                    u += others_below;
                } else {
                    others_below += 1;
                }
            }
            total += 1;
            if u <= k {
                below += 1;
            }
        }
        below as f64 / total as f64
    }

    #[test]
    fn exact_distribution_matches_brute_force() {
        for m in 1..=5 {
            for n in m..=7 {
                for k in 0..=m * n / 2 {
                    let got = exact_lower_tail(m, n, k);
                    let expect = brute_lower_tail(m, n, k);
                    assert!((got - expect).abs() < 1e-15, "m {m} n {n} k {k}: {got} vs {expect}");
                }
            }
        }
    }

    #[test]
    fn f64_counts_agree_with_exact_counts() {
        let exact: Vec<i128> = gaussian_binomial_head(8, 400, 1600);
        let approx: Vec<f64> = gaussian_binomial_head(8, 400, 1600);
        for (u, (e, a)) in exact.iter().zip(&approx).enumerate() {
            assert!((*e as f64 - a).abs() <= 1e-12 * *e as f64, "u {u}: {a} vs {e}");
        }
    }

    #[test]
    fn all_tied_values_give_p_one() {
        let r = mann_whitney_prepared(&[0.5; 10], &[0.5; 12]);
        assert_eq!((r.u, r.p_two_sided, r.method), (60.0, 1.0, MwuMethod::Asymptotic));
    }
}
