//! LTTB: downsampling a whole series on the x-axis a chart wants (step, time since the run
//! started, or wall time) to a visually faithful subset of its real points. The other method,
//! per-bucket min/max/last (no extreme hidden), is defined once for the server and `compare`
//! in `trackbench_compare::minmax_by_x`; on the step axis the store folds it from chunk
//! summaries (`Store::downsample`).

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
