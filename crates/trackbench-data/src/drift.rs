//! Drift tests between two profiles, per column, and the dataset's verdict.
//!
//! Tests (each on a column's non-null, finite values; NaN/±inf are reported, not tested):
//! - `ks`: two-sample Kolmogorov–Smirnov, `D = sup |F_ref - F_cur|`; p-value as
//!   `scipy.stats.ks_2samp` (see [`crate::ks`]); drift when `p < threshold` (0.05).
//! - `chi2`: chi-square test of homogeneity on the 2 × k table of counts (reference row, current
//!   row, a column per category in either), as `scipy.stats.chi2_contingency` with its default
//!   Yates correction when k = 2; drift when `p < threshold` (0.05).
//! - `wasserstein`: `scipy.stats.wasserstein_distance` divided by the reference's population
//!   standard deviation (at least 0.001), Evidently's "normed" form; drift when `>= threshold`
//!   (0.1). The raw distance is reported too.
//! - `js`: Jensen–Shannon distance (natural log, `scipy.spatial.distance.jensenshannon`) between
//!   the two histograms; drift when `>= threshold` (0.1).
//! - `psi`: population stability index `Σ (r - c) ln(r / c)` over the same histograms; drift when
//!   `>= threshold` (0.1), with the customary bands (< 0.1 none, < 0.2 moderate, else major).
//!
//! Histograms follow Evidently: a numeric column whose reference has more than 20 distinct values
//! is cut into Sturges' bins over both samples (`numpy.histogram_bin_edges(..., "sturges")`),
//! otherwise every value (or category) is a bin; empty bins get a small mass (0.0001, or a
//! millionth of the smallest non-empty one when that is smaller), as Evidently's `feel_zeroes`.
//!
//! `auto` picks per column as Evidently's defaults do: when the reference has at most
//! [`DriftOptions::small_sample`] (1000) values, KS for numbers (chi-square when both samples
//! together hold at most 5 distinct values) and chi-square for categories; above, normed
//! Wasserstein for numbers (Jensen–Shannon when at most 5 distinct values) and Jensen–Shannon
//! for categories. (Evidently uses a proportions z-test for two categories; chi-square on a 2×2
//! table is the same test.) Each column says what was chosen and why.
//!
//! Exact and sketched: where both profiles hold a column exactly, every statistic is the data's
//! own. Where either is sketched, `error_bound` bounds the statistic's error (99% confidence, from
//! the KLL rank error ε of each side): KS `ε_ref + ε_cur`; Wasserstein `(ε_ref + ε_cur) × range`
//! (normed: divided by the same norm); chi-square, JS and PSI on sketched counts carry a note with
//! the per-bin or per-count error instead, as no simple bound on the statistic follows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ks::{ks_p, ks_p_asymptotic};
use crate::profile::{CategoricalStats, ColumnProfile, DType, NumericStats, Profile, Summary, Weighted};

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    Auto,
    Ks,
    Chi2,
    Wasserstein,
    Js,
    Psi,
}

impl Test {
    /// The default threshold: a p-value for KS and chi-square, a distance for the others.
    pub fn default_threshold(self) -> f64 {
        match self {
            Test::Ks | Test::Chi2 => 0.05,
            Test::Wasserstein | Test::Js | Test::Psi | Test::Auto => 0.1,
        }
    }

    /// Whether the threshold applies to a p-value (drift below it) rather than the statistic
    /// (drift at or above it).
    pub fn uses_p_value(self) -> bool {
        matches!(self, Test::Ks | Test::Chi2)
    }

    /// The name the CLI and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Test::Auto => "auto",
            Test::Ks => "ks",
            Test::Chi2 => "chi2",
            Test::Wasserstein => "wasserstein",
            Test::Js => "js",
            Test::Psi => "psi",
        }
    }
}

impl std::str::FromStr for Test {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Test::Auto,
            "ks" => Test::Ks,
            "chi2" => Test::Chi2,
            "wasserstein" => Test::Wasserstein,
            "js" => Test::Js,
            "psi" => Test::Psi,
            _ => return Err(format!("unknown test {s:?} (auto, ks, chi2, wasserstein, js, psi)")),
        })
    }
}

