//! The distribution functions the tests need, on top of `statrs`, made accurate where `statrs`
//! alone is not: Student t tail probabilities and quantiles, the standard normal, and the power
//! of a two-sided two-sample t-test (the noncentral t, which `statrs` does not have).

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::beta::checked_beta_reg;
use statrs::function::erf::{erfc, erfc_inv};

/// P(|T| >= |t|) for Student's t with `df` > 0 degrees of freedom.
///
/// Computed as I_x(df/2, 1/2) with x = df / (df + t^2), which keeps full relative precision in
/// the far tail (no `1 - cdf` cancellation). An infinite `t` gives 0.
pub(crate) fn t_two_sided_p(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    match checked_beta_reg(df / 2.0, 0.5, x) {
        Ok(p) => p.clamp(0.0, 1.0),
        // Only reachable for df <= 0 or a NaN, which the callers rule out.
        Err(_) => 1.0,
    }
}

/// The `p`-quantile of Student's t with `df` > 0 degrees of freedom, for 0 < p < 1.
///
/// `statrs`' inverse (AS 109 on the incomplete beta) is accurate to ~1e-13 up to a few
/// thousand degrees of freedom but degrades beyond (1e-6 at 1e5); above 1000 the Cornish-Fisher
/// expansion of Abramowitz & Stegun 26.7.5 is used instead, whose first omitted term is below
/// 1e-13 there.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    if df > 1000.0 {
        let z = normal_quantile(p);
        let z2 = z * z;
        let g1 = (z2 + 1.0) * z / 4.0;
        let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
        let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
        let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
        return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf(p),
        // Only reachable for df <= 0 or a NaN, which the callers rule out.
        Err(_) => normal_quantile(p),
    }
}

/// Standard normal upper tail P(Z > z).
pub(crate) fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Standard normal lower tail P(Z <= z).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// The `p`-quantile of the standard normal, for 0 < p < 1.
pub(crate) fn normal_quantile(p: f64) -> f64 {
    -std::f64::consts::SQRT_2 * erfc_inv(2.0 * p)
}

/// Power of the two-sided two-sample t-test (equal variances, `n` per arm, level `alpha`) when
/// the true difference is `d` pooled standard deviations.
///
/// With df = 2n - 2, noncentrality delta = d * sqrt(n / 2) and critical value c = t_{1 - alpha/2},
/// the statistic is T' = (Z + delta) / S with S = sqrt(chi2_df / df) independent of Z, so
///
/// ```text
/// power = P(T' > c) + P(T' < -c) = E_S[ Phi(delta - c S) + Phi(-delta - c S) ].
/// ```
///
/// The expectation is integrated numerically (composite Simpson, 2000 panels over +-14
/// standard deviations of S around its mode; the density is normalised by its own integral, so
/// no gamma-function constant enters). That is exact up to quadrature error (< 1e-10 here),
/// unlike the usual normal approximation of the noncentral t, and it is what
/// `scipy.stats.nct` computes.
pub(crate) fn t_test_power(n: u64, d: f64, alpha: f64) -> f64 {
    const PANELS: usize = 2000;
    let nu = 2.0 * n as f64 - 2.0;
    let delta = d * (n as f64 / 2.0).sqrt();
    let c = t_quantile(1.0 - alpha / 2.0, nu);
    let mode = ((nu - 1.0) / nu).sqrt();
    let width = 14.0 / (2.0 * nu).sqrt();
    let lo = (mode - width).max(0.0);
    let hi = mode + width;
    let h = (hi - lo) / PANELS as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..=PANELS {
        let s = lo + h * i as f64;
        if s <= 0.0 {
            continue; // the density of S is 0 at 0 (df >= 2)
        }
        let weight = if i == 0 || i == PANELS {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        // log density of S relative to its mode: (df - 1) ln s - df s^2 / 2, shifted.
        let log_f = (nu - 1.0) * (s / mode).ln() - nu * (s * s - mode * mode) / 2.0;
        let f = weight * log_f.exp();
        num += f * (normal_cdf(delta - c * s) + normal_cdf(-delta - c * s));
        den += f;
    }
    if den > 0.0 { (num / den).clamp(0.0, 1.0) } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs())
    }

    #[test]
    fn cornish_fisher_matches_scipy() {
        // scipy.stats.t.ppf(p, df) for p in 0.6, 0.9, 0.975, 0.995.
        let table: [(f64, [f64; 4]); 5] = [
            (1000.5, [0.25341448214466544, 1.282398297809231, 1.962337892459348, 2.5807522321743113]),
            (2000.0, [0.2533808068206651, 1.2819750006831374, 1.9611508260994377, 2.5782897875575186]),
            (5000.0, [0.25336058396923183, 1.2817209053357184, 1.9604385517065073, 2.5768129665562802]),
            (20000.0, [0.2533504732640628, 1.2815938962102154, 1.9600826051581348, 2.576075153017255]),
            (1e6, [0.25334717053784184, 1.281552412129939, 1.959966356814107, 2.5758342201053344]),
        ];
        for (df, expect) in table {
            for (p, e) in [0.6, 0.9, 0.975, 0.995].into_iter().zip(expect) {
                assert!(close(t_quantile(p, df), e, 1e-12), "df {df} p {p}: {}", t_quantile(p, df));
                assert!(close(t_quantile(1.0 - p, df), -e, 1e-12), "df {df} p {}", 1.0 - p);
            }
        }
    }

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf(0.975, df)
        let check = |df: f64, expect: f64| {
            assert!(close(t_quantile(0.975, df), expect, 1e-12), "df {df}: {}", t_quantile(0.975, df))
        };
        check(1.0, 12.706204736174694);
        check(4.0, 2.7764451051977934);
        check(100.0, 1.9839715185235518);
        check(1e5, 1.9599877075346095);
        check(1e7, 1.959964221767205);
    }

    #[test]
    fn power_at_zero_effect_is_alpha() {
        for n in [2, 5, 50, 100_000] {
            assert!(close(t_test_power(n, 0.0, 0.05), 0.05, 1e-9), "n {n}");
        }
    }
}
