//! What a chart of one column draws, read from one profile (a run's "Data" tab) or two (a
//! drift view, a report's drift section): a histogram on bins both sides share, the CDF at the
//! bin edges, or the most frequent categories side by side.
//!
//! The numbers come from the profiles alone, so a chart is as exact as its profiles: the data's
//! own counts where a column is held exactly, the KLL sketch's weights (each bin's share within
//! the sketch's interval-mass error, which the chart carries) where it is sketched. Shares, not
//! counts, are what the series hold, so a reference of 1M rows and a current batch of 10k
//! overlay on one axis. [`overview`] is a column's summary row.

use serde::Serialize;

use crate::profile::{CategoricalStats, ColumnProfile, DType, NumericStats, Summary, Weighted};

/// One column's chart over one or more profiles (`series[i]` is the i-th profile's).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// Equal-width bins over every profile's finite values.
    Numeric {
        /// `bins + 1` edges; the last bin includes its upper edge.
        edges: Vec<f64>,
        /// Per profile, each bin's share of its finite values.
        shares: Vec<Vec<f64>>,
        /// Per profile, the CDF at each edge (the share of values `<= edge`).
        cdf: Vec<Vec<f64>>,
        /// Per profile, the largest error of a bin's share (0 where exact).
        error: Vec<f64>,
    },
    /// The most frequent categories over every profile, then everything else.
    Categorical {
        labels: Vec<String>,
        /// Per profile, each label's share of its non-null values.
        shares: Vec<Vec<f64>>,
        /// Per profile, the share of every category not listed.
        other: Vec<f64>,
        /// Per profile, the largest error of a listed share (0 where exact).
        error: Vec<f64>,
    },
    /// Nothing to draw: no values, or the profiles disagree on the column's kind.
    None { why: String },
}

/// The chart of `columns` (one per profile, `None` where a profile lacks the column) with at
/// most `bins` numeric bins and `top` categories.
pub fn chart(columns: &[Option<&ColumnProfile>], bins: usize, top: usize) -> Chart {
    let bins = bins.max(1);
    let present: Vec<&ColumnProfile> = columns.iter().flatten().copied().collect();
    if present.is_empty() {
        return Chart::None { why: "no profile has this column".into() };
    }
    let numeric: Vec<Option<&NumericStats>> = columns
        .iter()
        .map(|c| match c.map(|c| &c.summary) {
            Some(Summary::Numeric(s)) => Some(s),
            _ => None,
        })
        .collect();
    let categorical: Vec<Option<&CategoricalStats>> = columns
        .iter()
        .map(|c| match c.map(|c| &c.summary) {
            Some(Summary::Categorical(s)) => Some(s),
            _ => None,
        })
        .collect();
    let (n_num, n_cat) = (numeric.iter().flatten().count(), categorical.iter().flatten().count());
    match (n_num, n_cat) {
        (0, 0) => Chart::None { why: "no non-null values".into() },
        (_, 0) => numeric_chart(&numeric, bins),
        (0, _) => categorical_chart(&categorical, top),
        _ => Chart::None { why: "numbers in one profile, categories in another".into() },
    }
}