/// What to test and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DriftOptions {
    /// The test for every column (`auto`: per column, see the module doc).
    pub test: Test,
    /// Only these columns (all of the reference's when `None`).
    pub columns: Option<Vec<String>>,
    /// Threshold overrides by test.
    pub thresholds: BTreeMap<Test, f64>,
    /// The dataset drifts when at least this share of tested columns drift (Evidently's 0.5).
    pub drift_share: f64,
    /// `auto`'s small-sample bound on the reference's value count (Evidently's 1000).
    pub small_sample: u64,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            test: Test::Auto,
            columns: None,
            thresholds: BTreeMap::new(),
            drift_share: 0.5,
            small_sample: 1000,
        }
    }
}

impl DriftOptions {
    fn threshold(&self, t: Test) -> f64 {
        self.thresholds.get(&t).copied().unwrap_or_else(|| t.default_threshold())
    }

    /// Applies one `NAME=VALUE` threshold (the CLI's `--threshold`, the server's `threshold=`):
    /// a test's (a p-value for ks and chi2, a distance for the others) or `share`, the share of
    /// drifted columns at which the dataset drifts. The error names `t` and what was expected.
    pub fn set_threshold(&mut self, t: &str) -> Result<(), String> {
        let Some((name, value)) = t.split_once('=') else {
            return Err(format!("{t:?}: expected NAME=VALUE (ks=0.01, psi=0.2, share=0.3, …)"));
        };
        let value: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("{t:?}: the value must be a number >= 0"))?;
        match name.trim() {
            "share" => self.drift_share = value,
            n => {
                let test: Test = n.parse().map_err(|e| format!("{t:?}: {e}"))?;
                if test == Test::Auto {
                    return Err(format!("{t:?}: name a test (ks, chi2, wasserstein, js, psi), not auto"));
                }
                self.thresholds.insert(test, value);
            }
        }
        Ok(())
    }
}

/// PSI's customary bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsiBand {
    /// Below 0.1.
    None,
    /// 0.1 to 0.2.
    Moderate,
    /// 0.2 and above.
    Major,
}

/// One column's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    pub column: String,
    pub ref_dtype: Option<DType>,
    pub cur_dtype: Option<DType>,
    /// The test run (`None`: not tested, `notes` say why).
    pub test: Option<Test>,
    /// Why this test: the user's choice, or `auto`'s reasoning.
    pub reason: String,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub threshold: Option<f64>,
    pub drift: Option<bool>,
    /// Both sides exact: the statistic is the data's own.
    pub exact: bool,
    /// Bound on the statistic's error when a side is sketched (see the module doc).
    pub error_bound: Option<f64>,
    /// The raw Wasserstein distance, for `wasserstein`.
    pub wasserstein: Option<f64>,
    pub psi_band: Option<PsiBand>,
    /// Values tested on each side.
    pub ref_n: u64,
    pub cur_n: u64,
    pub notes: Vec<String>,
}

/// The result for two profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub columns: Vec<ColumnDrift>,
    pub tested: usize,
    pub drifted: usize,
    /// `drifted / tested` (`None` when nothing could be tested).
    pub share: Option<f64>,
    pub drift_share: f64,
    /// The dataset's verdict: `share >= drift_share`.
    pub drift: bool,
}

/// Tests every column of `reference` (or those in `options.columns`) against `current`.
pub fn drift(reference: &Profile, current: &Profile, options: &DriftOptions) -> DriftReport {
    let names: Vec<String> = match &options.columns {
        Some(cols) => cols.clone(),
        None => {
            let mut n: Vec<String> = reference.columns.iter().map(|c| c.name.clone()).collect();
            n.extend(current.columns.iter().filter(|c| reference.column(&c.name).is_none()).map(|c| c.name.clone()));
            n
        }
    };
    let columns: Vec<ColumnDrift> =
        names.iter().map(|n| column_drift(n, reference.column(n), current.column(n), options)).collect();
    let tested = columns.iter().filter(|c| c.drift.is_some()).count();
    let drifted = columns.iter().filter(|c| c.drift == Some(true)).count();
    let share = (tested > 0).then(|| drifted as f64 / tested as f64);
    DriftReport {
        columns,
        tested,
        drifted,
        share,
        drift_share: options.drift_share,
        drift: share.is_some_and(|s| s >= options.drift_share),
    }
}

fn untested(name: &str, r: Option<&ColumnProfile>, c: Option<&ColumnProfile>, note: String) -> ColumnDrift {
    ColumnDrift {
        column: name.to_owned(),
        ref_dtype: r.map(|x| x.dtype),
        cur_dtype: c.map(|x| x.dtype),
        test: None,
        reason: String::new(),
        statistic: None,
        p_value: None,
        threshold: None,
        drift: None,
        exact: false,
        error_bound: None,
        wasserstein: None,
        psi_band: None,
        ref_n: 0,
        cur_n: 0,
        notes: vec![note],
    }
}

