//! Downsampling for drawing: a chart is a few hundred pixels wide, so a series of 100k points is
//! cut into x buckets (about two pixels each) and only each bucket's minimum and maximum are
//! drawn, in their original order. Spikes stay visible (a bucket's extremes are always kept), and
//! so do each segment's first and last points. Non-finite values break a line into segments.
//!
//! Only drawing is downsampled; the CSV and JSON outputs carry the input's points unchanged.

/// Equal-width buckets over the chart's x range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid {
    pub x_min: f64,
    pub x_max: f64,
    pub buckets: usize,
}

impl Grid {
    fn bucket(&self, x: f64) -> usize {
        let span = self.x_max - self.x_min;
        if span.is_nan() || span <= 0.0 || self.buckets <= 1 {
            return 0;
        }
        let b = ((x - self.x_min) / span * self.buckets as f64).floor();
        (b.max(0.0) as usize).min(self.buckets - 1)
    }

    /// A segment longer than this is downsampled; shorter ones are drawn as they are.
    pub fn threshold(&self) -> usize {
        2 * self.buckets.max(1) + 2
    }
}

/// Which extremes of a bucket to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Keep {
    MinMax,
    Min,
    Max,
}

/// Splits the points at non-finite or unwanted values (`|x| > x_limit`, `valid(y)` false) into
/// runs of drawable points.
pub(crate) fn segments(x: &[f64], y: &[f64], x_limit: f64, valid: impl Fn(f64) -> bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (&xi, &yi) in x.iter().zip(y) {
        if xi.abs() <= x_limit && yi.is_finite() && valid(yi) {
            cur.push((xi, yi));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Keeps, per bucket of `grid`, the points with the smallest and/or largest y (in their
/// original order), plus the first and last point. A segment at most `grid.threshold()` long
/// is returned unchanged.
pub(crate) fn reduce(points: &[(f64, f64)], grid: Grid, keep: Keep) -> Vec<(f64, f64)> {
    if points.len() <= grid.threshold() {
        return points.to_vec();
    }
    let mut out = Vec::with_capacity(grid.threshold());
    let last = points.len() - 1;
    let mut start = 0;
    while start <= last {
        let b = grid.bucket(points[start].0);
        let mut end = start;
        let (mut lo, mut hi) = (start, start);
        while end < last && grid.bucket(points[end + 1].0) == b {
            end += 1;
            if points[end].1 < points[lo].1 {
                lo = end;
            }
            if points[end].1 > points[hi].1 {
                hi = end;
            }
        }
        let mut picks: Vec<usize> = match keep {
            Keep::MinMax => vec![lo, hi],
            Keep::Min => vec![lo],
            Keep::Max => vec![hi],
        };
        if start == 0 {
            picks.push(0);
        }
        if end == last {
            picks.push(last);
        }
        picks.sort_unstable();
        picks.dedup();
        out.extend(picks.into_iter().map(|i| points[i]));
        start = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(buckets: usize) -> Grid {
        Grid { x_min: 0.0, x_max: 1000.0, buckets }
    }

    #[test]
    fn short_segments_are_unchanged() {
        let pts: Vec<_> = (0..10).map(|i| (i as f64, (i * i) as f64)).collect();
        assert_eq!(reduce(&pts, grid(10), Keep::MinMax), pts);
    }

    #[test]
    fn keeps_first_last_and_spikes() {
        let mut pts: Vec<_> = (0..1000).map(|i| (i as f64, 1.0)).collect();
        pts[500].1 = 99.0;
        pts[700].1 = -5.0;
        pts[999].1 = 2.0;
        let r = reduce(&pts, grid(20), Keep::MinMax);
        assert!(r.len() <= 2 * 20 + 2, "{}", r.len());
        assert_eq!(r.first(), Some(&(0.0, 1.0)));
        assert_eq!(r.last(), Some(&(999.0, 2.0)));
        assert!(r.contains(&(500.0, 99.0)));
        assert!(r.contains(&(700.0, -5.0)));
        assert!(r.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
    }

    #[test]
    fn band_edges_keep_their_extreme() {
        let pts: Vec<_> = (0..1000).map(|i| (i as f64, (i % 7) as f64)).collect();
        let hi = reduce(&pts, grid(10), Keep::Max);
        let lo = reduce(&pts, grid(10), Keep::Min);
        assert!(hi.iter().filter(|p| p.0 != 0.0 && p.0 != 999.0).all(|p| p.1 == 6.0));
        assert!(lo.iter().filter(|p| p.0 != 0.0 && p.0 != 999.0).all(|p| p.1 == 0.0));
    }

    #[test]
    fn non_finite_values_split_segments() {
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.0, f64::NAN, 2.0, 3.0, f64::INFINITY, 4.0];
        let s = segments(&x, &y, 1e300, |_| true);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)], vec![(5.0, 4.0)]]);
        let pos = segments(&x, &[1.0, -1.0, 2.0, 0.0, 3.0, 4.0], 1e300, |v| v > 0.0);
        assert_eq!(segments(&[0.0, 1e301], &[1.0, 1.0], 1e300, |_| true), vec![vec![(0.0, 1.0)]]);
        assert_eq!(pos.len(), 3);
    }

    #[test]
    fn degenerate_grid_does_not_panic() {
        let pts: Vec<_> = (0..100).map(|i| (5.0, i as f64)).collect();
        let g = Grid { x_min: 5.0, x_max: 5.0, buckets: 10 };
        let r = reduce(&pts, g, Keep::MinMax);
        assert_eq!(r, vec![(5.0, 0.0), (5.0, 99.0)]);
    }
}
