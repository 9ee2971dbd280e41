//! Smoothing for charts, as pure functions over a series' values (in step order).
//!
//! Both are NaN-aware: a non-finite value (NaN, ±inf) comes out unchanged at its position and
//! takes no part in smoothing its neighbours, so one diverged point neither vanishes from the
//! chart nor turns a window of its neighbours into NaN.

/// The largest EMA weight used; heavier weights are clamped to it (at 1 nothing would move).
pub const MAX_EMA_WEIGHT: f64 = 0.999;

/// Exponential moving average with TensorBoard's debiasing.
///
/// `weight` is TensorBoard's smoothing slider: the weight of the past, in `[0, 1)`; 0 leaves
/// the values as they are, 0.6 is TensorBoard's default, 0.99 smooths heavily. Values outside
/// are clamped to `[0, MAX_EMA_WEIGHT]` (NaN counts as 0). With `n` finite values seen so far,
///
/// ```text
/// acc_n = weight * acc_{n-1} + (1 - weight) * x_n     (acc_0 = 0)
/// out_n = acc_n / (1 - weight^n)
/// ```
///
/// so early points are not pulled toward 0. A series whose finite values are all equal comes
/// back unchanged (no rounding noise).
pub fn smooth_ema(values: &[f64], weight: f64) -> Vec<f64> {
    let w = if weight.is_nan() { 0.0 } else { weight.clamp(0.0, MAX_EMA_WEIGHT) };
    let mut finite = values.iter().filter(|v| v.is_finite());
    if let Some(first) = finite.next()
        && finite.all(|v| v == first)
    {
        return values.to_vec();
    }
    let mut acc = 0.0;
    let mut seen: i32 = 0;
    values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                return v;
            }
            acc = acc * w + (1.0 - w) * v;
            seen = seen.saturating_add(1);
            acc / (1.0 - w.powi(seen))
        })
        .collect()
}

/// Gaussian smoothing: each finite value becomes the weighted mean of the finite values
/// within `4 * sigma` points of it (weights `exp(-d² / 2σ²)` by distance `d` in points, as
/// `scipy.ndimage.gaussian_filter1d` truncates). Near the ends, and around non-finite values,
/// the weights of the points present are renormalised instead of padding. `sigma` is in
/// points; one that is not positive and finite leaves the values as they are. Costs
/// `O(len * sigma)`.
pub fn smooth_gaussian(values: &[f64], sigma: f64) -> Vec<f64> {
    if !(sigma > 0.0 && sigma.is_finite()) || values.is_empty() {
        return values.to_vec();
    }
    let radius = ((4.0 * sigma).ceil() as usize).min(values.len() - 1);
    let weights: Vec<f64> = (0..=radius).map(|d| (-((d * d) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    (0..values.len())
        .map(|i| {
            if !values[i].is_finite() {
                return values[i];
            }
            let lo = i.saturating_sub(radius);
            let hi = (i + radius).min(values.len() - 1);
            let (mut sum, mut total) = (0.0, 0.0);
            for (j, &v) in values.iter().enumerate().take(hi + 1).skip(lo) {
                if v.is_finite() {
                    let w = weights[i.abs_diff(j)];
                    sum += w * v;
                    total += w;
                }
            }
            sum / total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
        for (x, y) in a.iter().zip(b) {
            let same = (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs());
            assert!(same, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn ema_matches_tensorboard() {
        // By hand: acc = 0.5, 1.25, 2.125; debias 0.5, 0.75, 0.875.
        close(&smooth_ema(&[1.0, 2.0, 3.0], 0.5), &[1.0, 1.25 / 0.75, 2.125 / 0.875]);
        // TensorBoard's default weight: acc = 0.4*10, 0.6*4 + 0.4*0, ...
        let out = smooth_ema(&[10.0, 0.0, 5.0], 0.6);
        close(&out, &[10.0, 2.4 / 0.64, (1.44 + 2.0) / (1.0 - 0.216)]);
        close(&smooth_ema(&[1.0, 2.0, 3.0], 0.0), &[1.0, 2.0, 3.0]);
    }

    #[test]
    fn ema_passes_nan_through_without_spreading_it() {
        let out = smooth_ema(&[1.0, f64::NAN, 2.0, f64::INFINITY, 3.0], 0.5);
        close(&out, &[1.0, f64::NAN, 1.25 / 0.75, f64::INFINITY, 2.125 / 0.875]);
        close(&smooth_ema(&[f64::NAN, f64::NAN], 0.5), &[f64::NAN, f64::NAN]);
        assert!(smooth_ema(&[], 0.5).is_empty());
    }

    #[test]
    fn ema_keeps_constants_exact_and_clamps_the_weight() {
        let c = [0.1, 0.1, f64::NAN, 0.1];
        close(&smooth_ema(&c, 0.9), &c);
        let heavy = smooth_ema(&[1.0, 2.0], 1.5);
        close(&heavy, &smooth_ema(&[1.0, 2.0], MAX_EMA_WEIGHT));
        assert!(heavy.iter().all(|v| v.is_finite()));
        close(&smooth_ema(&[1.0, 2.0], f64::NAN), &[1.0, 2.0]);
        close(&smooth_ema(&[1.0, 2.0], -1.0), &[1.0, 2.0]);
    }

    #[test]
    fn gaussian_known_values() {
        let (w1, w2) = ((-0.5f64).exp(), (-2.0f64).exp());
        let out = smooth_gaussian(&[0.0, 0.0, 1.0, 0.0, 0.0], 1.0);
        // The middle: its own weight over the whole (untruncated) kernel.
        let mid = 1.0 / (1.0 + 2.0 * w1 + 2.0 * w2);
        // The first point sees itself, +1 (0), +2 (the 1) ... +4: weights renormalised at the edge.
        let w3 = (-4.5f64).exp();
        let w4 = (-8.0f64).exp();
        let first = w2 / (1.0 + w1 + w2 + w3 + w4);
        close(&out, &[first, w1 / (1.0 + 2.0 * w1 + w2 + w3), mid, w1 / (1.0 + 2.0 * w1 + w2 + w3), first]);
        // mid ≈ 0.4026
        assert!((mid - 0.402619).abs() < 1e-6);
        close(&smooth_gaussian(&[3.0, 3.0, 3.0], 2.0), &[3.0, 3.0, 3.0]);
    }

    #[test]
    fn gaussian_skips_nan_neighbours() {
        let out = smooth_gaussian(&[1.0, f64::NAN, 3.0], 0.5);
        // sigma 0.5: radius 2; point 0 sees point 2 at distance 2 (weight e^-8).
        let w2 = (-8.0f64).exp();
        close(&out, &[(1.0 + 3.0 * w2) / (1.0 + w2), f64::NAN, (3.0 + w2) / (1.0 + w2)]);
        let out = smooth_gaussian(&[1.0, f64::NEG_INFINITY, 1.0], 1.0);
        close(&out, &[1.0, f64::NEG_INFINITY, 1.0]);
    }

    #[test]
    fn gaussian_without_a_usable_sigma_is_the_identity() {
        let v = [1.0, 5.0, f64::NAN];
        for sigma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            close(&smooth_gaussian(&v, sigma), &v);
        }
        assert!(smooth_gaussian(&[], 1.0).is_empty());
        close(&smooth_gaussian(&[2.0], 1e9), &[2.0]);
    }
}