fn column_drift(name: &str, r: Option<&ColumnProfile>, c: Option<&ColumnProfile>, o: &DriftOptions) -> ColumnDrift {
    let (Some(rp), Some(cp)) = (r, c) else {
        let side = if r.is_none() { "reference" } else { "current" };
        return untested(name, r, c, format!("no column {name:?} in the {side} profile"));
    };
    match (&rp.summary, &cp.summary) {
        (Summary::Empty, _) => untested(name, r, c, "the reference has no non-null values".into()),
        (_, Summary::Empty) => untested(name, r, c, "the current data has no non-null values".into()),
        (Summary::Numeric(a), Summary::Numeric(b)) => numeric_drift(name, rp, cp, a, b, o),
        (Summary::Categorical(a), Summary::Categorical(b)) => categorical_drift(name, rp, cp, a, b, o),
        _ => untested(
            name,
            r,
            c,
            format!("types differ: {} in the reference, {} in the current data", rp.dtype, cp.dtype),
        ),
    }
}

fn base(
    name: &str,
    rp: &ColumnProfile,
    cp: &ColumnProfile,
    test: Test,
    reason: String,
    o: &DriftOptions,
) -> ColumnDrift {
    ColumnDrift {
        test: Some(test),
        reason,
        threshold: Some(o.threshold(test)),
        notes: Vec::new(),
        ..untested(name, Some(rp), Some(cp), String::new())
    }
}

fn verdict(d: &mut ColumnDrift) {
    let (Some(test), Some(t)) = (d.test, d.threshold) else { return };
    d.drift = if test.uses_p_value() { d.p_value.map(|p| p < t) } else { d.statistic.map(|s| s >= t) };
    if test == Test::Psi {
        d.psi_band = d.statistic.map(|s| {
            if s < 0.1 {
                PsiBand::None
            } else if s < 0.2 {
                PsiBand::Moderate
            } else {
                PsiBand::Major
            }
        });
    }
}

/// Distinct finite values over both sides: exact when both are, else the larger estimate.
fn union_distinct(a: &NumericStats, b: &NumericStats) -> f64 {
    if a.is_exact() && b.is_exact() {
        let (wa, wb) = (a.weighted(), b.weighted());
        let mut v: Vec<f64> = wa.points.iter().chain(&wb.points).map(|p| p.0).collect();
        v.sort_unstable_by(f64::total_cmp);
        v.dedup();
        v.len() as f64
    } else {
        a.distinct().max(b.distinct())
    }
}