fn numeric_chart(stats: &[Option<&NumericStats>], bins: usize) -> Chart {
    let lo = stats.iter().flatten().filter_map(|s| s.min).fold(f64::INFINITY, f64::min);
    let hi = stats.iter().flatten().filter_map(|s| s.max).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return Chart::None { why: "no finite values (only NaN or ±inf)".into() };
    }
    let (lo, hi, bins) = if lo == hi { (lo - 0.5, hi + 0.5, 1) } else { (lo, hi, bins) };
    let step = (hi - lo) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| lo + i as f64 * step).collect();
    edges[bins] = hi;
    let (mut shares, mut cdf, mut error) = (Vec::new(), Vec::new(), Vec::new());
    for s in stats {
        let Some(s) = s else {
            shares.push(vec![0.0; bins]);
            cdf.push(vec![0.0; bins + 1]);
            error.push(0.0);
            continue;
        };
        let w: Weighted = s.weighted();
        let mut counts = vec![0u64; bins];
        let mut at_or_below = vec![0u64; bins + 1];
        for &(v, c) in &w.points {
            // The bin i with edges[i] <= v < edges[i + 1]; the top edge belongs to the last bin.
            let i = edges.partition_point(|&e| e <= v).saturating_sub(1).min(bins - 1);
            counts[i] += c;
            // Every edge at or above v counts it in the CDF.
            let j = edges.partition_point(|&e| e < v);
            if j <= bins {
                at_or_below[j] += c;
            }
        }
        let total = w.total.max(1) as f64;
        shares.push(counts.iter().map(|&c| c as f64 / total).collect());
        let mut run = 0u64;
        cdf.push(
            at_or_below
                .iter()
                .map(|&c| {
                    run += c;
                    run as f64 / total
                })
                .collect(),
        );
        error.push(w.pmf_error);
    }
    Chart::Numeric { edges, shares, cdf, error }
}

fn categorical_chart(stats: &[Option<&CategoricalStats>], top: usize) -> Chart {
    let mut counts = Vec::new();
    for s in stats {
        counts.push(match s {
            Some(s) => match s.counts() {
                Ok(c) => Some(c),
                Err(e) => return Chart::None { why: format!("unreadable category counts: {e}") },
            },
            None => None,
        });
    }
    // Labels by their largest share in any profile, so a new category in the current data shows.
    let mut best: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for c in counts.iter().flatten() {
        let total = c.total.max(1) as f64;
        for (k, v) in &c.items {
            let share = *v as f64 / total;
            let e = best.entry(k.as_str()).or_insert(0.0);
            *e = e.max(share);
        }
    }
    let mut labels: Vec<(&str, f64)> = best.into_iter().collect();
    labels.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    labels.truncate(top.max(1));
    let labels: Vec<String> = labels.into_iter().map(|(k, _)| k.to_string()).collect();
    let (mut shares, mut other, mut error) = (Vec::new(), Vec::new(), Vec::new());
    for c in &counts {
        let Some(c) = c else {
            shares.push(vec![0.0; labels.len()]);
            other.push(0.0);
            error.push(0.0);
            continue;
        };
        let total = c.total.max(1) as f64;
        let row: Vec<f64> = labels
            .iter()
            .map(|l| c.items.iter().find(|(k, _)| k == l).map_or(0.0, |(_, v)| *v as f64 / total))
            .collect();
        let listed: f64 = row.iter().sum();
        other.push((1.0 - listed).max(0.0));
        shares.push(row);
        error.push(c.max_error as f64 / total);
    }
    Chart::Categorical { labels, shares, other, error }
}

/// One column's summary as a table row shows it (a run's "Data" tab, a report).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub name: String,
    pub dtype: DType,
    pub count: u64,
    pub nulls: u64,
    /// Distinct non-null values: exact where `exact`, else the HLL estimate.
    pub distinct: f64,
    /// Whether the distribution is the data's own (not sketched).
    pub exact: bool,
    /// Numeric columns: NaN, +inf and -inf, counted apart from the finite values.
    pub nan: Option<u64>,
    pub pos_inf: Option<u64>,
    pub neg_inf: Option<u64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1).
    pub std: Option<f64>,
    /// Numeric columns: the 5th, 25th, 50th, 75th and 95th percentiles.
    pub quantiles: Option<Vec<f64>>,
    /// Categorical columns: the five most frequent categories with their counts.
    pub top: Vec<(String, u64)>,
}

