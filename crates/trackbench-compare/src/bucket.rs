//! Equal-width min/max/last buckets over an integer x (a step, or a time in milliseconds): the
//! one reduction of a whole series for a chart on an axis the store cannot fold from its chunk
//! summaries. [`aligned`](crate::aligned) uses it on the time axes, the server's series
//! endpoint on every axis it downsamples by min/max. Elsewhere: the step-axis fold is
//! `Store::downsample`; LTTB (a subset of real points) is the server's `downsample`.
//!
//! Every bucket keeps its point count, min and max (NaN ignored) and its last point (which may
//! be NaN), so a chart can draw the line through the last values and a band from min to max
//! without hiding an extreme.

use serde::Serialize;
use trackbench_store::Points;

/// One bucket over an x range: the extremes and the last point in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XBucket {
    /// x of the bucket's first point (its smallest x).
    pub x_first: i64,
    /// x of the bucket's last point (its greatest x).
    pub x_last: i64,
    pub count: u64,
    /// Over the bucket's non-NaN values; `None` when all were NaN.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Value of the bucket's last point (may be NaN).
    pub last: f64,
    /// Step of the bucket's last point.
    pub last_step: i64,
}

/// Splits `[min x, max x]` into `buckets` (at least 1) equal widths and reduces the points in
/// each to an [`XBucket`], in increasing x; empty buckets are left out. `xs[i]` is the x of
/// point `i` of `points` and need not be sorted: points are taken in x order, and on equal x in
/// their order in `points`, so of two points at the same x the later one is the bucket's last.
///
/// The arithmetic is exact: x belongs to bucket `(x - min) * buckets / (max - min + 1)` (integer
/// division, in `i128`/`u128` so no x range and no bucket count overflows).
pub fn minmax_by_x(xs: &[i64], points: &Points, buckets: usize) -> Vec<XBucket> {
    debug_assert_eq!(xs.len(), points.len(), "one x per point");
    let (Some(&lo), Some(&hi)) = (xs.iter().min(), xs.iter().max()) else {
        return Vec::new();
    };
    let buckets = buckets.max(1);
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let index = |x: i64| ((x as i128 - lo as i128) as u128 * buckets as u128 / span) as usize;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    // Stable: equal x keep their order in `points`.
    order.sort_by_key(|&i| xs[i]);
    let mut out: Vec<XBucket> = Vec::with_capacity(buckets.min(xs.len()));
    let mut current = None;
    for i in order {
        let (x, v, step) = (xs[i], points.values[i], points.steps[i]);
        let b = index(x);
        if current != Some(b) {
            current = Some(b);
            out.push(XBucket { x_first: x, x_last: x, count: 0, min: None, max: None, last: v, last_step: step });
        }
        let bucket = out.last_mut().expect("pushed above");
        (bucket.x_last, bucket.last, bucket.last_step) = (x, v, step);
        bucket.count += 1;
        if !v.is_nan() {
            bucket.min = Some(bucket.min.map_or(v, |m| m.min(v)));
            bucket.max = Some(bucket.max.map_or(v, |m| m.max(v)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points at steps 0, 1, … with the given wall times and values.
    fn points(walls: &[i64], values: &[f64]) -> Points {
        let mut p = Points::default();
        for (i, (w, v)) in walls.iter().zip(values).enumerate() {
            p.push(i as i64, *w, *v);
        }
        p
    }

    /// Buckets of `points` over their wall times as `(x_first, x_last, count, last_step)`.
    fn check(walls: &[i64], buckets: usize, expect: &[(i64, i64, u64, i64)]) {
        let p = points(walls, &vec![0.0; walls.len()]);
        let got: Vec<_> =
            minmax_by_x(&p.wall_ms, &p, buckets).iter().map(|b| (b.x_first, b.x_last, b.count, b.last_step)).collect();
        assert_eq!(got, expect, "{walls:?} in {buckets} buckets");
    }

    #[test]
    fn minmax_keeps_every_extreme_and_the_last_value() {
        let walls: Vec<i64> = (0..6).map(|i| 1000 + 10 * i).collect();
        let p = points(&walls, &[1.0, 9.0, 2.0, f64::NAN, -5.0, 3.0]);
        let b = minmax_by_x(&p.wall_ms, &p, 2);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].min, b[0].max, b[0].count), (Some(1.0), Some(9.0), 3));
        assert_eq!((b[1].min, b[1].max, b[1].last, b[1].last_step), (Some(-5.0), Some(3.0), 3.0, 5));
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 6);
    }

    #[test]
    fn nan_is_never_an_extreme_but_can_be_last() {
        let p = points(&[0, 1, 2], &[f64::NAN, 2.0, f64::NAN]);
        let b = minmax_by_x(&p.wall_ms, &p, 1);
        assert_eq!((b[0].min, b[0].max, b[0].count), (Some(2.0), Some(2.0), 3));
        assert!(b[0].last.is_nan());
        let only_nan = points(&[5], &[f64::NAN]);
        let b = minmax_by_x(&only_nan.wall_ms, &only_nan, 10);
        assert_eq!((b[0].min, b[0].max), (None, None));
    }

    #[test]
    fn buckets_split_the_range_in_equal_integer_widths() {
        check(&[], 3, &[]);
        check(&[7], 0, &[(7, 7, 1, 0)]);
        // 0..=9 in 2 buckets: 0..=4 and 5..=9.
        check(&[0, 4, 5, 9], 2, &[(0, 4, 2, 1), (5, 9, 2, 3)]);
        // 1010..=1050 is 41 ms: 1010 + 20 is still in the first of two buckets.
        check(&[1010, 1030, 1031, 1050], 2, &[(1010, 1030, 2, 1), (1031, 1050, 2, 3)]);
        // Empty buckets are left out; more buckets than points give one per distinct x.
        check(&[0, 100], 10, &[(0, 0, 1, 0), (100, 100, 1, 1)]);
        check(&[3, 3, 4], 100, &[(3, 3, 2, 1), (4, 4, 1, 2)]);
        // No overflow at the ends of the range or with the most buckets.
        check(&[i64::MIN, 0, i64::MAX], 2, &[(i64::MIN, i64::MIN, 1, 0), (0, i64::MAX, 2, 2)]);
        check(&[i64::MIN, i64::MAX], usize::MAX, &[(i64::MIN, i64::MIN, 1, 0), (i64::MAX, i64::MAX, 1, 1)]);
    }

    #[test]
    fn points_are_taken_in_x_order_and_ties_keep_the_later_last() {
        // Steps in order, times not (a clock that went back); steps 2 and 3 share a time.
        check(&[1050, 1010, 1030, 1030], 100, &[(1010, 1010, 1, 1), (1030, 1030, 2, 3), (1050, 1050, 1, 0)]);
        check(&[1050, 1010, 1030, 1030], 1, &[(1010, 1050, 4, 0)]);
    }
}