fn numeric_drift(
    name: &str,
    rp: &ColumnProfile,
    cp: &ColumnProfile,
    a: &NumericStats,
    b: &NumericStats,
    o: &DriftOptions,
) -> ColumnDrift {
    let (na, nb) = (a.finite, b.finite);
    let (test, reason) = if o.test == Test::Auto {
        let distinct = union_distinct(a, b);
        let small = na <= o.small_sample;
        let few = distinct <= 5.0;
        let t = match (small, few) {
            (true, true) => Test::Chi2,
            (true, false) => Test::Ks,
            (false, true) => Test::Js,
            (false, false) => Test::Wasserstein,
        };
        let size = if small { "at most" } else { "more than" };
        let kinds = if few { "at most 5" } else { "more than 5" };
        (t, format!("auto: numeric, reference has {na} values ({size} {}), {kinds} distinct", o.small_sample))
    } else {
        (o.test, "chosen".to_owned())
    };
    let mut d = base(name, rp, cp, test, reason, o);
    d.ref_n = na;
    d.cur_n = nb;
    for (side, s) in [("reference", a), ("current data", b)] {
        if s.nan + s.pos_inf + s.neg_inf > 0 {
            d.notes.push(format!(
                "the {side} has {} NaN, {} +inf, {} -inf (left out of the test)",
                s.nan, s.pos_inf, s.neg_inf
            ));
        }
    }
    if na == 0 || nb == 0 {
        d.notes.push("no finite values on one side".into());
        d.threshold = None;
        return d;
    }
    let (wa, wb) = (a.weighted(), b.weighted());
    d.exact = wa.rank_error == 0.0 && wb.rank_error == 0.0;
    match test {
        Test::Ks => {
            let (stat, _) = ks_statistic(&wa, &wb);
            if d.exact {
                let p = ks_p(stat, na, nb);
                d.statistic = Some(p.d);
                d.p_value = Some(p.p);
                if !p.exact {
                    d.notes
                        .push("p-value from the asymptotic distribution (a sample has more than 10000 values)".into());
                }
            } else {
                // Sketched: the statistic is approximate, so the exact lattice p-value would
                // claim a precision it lacks; the asymptotic one at the true sizes is used.
                d.statistic = Some(stat);
                d.p_value = Some(ks_p_asymptotic(stat, na, nb));
                d.error_bound = Some(wa.rank_error + wb.rank_error);
            }
        }
        Test::Wasserstein => {
            let w = wasserstein(&wa, &wb);
            let norm = a.std_population().unwrap_or(0.0).max(0.001);
            d.wasserstein = Some(w);
            d.statistic = Some(w / norm);
            if !d.exact {
                let lo = a.min.unwrap_or(0.0).min(b.min.unwrap_or(0.0));
                let hi = a.max.unwrap_or(0.0).max(b.max.unwrap_or(0.0));
                d.error_bound = Some((wa.rank_error + wb.rank_error) * (hi - lo) / norm);
            }
        }
        Test::Chi2 | Test::Js | Test::Psi => {
            let binned = if test == Test::Chi2 {
                if !d.exact {
                    d.notes.push(
                        "chi-square needs exact counts; this column is sketched (use ks, wasserstein, js or psi)"
                            .into(),
                    );
                    d.threshold = None;
                    return d;
                }
                value_bins(&wa, &wb)
            } else if a.distinct() > 20.0 {
                sturges_bins(&wa, &wb, a, b)
            } else {
                value_bins(&wa, &wb)
            };
            if !d.exact && test != Test::Chi2 {
                d.notes.push(format!(
                    "sketched: each bin's share is within ±{:.4} (reference) and ±{:.4} (current)",
                    wa.pmf_error, wb.pmf_error
                ));
            }
            apply_counts(&mut d, test, &binned.0, &binned.1, na, nb);
        }
        Test::Auto => unreachable!("resolved above"),
    }
    verdict(&mut d);
    d
}

fn categorical_drift(
    name: &str,
    rp: &ColumnProfile,
    cp: &ColumnProfile,
    a: &CategoricalStats,
    b: &CategoricalStats,
    o: &DriftOptions,
) -> ColumnDrift {
    let (na, nb) = (a.total, b.total);
    let (test, reason) = if o.test == Test::Auto {
        let t = if na <= o.small_sample { Test::Chi2 } else { Test::Js };
        let size = if na <= o.small_sample { "at most" } else { "more than" };
        (t, format!("auto: categorical, reference has {na} values ({size} {})", o.small_sample))
    } else {
        (o.test, "chosen".to_owned())
    };
    let mut d = base(name, rp, cp, test, reason, o);
    d.ref_n = na;
    d.cur_n = nb;
    if matches!(test, Test::Ks | Test::Wasserstein) {
        d.notes.push(format!("{} needs numbers; this column is categorical (use chi2, js or psi)", test.name()));
        d.threshold = None;
        return d;
    }
    let (ca, cb) = match (a.counts(), b.counts()) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => {
            d.notes.push(e.to_string());
            d.threshold = None;
            return d;
        }
    };
    d.exact = a.is_exact() && b.is_exact();
    let mut keys: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (k, v) in &ca.items {
        keys.entry(k).or_default().0 = *v;
    }
    for (k, v) in &cb.items {
        keys.entry(k).or_default().1 = *v;
    }
    if !d.exact {
        // A frequent-items sketch lists heavy hitters and noise alike, and a category it does
        // not list may still hold up to its maximum error: comparing listed counts as they are
        // makes two samples of one many-category distribution look drifted (JS 0.53 against
        // the data's own 0.05). So a category is a bin only where its share on either side is
        // ten times the largest sketch error share (its count is then known within 10%, and
        // every sketched side holding it as often lists it); everything else is one bin.
        let share = |c: &crate::Counts| 10.0 * c.max_error as f64 / c.total.max(1) as f64;
        let floor = [(a.is_exact(), &ca), (b.is_exact(), &cb)]
            .iter()
            .filter(|(exact, _)| !exact)
            .map(|(_, c)| share(c))
            .fold(0.0, f64::max);
        keys.retain(|_, (x, y)| *x as f64 / na.max(1) as f64 > floor || *y as f64 / nb.max(1) as f64 > floor);
    }
    let (mut ra, mut rb): (Vec<u64>, Vec<u64>) = keys.values().copied().unzip();
    let (other_a, other_b) = (na.saturating_sub(ra.iter().sum()), nb.saturating_sub(rb.iter().sum()));
    if other_a > 0 || other_b > 0 {
        ra.push(other_a);
        rb.push(other_b);
    }
    if !d.exact {
        d.notes.push(format!(
            "sketched: {} categories frequent enough to count within 10% are bins, the rest one bin; counts within ±{} (reference) and ±{} (current)",
            keys.len(),
            ca.max_error,
            cb.max_error
        ));
    }
    let new: Vec<&str> = keys.iter().filter(|(_, v)| v.0 == 0).map(|(k, _)| *k).take(5).collect();
    if d.exact && !new.is_empty() {
        d.notes.push(format!("categories not in the reference: {}", new.join(", ")));
    }
    apply_counts(&mut d, test, &ra, &rb, na, nb);
    verdict(&mut d);
    d
}

