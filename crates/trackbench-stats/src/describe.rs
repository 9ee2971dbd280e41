//! One group's summary: n, mean, sample standard deviation, median, range, standard error.

use serde::Serialize;

use crate::sample::{Moments, Prepared, common_scale, prepare, scaled};
use crate::{Group, StatsError};

/// Summary of one group's values, NaN excluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of values used (NaN excluded).
    pub n: usize,
    /// Number of NaN values dropped.
    pub excluded_nan: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); `None` for a single value.
    pub std: Option<f64>,
    /// Median (the mean of the two middle values for even n).
    pub median: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Standard error of the mean, `std / sqrt(n)`; `None` for a single value.
    pub sem: Option<f64>,
    /// Anything a reader should know, e.g. that NaN values were dropped.
    pub note: Option<String>,
}

/// Summarises `xs`: NaN values are excluded and counted; at least one finite value is needed and
/// infinities are refused.
pub fn describe(xs: &[f64]) -> Result<Summary, StatsError> {
    Ok(summarize(&prepare(xs, Group::Sample, 1)?))
}

/// The summary of an already prepared (finite, non-empty) group.
pub(crate) fn summarize(p: &Prepared) -> Summary {
    let xs = &p.values;
    let n = xs.len();
    let scale = common_scale(&[xs]);
    let m = Moments::of(&scaled(xs, scale));
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let (min, max) = (sorted[0], sorted[n - 1]);
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        // Halving first cannot overflow and rounds exactly like (x + y) / 2.
        0.5 * sorted[n / 2 - 1] + 0.5 * sorted[n / 2]
    };
    let std = (n >= 2).then(|| m.var.sqrt() * scale);
    let note = (p.excluded_nan > 0)
        .then(|| format!("{} NaN value(s) excluded; statistics use the remaining {n}", p.excluded_nan));
    Summary {
        n,
        excluded_nan: p.excluded_nan,
        mean: m.mean * scale,
        std,
        median,
        min,
        max,
        sem: std.map(|s| s / (n as f64).sqrt()),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_value_has_no_spread() {
        let s = describe(&[f64::NAN, 2.5]).unwrap();
        assert_eq!((s.n, s.excluded_nan, s.mean, s.median, s.std, s.sem), (1, 1, 2.5, 2.5, None, None));
        assert!(s.note.unwrap().contains("1 NaN"));
    }

    #[test]
    fn refuses_empty_and_infinite_input() {
        let too_few = StatsError::TooFewValues { group: Group::Sample, n: 0, needed: 1, excluded_nan: 2 };
        assert_eq!(describe(&[f64::NAN, f64::NAN]), Err(too_few));
        assert_eq!(
            describe(&[1.0, f64::NEG_INFINITY]),
            Err(StatsError::InfiniteValue { group: Group::Sample, index: 1 })
        );
    }

    #[test]
    fn huge_values_do_not_overflow_the_mean() {
        let s = describe(&[1.5e308, 1.7e308]).unwrap();
        assert_eq!(s.mean, 1.6e308);
        assert!(s.std.unwrap().is_finite());
    }
}
