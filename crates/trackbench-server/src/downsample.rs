//! Downsampling a whole series on the x-axis a chart wants (step, time since the run started,
//! or wall time): per-bucket min/max/last (no extreme hidden) or LTTB (a visually faithful
//! subset of real points). Step-axis min/max/last is done by the store from chunk summaries;
//! these are for the other axes and for LTTB.

use serde::Serialize;
use trackbench_store::Points;

/// One bucket over an x range: the extremes and the last point in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XBucket {
    pub x_first: f64,
    pub x_last: f64,
    pub count: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub last: f64,
    pub last_step: i64,
}

/// Splits `[min x, max x]` into `buckets` equal widths; empty buckets are left out. `xs` must
/// be sorted ascending (wall times of a series are, within rounding).
pub fn minmax_by_x(xs: &[f64], points: &Points, buckets: usize) -> Vec<XBucket> {
    let n = xs.len();
    if n == 0 {
        return Vec::new();
    }
    let buckets = buckets.max(1);
    let (lo, hi) = (xs[0], xs[n - 1]);
    let width = ((hi - lo) / buckets as f64).max(f64::MIN_POSITIVE);
    let mut out: Vec<XBucket> = Vec::with_capacity(buckets.min(n));
    let mut current = usize::MAX;
    for (i, &x) in xs.iter().enumerate() {
        let b = (((x - lo) / width) as usize).min(buckets - 1);
        let v = points.values[i];
        if b != current || out.is_empty() {
            current = b;
            out.push(XBucket {
                x_first: x,
                x_last: x,
                count: 0,
                min: None,
                max: None,
                last: v,
                last_step: points.steps[i],
            });
        }
        let bucket = out.last_mut().expect("pushed above");
        bucket.x_last = x;
        bucket.count += 1;
        bucket.last = v;
        bucket.last_step = points.steps[i];
        if !v.is_nan() {
            bucket.min = Some(bucket.min.map_or(v, |m| m.min(v)));
            bucket.max = Some(bucket.max.map_or(v, |m| m.max(v)));
        }
    }
    out
}

/// Largest-Triangle-Three-Buckets: indices of at most `threshold` points (first and last
/// always kept). Non-finite values are treated as 0 for the area, but a bucket holding one is
/// represented by it, so a NaN or inf spike never disappears from the chart.
pub fn lttb(xs: &[f64], ys: &[f64], threshold: usize) -> Vec<usize> {
    let n = xs.len();
    if threshold >= n {
        return (0..n).collect();
    }
    if threshold < 3 {
        return if n == 1 { vec![0] } else { vec![0, n - 1] };
    }
    let y = |i: usize| if ys[i].is_finite() { ys[i] } else { 0.0 };
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut out = Vec::with_capacity(threshold);
    out.push(0);
    let mut a = 0usize;
    for i in 0..threshold - 2 {
        let start = (i as f64 * every) as usize + 1;
        let end = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        let next_start = end;
        let next_end = ((((i + 2) as f64) * every) as usize + 1).min(n);
        let (mut ax, mut ay) = (0.0, 0.0);
        let cnt = (next_end - next_start).max(1) as f64;
        for (j, x) in xs.iter().enumerate().take(next_end.max(next_start + 1).min(n)).skip(next_start) {
            ax += x;
            ay += y(j);
        }
        ax /= cnt;
        ay /= cnt;
        let (px, py) = (xs[a], y(a));
        let mut best = start;
        let mut best_area = -1.0;
        let mut non_finite = None;
        for j in start..end.max(start + 1) {
            if !ys[j].is_finite() && non_finite.is_none() {
                non_finite = Some(j);
            }
            let area = ((px - ax) * (y(j) - py) - (px - xs[j]) * (ay - py)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        let pick = non_finite.unwrap_or(best);
        out.push(pick);
        a = pick;
    }
    out.push(n - 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64]) -> Points {
        let mut p = Points::default();
        for (i, v) in values.iter().enumerate() {
            p.push(i as i64, 1000 + 10 * i as i64, *v);
        }
        p
    }

    #[test]
    fn minmax_keeps_every_extreme_and_the_last_value() {
        let p = points(&[1.0, 9.0, 2.0, f64::NAN, -5.0, 3.0]);
        let xs: Vec<f64> = p.wall_ms.iter().map(|w| *w as f64).collect();
        let b = minmax_by_x(&xs, &p, 2);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].min, b[0].max, b[0].count), (Some(1.0), Some(9.0), 3));
        assert_eq!((b[1].min, b[1].max, b[1].last, b[1].last_step), (Some(-5.0), Some(3.0), 3.0, 5));
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 6);
    }

    #[test]
    fn lttb_keeps_ends_spikes_and_size() {
        let mut v: Vec<f64> = (0..1000).map(|i| (i as f64 / 50.0).sin()).collect();
        v[500] = 40.0;
        v[700] = f64::NAN;
        let xs: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let idx = lttb(&xs, &v, 100);
        assert_eq!(idx.len(), 100);
        assert_eq!((idx[0], idx[99]), (0, 999));
        assert!(idx.contains(&500), "the spike survives");
        assert!(idx.contains(&700), "the NaN survives");
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(lttb(&xs[..10], &v[..10], 100), (0..10).collect::<Vec<_>>());
    }
}