/// Fills in chi-square, JS or PSI from two rows of bin counts.
fn apply_counts(d: &mut ColumnDrift, test: Test, ra: &[u64], rb: &[u64], na: u64, nb: u64) {
    match test {
        Test::Chi2 => {
            let (stat, p) = chi2_contingency(ra, rb);
            d.statistic = Some(stat);
            d.p_value = Some(p);
        }
        Test::Js | Test::Psi => {
            let pa = fill_zeroes(ra.iter().map(|&c| c as f64 / na as f64).collect());
            let pb = fill_zeroes(rb.iter().map(|&c| c as f64 / nb as f64).collect());
            d.statistic = Some(if test == Test::Js { jensen_shannon(&pa, &pb) } else { psi(&pa, &pb) });
        }
        _ => {}
    }
}

/// `sup |F_a - F_b|` over all values (and where it is reached).
pub fn ks_statistic(a: &Weighted, b: &Weighted) -> (f64, f64) {
    let (na, nb) = (a.total as f64, b.total as f64);
    let (mut i, mut j, mut ca, mut cb) = (0, 0, 0u64, 0u64);
    let (mut max_s, mut min_s, mut at_max, mut at_min) = (f64::NEG_INFINITY, f64::INFINITY, 0.0, 0.0);
    while i < a.points.len() || j < b.points.len() {
        let x = match (a.points.get(i), b.points.get(j)) {
            (Some(p), Some(q)) => p.0.min(q.0),
            (Some(p), None) => p.0,
            (None, Some(q)) => q.0,
            (None, None) => unreachable!(),
        };
        while i < a.points.len() && a.points[i].0 == x {
            ca += a.points[i].1;
            i += 1;
        }
        while j < b.points.len() && b.points[j].0 == x {
            cb += b.points[j].1;
            j += 1;
        }
        let diff = ca as f64 / na - cb as f64 / nb;
        if diff > max_s {
            (max_s, at_max) = (diff, x);
        }
        if diff < min_s {
            (min_s, at_min) = (diff, x);
        }
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s { (min_s, at_min) } else { (max_s, at_max) }
}

/// The 1-Wasserstein distance between two weighted samples: `∫ |F_a - F_b|`.
pub fn wasserstein(a: &Weighted, b: &Weighted) -> f64 {
    let (na, nb) = (a.total as f64, b.total as f64);
    let (mut i, mut j, mut ca, mut cb) = (0, 0, 0u64, 0u64);
    let mut prev: Option<(f64, f64)> = None;
    let mut sum = 0.0;
    while i < a.points.len() || j < b.points.len() {
        let x = match (a.points.get(i), b.points.get(j)) {
            (Some(p), Some(q)) => p.0.min(q.0),
            (Some(p), None) => p.0,
            (None, Some(q)) => q.0,
            (None, None) => unreachable!(),
        };
        if let Some((px, pd)) = prev {
            sum += pd * (x - px);
        }
        while i < a.points.len() && a.points[i].0 == x {
            ca += a.points[i].1;
            i += 1;
        }
        while j < b.points.len() && b.points[j].0 == x {
            cb += b.points[j].1;
            j += 1;
        }
        prev = Some((x, (ca as f64 / na - cb as f64 / nb).abs()));
    }
    sum
}

/// Every distinct value a bin: the two rows of counts.
fn value_bins(a: &Weighted, b: &Weighted) -> (Vec<u64>, Vec<u64>) {
    let mut keys: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let key = |x: f64| {
        // Order-preserving bits, so the map iterates in value order.
        let bits = x.to_bits();
        if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
    };
    for &(v, w) in &a.points {
        keys.entry(key(v)).or_default().0 += w;
    }
    for &(v, w) in &b.points {
        keys.entry(key(v)).or_default().1 += w;
    }
    keys.values().copied().unzip()
}

/// numpy's `histogram_bin_edges(concat(a, b), bins="sturges")`.
pub fn sturges_edges(lo: f64, hi: f64, n: u64) -> Vec<f64> {
    let width = (hi - lo) / ((n as f64).log2() + 1.0);
    let (first, last) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    let bins = if width != 0.0 { ((last - first) / width).ceil() as usize } else { 1 }.max(1);
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + first).collect();
    edges[bins] = last;
    edges
}