/// The overview of one column.
pub fn overview(c: &ColumnProfile) -> Overview {
    let mut o = Overview {
        name: c.name.clone(),
        dtype: c.dtype,
        count: c.count,
        nulls: c.nulls,
        distinct: 0.0,
        exact: true,
        nan: None,
        pos_inf: None,
        neg_inf: None,
        min: None,
        max: None,
        mean: None,
        std: None,
        quantiles: None,
        top: Vec::new(),
    };
    match &c.summary {
        Summary::Empty => {}
        Summary::Numeric(s) => {
            // An HLL estimate can pass the number of values; it cannot be more.
            o.distinct = s.distinct().min(s.finite as f64);
            o.exact = s.is_exact();
            (o.nan, o.pos_inf, o.neg_inf) = (Some(s.nan), Some(s.pos_inf), Some(s.neg_inf));
            (o.min, o.max, o.mean, o.std) = (s.min, s.max, s.mean, s.std());
            o.quantiles = s.quantiles(&[0.05, 0.25, 0.5, 0.75, 0.95]);
        }
        Summary::Categorical(s) => {
            o.distinct = s.distinct().min(s.total as f64);
            o.exact = s.is_exact();
            o.top = s.top(5).unwrap_or_default();
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, ColumnValues, Profile, ProfileOptions};

    fn profile(xs: &[f64]) -> Profile {
        Profile::from_columns(&[Column::new("x", ColumnValues::F64(xs))], &ProfileOptions::default()).unwrap()
    }

    #[test]
    fn numeric_bins_are_shared_and_shares_sum_to_one() {
        let a = profile(&[0.0, 1.0, 1.0, 2.0, f64::NAN]);
        let b = profile(&[2.0, 3.0, 4.0, 4.0]);
        let Chart::Numeric { edges, shares, cdf, error } = chart(&[a.column("x"), b.column("x")], 4, 10) else {
            panic!("numeric chart")
        };
        assert_eq!(edges, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        // a: 0 | 1 1 | 2 | - (NaN counted apart); b: - | - | 2 | 3 4 4 (top edge in the last bin).
        assert_eq!(shares[0], vec![0.25, 0.5, 0.25, 0.0]);
        assert_eq!(shares[1], vec![0.0, 0.0, 0.25, 0.75]);
        assert_eq!(cdf[0], vec![0.25, 0.75, 1.0, 1.0, 1.0]);
        assert_eq!(cdf[1], vec![0.0, 0.0, 0.25, 0.5, 1.0]);
        assert_eq!(error, vec![0.0, 0.0]);
        let o = overview(a.column("x").unwrap());
        assert_eq!((o.count, o.nan, o.min, o.max, o.distinct), (5, Some(1), Some(0.0), Some(2.0), 3.0));
        assert_eq!(o.quantiles, Some(vec![0.0, 0.0, 1.0, 1.0, 2.0]));
    }

    #[test]
    fn a_constant_column_is_one_bin_and_a_missing_one_is_empty() {
        let a = profile(&[5.0, 5.0]);
        let Chart::Numeric { edges, shares, .. } = chart(&[a.column("x"), None], 30, 10) else { panic!() };
        assert_eq!(edges, vec![4.5, 5.5]);
        assert_eq!(shares, vec![vec![1.0], vec![0.0]]);
        assert!(matches!(chart(&[None], 30, 10), Chart::None { .. }));
        let inf = profile(&[f64::INFINITY, f64::NAN]);
        assert!(matches!(chart(&[inf.column("x")], 30, 10), Chart::None { .. }));
    }

    #[test]
    fn categories_show_a_new_one_and_the_rest() {
        let cats = |v: &[&str]| {
            let vals: Vec<Option<&str>> = v.iter().map(|s| Some(*s)).collect();
            Profile::from_columns(&[Column::new("c", ColumnValues::Str(&vals))], &ProfileOptions::default()).unwrap()
        };
        let a = cats(&["x", "x", "y", "z"]);
        let b = cats(&["x", "new", "new", "new"]);
        let Chart::Categorical { labels, shares, other, .. } = chart(&[a.column("c"), b.column("c")], 30, 2) else {
            panic!("categorical chart")
        };
        assert_eq!(labels, vec!["new", "x"]);
        assert_eq!(shares, vec![vec![0.0, 0.5], vec![0.75, 0.25]]);
        assert_eq!(other, vec![0.5, 0.0]);
        let n = profile(&[1.0]);
        assert!(matches!(chart(&[a.column("c"), n.column("x")], 30, 2), Chart::None { .. }));
    }
}
