//! The two-sample Kolmogorov–Smirnov p-value, chosen as `scipy.stats.ks_2samp(method="auto")`
//! chooses: exact when both samples have at most 10 000 values, from the lattice-path counts of
//! Hodges (1958) (equal sizes: the closed form for paths leaving the band `|x - y| < h`; unequal:
//! the "inside method" recursion in Viehmann's (2021) form, which computes 1 - p directly);
//! otherwise the limiting Kolmogorov distribution at `sqrt(en) * d`, `en = n m / (n + m)`, with
//! Stephens' finite-sample correction. (scipy's asymptotic branch evaluates the one-sample
//! `kstwo(round(en))` distribution instead; the two differ by about 1e-3 at the sizes that reach
//! that branch, which `ks_p` reports as `exact = false`.)

/// The largest sample for which the exact p-value is computed (scipy's `MAX_AUTO_N`).
pub const MAX_EXACT_N: u64 = 10_000;

/// The p-value of a two-sided two-sample KS test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsP {
    /// The statistic as the p-value read it (rounded to the lattice `h / lcm(n, m)` when exact).
    pub d: f64,
    pub p: f64,
    /// Whether the exact distribution gave it.
    pub exact: bool,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The p-value for statistic `d` between samples of `n1` and `n2` values (both > 0).
pub fn ks_p(d: f64, n1: u64, n2: u64) -> KsP {
    if n1.max(n2) <= MAX_EXACT_N {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round() as u64;
        let dr = h as f64 / lcm as f64;
        if h == 0 {
            return KsP { d: dr, p: 1.0, exact: true };
        }
        let p = if n1 == n2 { prob_outside_square(n1, h) } else { outer_prob_inside(n1, n2, g, h) };
        if p.is_finite() && (0.0..=1.0).contains(&p) {
            return KsP { d: dr, p, exact: true };
        }
    }
    KsP { d, p: ks_p_asymptotic(d, n1, n2), exact: false }
}

/// The asymptotic p-value: Kolmogorov's limit at `(sqrt(en) + 0.12 + 0.11 / sqrt(en)) d`.
pub fn ks_p_asymptotic(d: f64, n1: u64, n2: u64) -> f64 {
    let (m, n) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let s = (m * n / (m + n)).sqrt();
    kolmogorov_sf((s + 0.12 + 0.11 / s) * d).clamp(0.0, 1.0)
}

/// P(D >= h/n) for two samples of `n`: twice the alternating sum of Hodges' closed form.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor() as i64;
    while k >= 0 {
        let kh = k as f64 * h;
        let mut term = 1.0;
        let mut j = 0.0;
        while j < h {
            term = (n - kh - j) * term / (n + kh + j + 1.0);
            j += 1.0;
        }
        p = term * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// 1 - P(all lattice paths from (0,0) to (m,n) stay inside |x/m - y/n| < h/lcm), by the
/// inside method with each column scaled so the recursion carries the complement.
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let (m, n, h) = (m as i64, n as i64, h as i64);
    let ceil_div = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).ceil() as i64 };
    let floor_div = |a: i64, b: i64| -> i64 { (a as f64 / b as f64).floor() as i64 };
    let mut minj = 0i64;
    let mut maxj = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1) as usize;
    let mut a = vec![1.0f64; len_a];
    for x in a.iter_mut().take(maxj as usize).skip(minj as usize) {
        *x = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = (floor_div(ng * i - h, mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = (jj + minj) as f64;
            let fi = i as f64;
            val = (a[(jj + minj - lastminj) as usize] * fi + val * j) / (fi + j);
            a[jj as usize] = val;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            for x in a.iter_mut().skip(curlen as usize).take((lastlen - curlen) as usize) {
                *x = 1.0;
            }
        }
    }
    a[(maxj - minj - 1) as usize]
}

/// The Kolmogorov distribution's survival function, Q(λ) = 2 Σ (-1)^(k-1) exp(-2 k² λ²), with
/// the theta-function form for small λ where the alternating series converges slowly.
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        // 1 - Q = sqrt(2π)/λ Σ exp(-(2k-1)² π² / (8 λ²)).
        let c = -std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let s: f64 = (1..=20).map(|k| ((2 * k - 1) as f64).powi(2)).map(|q| (c * q).exp()).sum();
        return 1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * s;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let term = (-2.0 * (k * k) as f64 * lambda * lambda).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    2.0 * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_match_scipy() {
        // scipy 1.15.3: ks_2samp p-values for these (d, n1, n2).
        let p = ks_p(0.5, 10, 10);
        assert!((p.p - 0.16782134274394334).abs() < 1e-12, "{p:?}");
        let p = ks_p(0.3, 20, 30);
        assert!(p.exact && (p.d - 0.3).abs() < 1e-15);
        let p = ks_p(0.0, 5, 7);
        assert_eq!(p.p, 1.0);
    }

    #[test]
    fn kolmogorov_series_agree_where_they_meet() {
        for l in [0.3, 0.8, 0.99, 1.0, 1.01, 1.5, 2.5] {
            let q = kolmogorov_sf(l);
            assert!((0.0..=1.0).contains(&q));
        }
        assert!((kolmogorov_sf(1.0) - 0.26999967167735456).abs() < 1e-12);
        assert!((kolmogorov_sf(0.9999999) - kolmogorov_sf(1.0)).abs() < 1e-6);
    }
}