/// Counts per Sturges bin as `numpy.histogram` assigns them (last bin closed).
fn sturges_bins(a: &Weighted, b: &Weighted, sa: &NumericStats, sb: &NumericStats) -> (Vec<u64>, Vec<u64>) {
    let lo = sa.min.unwrap_or(0.0).min(sb.min.unwrap_or(0.0));
    let hi = sa.max.unwrap_or(0.0).max(sb.max.unwrap_or(0.0));
    let edges = sturges_edges(lo, hi, sa.finite + sb.finite);
    (histogram(a, &edges), histogram(b, &edges))
}

fn histogram(w: &Weighted, edges: &[f64]) -> Vec<u64> {
    let bins = edges.len() - 1;
    let mut counts = vec![0u64; bins];
    for &(v, c) in &w.points {
        // The bin i with edges[i] <= v < edges[i + 1]; the top edge belongs to the last bin.
        let i = edges.partition_point(|&e| e <= v);
        let i = i.saturating_sub(1).min(bins - 1);
        counts[i] += c;
    }
    counts
}

/// Evidently's `feel_zeroes`: empty bins get 0.0001, or a millionth of the smallest non-empty
/// share when that is at most 0.0001.
fn fill_zeroes(mut p: Vec<f64>) -> Vec<f64> {
    let smallest = p.iter().copied().filter(|&x| x != 0.0).fold(f64::INFINITY, f64::min);
    if smallest.is_finite() {
        let fill = if smallest <= 0.0001 { smallest / 1e6 } else { 0.0001 };
        p.iter_mut().filter(|x| **x == 0.0).for_each(|x| *x = fill);
    }
    p
}

/// `scipy.spatial.distance.jensenshannon(p, q)`: both normalized, natural log.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    let rel = |x: f64, y: f64| if x > 0.0 { x * (x / y).ln() } else { 0.0 };
    let mut left = 0.0;
    let mut right = 0.0;
    for (&x, &y) in p.iter().zip(q) {
        let (x, y) = (x / sp, y / sq);
        let m = (x + y) / 2.0;
        left += rel(x, m);
        right += rel(y, m);
    }
    ((left + right) / 2.0).max(0.0).sqrt()
}

/// The population stability index of shares `r` (reference) and `c` (current).
pub fn psi(r: &[f64], c: &[f64]) -> f64 {
    r.iter().zip(c).map(|(&r, &c)| (r - c) * (r / c).ln()).sum()
}

/// `scipy.stats.chi2_contingency` on the 2 × k table with rows `a` and `b` (Yates' correction
/// when k = 2): the statistic and its p-value.
pub fn chi2_contingency(a: &[u64], b: &[u64]) -> (f64, f64) {
    let k = a.len();
    if k < 2 {
        return (0.0, 1.0);
    }
    let (ta, tb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
    let total = ta + tb;
    let mut stat = 0.0;
    for i in 0..k {
        let col = (a[i] + b[i]) as f64;
        for (obs, row) in [(a[i] as f64, ta), (b[i] as f64, tb)] {
            let exp = row * col / total;
            let mut o = obs;
            if k == 2 {
                let diff = exp - obs;
                o += diff.abs().min(0.5) * diff.signum();
            }
            stat += (o - exp) * (o - exp) / exp;
        }
    }
    let dof = (k - 1) as f64;
    let p =
        statrs::function::gamma::checked_gamma_ur(dof / 2.0, stat / 2.0).unwrap_or(if stat == 0.0 { 1.0 } else { 0.0 });
    (stat, p)
}
